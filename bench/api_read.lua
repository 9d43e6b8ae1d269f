-- wrk script: a purpose-bound read by identifier, audited.
-- POST /v1/subjects/lookup for a random subject of the loaded set
-- (person<i>@example.dk, 0 <= i < SUBJECTS), purpose customer_admin.
local token = os.getenv("VAERN_TOKEN")
local subjects = tonumber(os.getenv("SUBJECTS") or "20000")

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local i = math.random(0, subjects - 1)
  local body = '{"type":"email","value":"person' .. i ..
               '@example.dk","purpose":"customer_admin"}'
  return wrk.format(nil, "/v1/subjects/lookup", nil, body)
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect +
              summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT reads/s %.0f p50_ms %.2f p99_ms %.2f errors %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
