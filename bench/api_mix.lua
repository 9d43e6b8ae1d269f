-- wrk script: the mix a portal sees, READ_PERCENT (default 90) audited
-- reads by identifier (as api_read.lua) and the rest subject creates (as
-- api_create.lua, numbered as it numbers RUN + 30).
-- wrk reports one latency for the whole mix; done() prints the rate of
-- each kind from the requests each thread made of it.
local token = os.getenv("VAERN_TOKEN")
local subjects = tonumber(os.getenv("SUBJECTS") or "20000")
local run = tonumber(os.getenv("RUN") or "0")
local read_percent = tonumber(os.getenv("READ_PERCENT") or "90")
local threads = {}
local counter = 0
reads, creates = 0, 0

function setup(thread)
  thread:set("tid", #threads)
  thread:set("seed", math.random(1, 1000000))
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed or os.time())
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if math.random(1, 100) <= read_percent then
    reads = reads + 1
    local i = math.random(0, subjects - 1)
    return wrk.format(nil, "/v1/subjects/lookup", nil,
      '{"type":"email","value":"person' .. i ..
      '@example.dk","purpose":"customer_admin"}')
  end
  creates = creates + 1
  counter = counter + 1
  local n = ((run + 30) * 2 + tid) * 500000 + counter
  return wrk.format(nil, "/v1/subjects", nil,
    '{"purpose":"customer_admin","facts":[' ..
    '{"category":"name","value":"Bench Person"},' ..
    '{"category":"email","value":"mix' .. n .. '@bench.dk"},' ..
    '{"category":"phone","value":"+45' .. string.format("%08d", 30000000 + n) .. '"},' ..
    '{"category":"address","value":"Benchvej 1, 8000 Aarhus C"}]}')
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect +
              summary.errors.read + summary.errors.write + summary.errors.timeout
  local r, c = 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("reads")
    c = c + t:get("creates")
  end
  local s = summary.duration / 1e6
  -- Requests sent but not answered at the end are counted by kind, not
  -- by wrk; scale the kinds to the requests wrk saw answered.
  local k = (r + c) > 0 and summary.requests / (r + c) or 0
  io.write(string.format("RESULT mix/s %.0f p50_ms %.2f p99_ms %.2f errors %d reads/s %.0f creates/s %.0f\n",
    summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, bad, r * k / s, c * k / s))
end
