-- wrk script (scripts/bench-portal, issue 16): a logged-in portal page,
-- GET PAGE with the session cookie of a random one of the sessions in
-- SESSIONS (one a line).
local page = os.getenv("PAGE")
local file = os.getenv("SESSIONS")
local sessions = {}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
  for line in io.lines(file) do
    if #line > 0 then sessions[#sessions + 1] = line end
  end
end

function request()
  local s = sessions[math.random(1, #sessions)]
  return wrk.format("GET", page, {["Cookie"] = "__Host-vaern_session=" .. s})
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect +
              summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT pages/s %.0f p50_ms %.2f p99_ms %.2f errors %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
