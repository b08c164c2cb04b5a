-- wrk script for runs that count visits. wrk stops in the middle of requests in flight, whose
-- visits Redis may have counted while wrk never sees the answer; so for the first part of the run
-- every connection asks for visits (`x-request-id: bench-visit`), and for the last `drain` ms it asks
-- a path that counts nothing. Every visit request is then answered before wrk stops, and the
-- counter must have grown by exactly the number of 2xx visit answers counted here.
-- Defining response() makes wrk build a Lua table per answer, which roughly halves what one
-- wrk thread can drive: throughput rows use wrk-summary.lua, this script checks exactness.
-- Arguments (after --): visit phase in ms, drain path.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Globals, so that done() can read them from each thread with thread:get().
sent, ok, failed, drains = 0, 0, 0, 0
local visit_request, drain_request, deadline

function init(args)
  visit_request = wrk.format("GET", wrk.path, { ["x-request-id"] = "bench-visit" })
  drain_request = wrk.format("GET", args[2], { ["x-request-id"] = "bench-drain" })
  deadline = now_ms() + tonumber(args[1])
end

function request()
  if now_ms() < deadline then
    sent = sent + 1
    return visit_request
  end
  return drain_request
end

function response(status, headers, body)
  local id = headers["x-request-id"] or headers["X-Request-Id"] or headers["X-Request-ID"]
  if id == "bench-visit" then
    if status >= 200 and status < 300 then ok = ok + 1 else failed = failed + 1 end
  else
    drains = drains + 1
  end
end

function done(summary, latency, requests)
  local s, o, f, d = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    s = s + thread:get("sent")
    o = o + thread:get("ok")
    f = f + thread:get("failed")
    d = d + thread:get("drains")
  end
  -- wrk calls request() once more on the first thread's state, to check the script, before the run.
  s = s - 1
  local n = summary.requests
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"visitsSent":%d,"visitsOk":%d,"visitsFailed":%d,"drains":%d}\n',
    n, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status,
    n > 0 and latency:percentile(50) or 0, n > 0 and latency:percentile(99) or 0, n > 0 and latency.max or 0,
    s, o, f, d))
end
