-- Loads one endpoint for bench/run.sh. GET by default (headers come from wrk -H); with
-- BENCH_BODY set, POSTs that JSON body. With BENCH_SPREAD_IP=<n> set, every request comes from
-- an address of its own, X-Forwarded-For 10.<n + thread>.x.y (the servers believe it from
-- loopback), as many clients signing in would: a rate limit per address counts each request once
-- and refuses none. done() prints one machine-readable line:
--   RESULT <requests> <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local spread = tonumber(os.getenv("BENCH_SPREAD_IP") or "")
if spread then
  local threads = 0
  setup = function(thread)
    threads = threads + 1
    thread:set("id", threads)
  end
  local n = 0
  request = function()
    n = n + 1
    -- id is the global setup gave this thread's state.
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", (spread + id) % 256, math.floor(n / 256) % 256, n % 256)
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %.2f %.2f %d %d\n",
    summary.requests,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.status,
    e.connect + e.read + e.write + e.timeout))
end
