-- wrk script: print the 95th percentile latency (microseconds) and the error counts,
-- in a form benchmarks/run.py parses. wrk's --latency only prints 50/75/90/99.
done = function(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
  io.write(string.format("requests %d\n", summary.requests))
  local e = summary.errors
  io.write(string.format("errors %d\n", e.connect + e.read + e.write + e.status + e.timeout))
end
