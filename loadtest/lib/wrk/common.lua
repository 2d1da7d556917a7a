-- Shared logic of the harness's wrk scripts (postback.lua, click.lua, health.lua); each wrk thread
-- has its own Lua state and loads this module itself.
--
-- Script arguments (after wrk's "--") are key=value pairs:
--   out=PATH     PATH.start (monotonic ms when sending began, written once) and PATH.buckets
--                (successes per 10 ms of CLOCK_MONOTONIC, merged over threads) are written here;
--                the harness samples /proc over a window of the same clock and counts exactly the
--                successes answered inside that window
--   send=S       send new requests for S seconds after the first one, then park every connection
--                once its last response is in (the "drain": give wrk a -d a little longer than S),
--                so nothing is in flight when wrk stops and row counts can be compared exactly
--   rate=R       at most R requests per second in total (0 = as fast as the connections allow);
--                a per-thread schedule of send slots, so the load is open-loop while connections last
--   threads=T    wrk's -t (rate and file slices are split over threads)
--
-- done() prints one machine-readable line, parsed by the harness:
--   LT_RESULT sent=.. responses=.. ok=.. bad=.. non_ok=.. unanswered=.. exhausted=.. statuses=..
-- plus script-specific counters; "ok" is what the script counts as success.

local ffi = require("ffi")
pcall(ffi.cdef, [[
  typedef struct { long tv_sec; long tv_nsec; } lt_timespec;
  int clock_gettime(int clk_id, lt_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local tsbuf = ffi.new("lt_timespec")

local M = {}
local PARK_MS = 3600 * 1000
local BUCKET_MS = 10

function M.now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, tsbuf)
   return tonumber(tsbuf.tv_sec) * 1000 + tonumber(tsbuf.tv_nsec) / 1e6
end

function M.parse_args(args)
   local o = {}
   for _, a in ipairs(args) do
      local k, v = a:match("^([%w_]+)=(.*)$")
      if not k then error("argument '" .. a .. "' is not key=value") end
      o[k] = v
   end
   return o
end

-- per-thread state; globals are what done() reads back with thread:get()
local opts, cutoff, send_ms, slot_ms, next_slot
sent, responses, ok, bad, exhausted = 0, 0, 0, 0, 0
statuses = {}   -- [status] = count
buckets = {}    -- [floor(monotonic ms / 10)] = successes answered in that slice
tid = tid or 0
M.limit = nil   -- a script may set the number of requests this thread may send (nil = unlimited)

function M.init(args)
   opts = M.parse_args(args)
   lt_out = opts.out -- read back by done(), which runs in wrk's main Lua state (no init() there)
   send_ms = (tonumber(opts.send) or 0) * 1000
   local rate, threads = tonumber(opts.rate) or 0, tonumber(opts.threads) or 1
   slot_ms = rate > 0 and 1000 * threads / rate or 0
   return opts
end

-- 0 = send now; PARK_MS = nothing more on this connection. Called before every request.
function M.delay()
   local now = M.now_ms()
   if not cutoff then
      cutoff = send_ms > 0 and now + send_ms or math.huge
      next_slot = now
      if tid == 0 and opts.out then
         local f = assert(io.open(opts.out .. ".start", "w"))
         f:write(string.format("%.3f\n", now))
         f:close()
      end
   end
   if now >= cutoff then return PARK_MS end
   if M.limit and sent >= M.limit then
      exhausted = 1
      return PARK_MS
   end
   local wait = 0
   if slot_ms > 0 then
      local slot = math.max(next_slot, now)
      next_slot = slot + slot_ms
      wait = slot - now
      if slot >= cutoff then return PARK_MS end
   end
   sent = sent + 1
   return wait
end

function M.started() return cutoff ~= nil end

-- Records one response; success says whether the script counts it as ok.
function M.record(status, success)
   responses = responses + 1
   statuses[status] = (statuses[status] or 0) + 1
   if success then
      ok = ok + 1
      local b = math.floor(M.now_ms() / BUCKET_MS)
      buckets[b] = (buckets[b] or 0) + 1
   end
end

M.threads = {}
function M.setup(thread)
   thread:set("tid", #M.threads)
   table.insert(M.threads, thread)
end

-- Merges the threads' counters, writes PATH.buckets, prints the LT_RESULT line. extra = names of
-- further numeric globals to sum over threads.
function M.done(summary, latency, extra)
   local t = { sent = 0, responses = 0, ok = 0, bad = 0, exhausted = 0 }
   for _, k in ipairs(extra or {}) do t[k] = 0 end
   local all, merged = {}, {}
   for _, thread in ipairs(M.threads) do
      for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
      for code, n in pairs(thread:get("statuses")) do all[code] = (all[code] or 0) + n end
      for b, n in pairs(thread:get("buckets")) do merged[b] = (merged[b] or 0) + n end
   end
   local out = M.threads[1] and M.threads[1]:get("lt_out")
   if out then
      local keys = {}
      for b in pairs(merged) do table.insert(keys, b) end
      table.sort(keys)
      local f = assert(io.open(out .. ".buckets", "w"))
      for _, b in ipairs(keys) do f:write(string.format("%d %d\n", b * BUCKET_MS, merged[b])) end
      f:close()
   end
   local codes, list = {}, {}
   for code in pairs(all) do table.insert(codes, code) end
   table.sort(codes)
   for _, code in ipairs(codes) do table.insert(list, code .. ":" .. all[code]) end
   local e = summary.errors
   local fields = {}
   for k, v in pairs(t) do table.insert(fields, k .. "=" .. v) end
   table.sort(fields)
   io.write(string.format("LT_RESULT %s non_ok=%d unanswered=%d p50_us=%d p99_us=%d err_connect=%d err_read=%d"
      .. " err_write=%d err_timeout=%d statuses=%s\n",
      table.concat(fields, " "), t.responses - t.ok, t.sent - t.responses, latency:percentile(50),
      latency:percentile(99), e.connect, e.read, e.write, e.timeout, #list > 0 and table.concat(list, ",") or "none"))
end

return M
