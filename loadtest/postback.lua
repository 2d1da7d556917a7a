-- wrk script: signed postbacks from a pre-generated request file (see GenRequests.java).
--
--   wrk -t2 -c64 -d22s --latency -s loadtest/postback.lua http://127.0.0.1:8089 \
--       -- <reqfile> <surfaceId> <threads> [<sendSeconds>]
--
-- <reqfile> has fixed-length lines "<ts>\t<sig>\t<body>\n". Thread k (0-based) of T reads only its
-- contiguous slice [floor(total*k/T), floor(total*(k+1)/T)) in init(), so no externalId is sent
-- twice. Each request is built with wrk.format() when it is sent.
--
-- Drain: with <sendSeconds> > 0 each thread sends new requests only for that many seconds after its
-- first request; then delay() parks every connection once its last response is in. Give wrk a -d a
-- little longer than <sendSeconds> (run.sh adds DRAIN seconds) and nothing is in flight when wrk
-- stops, so "rows in the database == 200 responses" can be checked exactly. A thread that runs out
-- of requests parks the same way and is reported as "exhausted" (the throughput is then invalid).
--
-- done() prints a human summary and one machine-readable line, parsed by lib.sh:
--   LT_RESULT sent=.. responses=.. s200=.. s2xx=.. non2xx=.. dup=.. unanswered=.. exhausted=.. ...

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } lt_timespec;
  int clock_gettime(int clk_id, lt_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local tsbuf = ffi.new("lt_timespec")
local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, tsbuf)
   return tonumber(tsbuf.tv_sec) * 1000 + tonumber(tsbuf.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- per-thread state (each thread has its own Lua state)
local data, reclen, count, idx
local reserved = 0
local ts_len, sig_off, body_off, body_len
local send_ms, cutoff
local PARK_MS = 3600 * 1000
local path = "/v1/conversions"
local hdrs = {}
sent, responses, exhausted, window_ms = 0, 0, 0, 0
statuses = {}           -- [status code] = count
dup = 0                 -- 200 responses with "duplicate":true

function init(args)
   local file, surface, nthreads = args[1], args[2], tonumber(args[3])
   if not file or not surface or not nthreads then
      error("usage: -s postback.lua <url> -- <reqfile> <surfaceId> <threads> [<sendSeconds>]")
   end
   send_ms = (tonumber(args[4]) or 0) * 1000
   local f = assert(io.open(file, "rb"))
   local first = assert(f:read("*l"), "empty request file " .. file)
   reclen = #first + 1
   local size = f:seek("end")
   if size % reclen ~= 0 then
      error(string.format("%s: size %d is not a multiple of the line length %d", file, size, reclen))
   end
   local t1 = first:find("\t", 1, true)
   local t2 = first:find("\t", t1 + 1, true)
   ts_len, sig_off, body_off = t1 - 1, t1 + 1, t2 + 1
   body_len = reclen - 1 - t2

   local total = size / reclen
   local first_rec = math.floor(total * tid / nthreads)
   local last_rec = math.floor(total * (tid + 1) / nthreads)
   count = last_rec - first_rec
   f:seek("set", first_rec * reclen)
   data = f:read(count * reclen) or ""
   f:close()
   if #data ~= count * reclen then
      error("short read from " .. file)
   end
   idx = 0

   hdrs["Content-Type"] = "application/json"
   hdrs["X-EA-Surface"] = surface
end

-- Called before every request on a connection (wrk calls it because it is defined):
-- 0 = send now, PARK_MS = send nothing more on this connection. Each 0 reserves one record for the
-- request() call that follows, so connections never race past the end of the slice.
function delay()
   local now = now_ms()
   if not cutoff then
      cutoff = send_ms > 0 and now + send_ms or math.huge
      window_ms = send_ms
   end
   if reserved >= count then
      if exhausted == 0 then
         exhausted = 1
         window_ms = now - (cutoff - send_ms)
      end
      return PARK_MS
   end
   if now >= cutoff then
      return PARK_MS
   end
   reserved = reserved + 1
   return 0
end

local function format_record(i)
   local o = i * reclen
   hdrs["X-EA-Timestamp"] = data:sub(o + 1, o + ts_len)
   hdrs["X-EA-Signature"] = data:sub(o + sig_off, o + sig_off + 63)
   return wrk.format("POST", path, hdrs, data:sub(o + body_off, o + body_off + body_len - 1))
end

function request()
   if not cutoff then
      -- wrk calls request() once on thread 0 right after init() to inspect it; nothing is sent.
      return format_record(0)
   end
   if idx >= count then
      -- Only reachable after a reconnect; never repeat an externalId: stop this thread.
      exhausted = 1
      wrk.thread:stop()
      return wrk.format("GET", "/health/live", {})
   end
   idx = idx + 1
   sent = sent + 1
   return format_record(idx - 1)
end

function response(status, headers, body)
   responses = responses + 1
   statuses[status] = (statuses[status] or 0) + 1
   if status == 200 and body and body:find('"duplicate":true', 1, true) then
      dup = dup + 1
   end
end

function done(summary, latency, requests)
   local t = { sent = 0, responses = 0, s200 = 0, s2xx = 0, non2xx = 0, dup = 0, exhausted = 0 }
   local all = {}
   local window = 0
   for _, thread in ipairs(threads) do
      t.sent = t.sent + thread:get("sent")
      t.responses = t.responses + thread:get("responses")
      t.dup = t.dup + thread:get("dup")
      t.exhausted = t.exhausted + thread:get("exhausted")
      window = math.max(window, thread:get("window_ms"))
      for code, n in pairs(thread:get("statuses")) do
         all[code] = (all[code] or 0) + n
      end
   end
   -- throughput window: the send window (longest thread), or wrk's whole run without a cutoff
   local secs = window > 0 and window / 1000 or summary.duration / 1e6
   local codes = {}
   for code, n in pairs(all) do
      table.insert(codes, code)
      if code == 200 then t.s200 = t.s200 + n end
      if code >= 200 and code < 300 then t.s2xx = t.s2xx + n else t.non2xx = t.non2xx + n end
   end
   table.sort(codes)
   local e = summary.errors
   io.write("------ postback.lua ------\n")
   for _, code in ipairs(codes) do
      io.write(string.format("  status %d: %d\n", code, all[code]))
   end
   io.write(string.format("  sent %d, responses %d, 200 %d (duplicate %d), non-2xx %d, unanswered %d, window %.3fs\n",
      t.sent, t.responses, t.s200, t.dup, t.non2xx, t.sent - t.responses, secs))
   if t.exhausted > 0 then
      io.write(string.format("  WARNING: %d thread(s) ran out of pre-signed requests; raise REQUESTS\n", t.exhausted))
   end
   if t.sent > t.responses then
      io.write("  WARNING: requests still unanswered when wrk stopped (raise DRAIN?)\n")
   end
   local status_list = {}
   for _, code in ipairs(codes) do table.insert(status_list, code .. ":" .. all[code]) end
   io.write(string.format(
      "LT_RESULT sent=%d responses=%d s200=%d s2xx=%d non2xx=%d dup=%d unanswered=%d exhausted=%d"
         .. " window_s=%.3f accepted_per_s=%.1f responses_per_s=%.1f p50_us=%d p99_us=%d"
         .. " err_connect=%d err_read=%d err_write=%d err_timeout=%d statuses=%s\n",
      t.sent, t.responses, t.s200, t.s2xx, t.non2xx, t.dup, t.sent - t.responses, t.exhausted,
      secs, t.s200 / secs, t.responses / secs, latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, #status_list > 0 and table.concat(status_list, ",") or "none"))
end
