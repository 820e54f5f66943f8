-- Loads one endpoint for bench/run.sh. GET by default (headers come from wrk -H); with
-- BENCH_BODY set, POSTs that JSON body. done() prints one machine-readable line:
--   RESULT <requests> <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
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
