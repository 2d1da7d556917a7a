-- wrk script: signed postbacks from a pre-generated request file (lib/GenRequests.java).
--   wrk -t1 -c64 -d12s --latency -s postback.lua URL -- file=F surface=S threads=1 send=10 mode=unique out=P [rate=R]
-- F has fixed-length lines "<ts>\t<sig>\t<body>\n"; thread k of T reads only its contiguous slice.
-- mode=unique: each line at most once (a thread that runs out parks and reports exhausted=1);
--              ok = 200 without "duplicate":true, bad = 200 with it.
-- mode=replay: cycles through the slice (the lines were all accepted before): every answer must be
--              a duplicate; ok = 200 with "duplicate":true, bad = 200 without it (a new row!).
-- Drain, rate and the LT_RESULT line: see common.lua.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local lt = require("common")

local data, reclen, count, idx, replay
first_rec = 0
local ts_len, sig_off, body_off, body_len
local hdrs = { ["Content-Type"] = "application/json" }

function setup(thread) lt.setup(thread) end

function init(args)
   local o = lt.init(args)
   assert(o.file and o.surface and o.mode, "need file=, surface=, mode=")
   replay = o.mode == "replay"
   local nthreads = tonumber(o.threads) or 1
   local f = assert(io.open(o.file, "rb"))
   local first = assert(f:read("*l"), "empty request file " .. o.file)
   reclen = #first + 1
   local size = f:seek("end")
   if size % reclen ~= 0 then
      error(string.format("%s: size %d is not a multiple of the line length %d", o.file, size, reclen))
   end
   local t1 = first:find("\t", 1, true)
   local t2 = first:find("\t", t1 + 1, true)
   ts_len, sig_off, body_off = t1 - 1, t1 + 1, t2 + 1
   body_len = reclen - 1 - t2
   local total = size / reclen
   first_rec = math.floor(total * tid / nthreads)
   count = math.floor(total * (tid + 1) / nthreads) - first_rec
   f:seek("set", first_rec * reclen)
   data = f:read(count * reclen) or ""
   f:close()
   assert(#data == count * reclen, "short read from " .. o.file)
   assert(count > 0, "no lines for thread " .. tid)
   idx = 0
   if not replay then lt.limit = count end
   hdrs["X-EA-Surface"] = o.surface
end

delay = lt.delay

local function format_record(i)
   local o = i * reclen
   hdrs["X-EA-Timestamp"] = data:sub(o + 1, o + ts_len)
   hdrs["X-EA-Signature"] = data:sub(o + sig_off, o + sig_off + 63)
   return wrk.format("POST", "/v1/conversions", hdrs, data:sub(o + body_off, o + body_off + body_len - 1))
end

function request()
   if not lt.started() then
      return format_record(0) -- wrk inspects one request after init(); nothing is sent
   end
   if idx >= count then
      if not replay then
         -- only after a reconnect re-sent a request: never repeat an externalId, stop this thread
         exhausted = 1
         wrk.thread:stop()
         return wrk.format("GET", "/health/live", {})
      end
      idx = 0
   end
   idx = idx + 1
   return format_record(idx - 1)
end

function response(status, headers, body)
   local is_dup = status == 200 and body ~= nil and body:find('"duplicate":true', 1, true) ~= nil
   local success
   if replay then success = is_dup else success = status == 200 and not is_dup end
   if status == 200 and not success then bad = bad + 1 end
   lt.record(status, success)
end

function done(summary, latency, requests)
   lt.done(summary, latency)
   -- which lines each thread sent (a prefix of its slice in mode=unique): the harness replays them
   for _, thread in ipairs(lt.threads) do
      io.write(string.format("LT_THREAD first=%d sent=%d\n", thread:get("first_rec"), thread:get("sent")))
   end
end
