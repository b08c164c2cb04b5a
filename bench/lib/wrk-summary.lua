-- wrk script for throughput runs: no per-request Lua (wrk sends one pre-built request), only
-- done() printing the figures as one JSON line that bench/lib/wrk.ts reads back.

function done(summary, latency, requests)
  local n = summary.requests
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    n, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status,
    n > 0 and latency:percentile(50) or 0, n > 0 and latency:percentile(99) or 0, n > 0 and latency.max or 0))
end
