-- wrk script: tracking-link redirects, GET /c/{code}, answered 302 with a Location header.
--
--   wrk -t2 -c64 -d22s --latency -s loadtest/click.lua http://127.0.0.1:8089 \
--       -- <path> <destinationUrl> [<sendSeconds>]
--
-- <path> is sent as is on every request (e.g. "/c/Ab3dE9?sub1=bench"). wrk counts only statuses
-- > 399 as "Non-2xx or 3xx responses", so this script counts statuses itself: success is a 302 whose
-- Location is "<destinationUrl>&clickId=<id>" ("?clickId=" when the destination has no query).
-- A 302 to the bare destination means the gateway redirected without recording the click (its
-- degraded mode when Postgres cannot take the row); any other Location is counted as malformed.
--
-- Drain: as in postback.lua, with <sendSeconds> > 0 each thread sends new requests only for that many
-- seconds after its first request; then delay() parks every connection once its last response is in.
-- Give wrk a -d a little longer than <sendSeconds> (run.sh adds DRAIN seconds) and nothing is in
-- flight when wrk stops, so "rows in clicks == 302 responses" can be checked exactly.
--
-- done() prints a human summary and one machine-readable line, parsed by lib.sh:
--   LT_RESULT sent=.. responses=.. s302=.. with_id=.. no_id=.. bad_location=.. non302=.. unanswered=.. ...

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
   table.insert(threads, thread)
end

-- per-thread state (each thread has its own Lua state)
local req, dest, prefix, prefix_len, fragment
local send_ms, cutoff
local PARK_MS = 3600 * 1000
sent, responses, window_ms = 0, 0, 0
with_id, no_id, bad_location = 0, 0, 0
statuses = {}           -- [status code] = count
bad_example = ""        -- first malformed Location seen by this thread

function init(args)
   local path = args[1]
   dest = args[2]
   if not path or not dest then
      error("usage: -s click.lua <url> -- <path> <destinationUrl> [<sendSeconds>]")
   end
   send_ms = (tonumber(args[3]) or 0) * 1000
   local hash = dest:find("#", 1, true)
   local base = hash and dest:sub(1, hash - 1) or dest
   fragment = hash and dest:sub(hash) or ""
   local sep = base:find("?", 1, true) == nil and "?" or ((base:sub(-1) == "?" or base:sub(-1) == "&") and "" or "&")
   prefix = base .. sep .. "clickId="
   prefix_len = #prefix
   req = wrk.format("GET", path, {})
end

-- Called before every request on a connection: 0 = send now, PARK_MS = send nothing more.
function delay()
   local now = now_ms()
   if not cutoff then
      cutoff = send_ms > 0 and now + send_ms or math.huge
      window_ms = send_ms
   end
   if now >= cutoff then
      return PARK_MS
   end
   return 0
end

function request()
   if cutoff then
      -- (wrk calls request() once on thread 0 right after init() to inspect it; nothing is sent.)
      sent = sent + 1
   end
   return req
end

local function location(headers)
   local v = headers["location"] or headers["Location"]
   if v then return v end
   for k, val in pairs(headers) do
      if k:lower() == "location" then return val end
   end
   return nil
end

function response(status, headers, body)
   responses = responses + 1
   statuses[status] = (statuses[status] or 0) + 1
   if status == 302 then
      local loc = location(headers)
      local stop = loc and loc:find("[&#]", prefix_len + 1)
      if loc and #loc > prefix_len and loc:sub(1, prefix_len) == prefix
         and (stop == nil and fragment == "" or stop and stop > prefix_len + 1 and loc:sub(stop) == fragment) then
         with_id = with_id + 1
      elseif loc == dest then
         no_id = no_id + 1
      else
         bad_location = bad_location + 1
         if bad_example == "" then bad_example = tostring(loc) end
      end
   end
end

function done(summary, latency, requests)
   local t = { sent = 0, responses = 0, s302 = 0, non302 = 0, with_id = 0, no_id = 0, bad_location = 0 }
   local all = {}
   local window = 0
   local example = ""
   for _, thread in ipairs(threads) do
      t.sent = t.sent + thread:get("sent")
      t.responses = t.responses + thread:get("responses")
      t.with_id = t.with_id + thread:get("with_id")
      t.no_id = t.no_id + thread:get("no_id")
      t.bad_location = t.bad_location + thread:get("bad_location")
      if example == "" then example = thread:get("bad_example") end
      window = math.max(window, thread:get("window_ms"))
      for code, n in pairs(thread:get("statuses")) do
         all[code] = (all[code] or 0) + n
      end
   end
   local secs = window > 0 and window / 1000 or summary.duration / 1e6
   local codes = {}
   for code, n in pairs(all) do
      table.insert(codes, code)
      if code == 302 then t.s302 = t.s302 + n else t.non302 = t.non302 + n end
   end
   table.sort(codes)
   local e = summary.errors
   io.write("------ click.lua ------\n")
   for _, code in ipairs(codes) do
      io.write(string.format("  status %d: %d\n", code, all[code]))
   end
   io.write(string.format("  sent %d, responses %d, 302 %d (with clickId %d, without %d, malformed Location %d),"
      .. " non-302 %d, unanswered %d, window %.3fs\n",
      t.sent, t.responses, t.s302, t.with_id, t.no_id, t.bad_location, t.non302, t.sent - t.responses, secs))
   if t.bad_location > 0 then
      io.write("  WARNING: malformed Location, e.g. " .. example .. "\n")
   end
   if t.sent > t.responses then
      io.write("  WARNING: requests still unanswered when wrk stopped (raise DRAIN?)\n")
   end
   local status_list = {}
   for _, code in ipairs(codes) do table.insert(status_list, code .. ":" .. all[code]) end
   io.write(string.format(
      "LT_RESULT sent=%d responses=%d s302=%d with_id=%d no_id=%d bad_location=%d non302=%d unanswered=%d"
         .. " window_s=%.3f clicks_per_s=%.1f responses_per_s=%.1f p50_us=%d p99_us=%d"
         .. " err_connect=%d err_read=%d err_write=%d err_timeout=%d statuses=%s\n",
      t.sent, t.responses, t.s302, t.with_id, t.no_id, t.bad_location, t.non302, t.sent - t.responses,
      secs, t.s302 / secs, t.responses / secs, latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, #status_list > 0 and table.concat(status_list, ",") or "none"))
end
