-- wrk script (scripts/bench-portal, issue 16): the API read of the data
-- the portal's overview shows, GET /v1/subjects/{id}/facts?purpose=
-- self_service for a random subject of SUBJECTS, by customer service.
local token = os.getenv("VAERN_TOKEN")
local file = os.getenv("SUBJECTS")
local subjects = {}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
  for line in io.lines(file) do
    if #line > 0 then subjects[#subjects + 1] = line end
  end
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local s = subjects[math.random(1, #subjects)]
  return wrk.format("GET", "/v1/subjects/" .. s .. "/facts?purpose=self_service")
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect +
              summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT pages/s %.0f p50_ms %.2f p99_ms %.2f errors %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
