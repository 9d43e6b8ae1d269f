-- wrk script: subject creates, each with a unique e-mail and phone.
-- RUN (0..44: scripts/bench-api uses 0..14 alone, 15..29 beside reads,
-- 30..44 for api_mix.lua) tells runs on one data directory apart: each
-- thread of each run numbers its subjects in a range of its own (500,000;
-- the phone numbers stay 8 digits).
local token = os.getenv("VAERN_TOKEN")
local run = tonumber(os.getenv("RUN") or "0")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = (run * 2 + tid) * 500000 + counter
  local body = '{"purpose":"customer_admin","facts":[' ..
    '{"category":"name","value":"Bench Person"},' ..
    '{"category":"email","value":"new' .. n .. '@bench.dk"},' ..
    '{"category":"phone","value":"+45' .. string.format("%08d", 30000000 + n) .. '"},' ..
    '{"category":"address","value":"Benchvej 1, 8000 Aarhus C"}]}'
  return wrk.format(nil, "/v1/subjects", nil, body)
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect +
              summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT creates/s %.0f p50_ms %.2f p99_ms %.2f errors %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
