-- wrk script: signed postbacks from a pre-generated request file (see GenRequests.java).
--
--   wrk -t2 -c64 -d20s --latency -s loadtest/postback.lua http://127.0.0.1:8089 -- <reqfile> <surfaceId> <threads>
--
-- <reqfile> has fixed-length lines "<ts>\t<sig>\t<body>\n". Thread k (0-based) of T reads only its
-- contiguous slice [floor(total*k/T), floor(total*(k+1)/T)) in init(), so no externalId is sent twice.
-- Each request is built with wrk.format() when it is sent. When a thread's slice is used up it stops
-- (wrk.thread:stop()) instead of repeating externalIds, and done() reports "exhausted".
--
-- done() prints a human summary and one machine-readable line, parsed by lib.sh:
--   LT_RESULT sent=.. responses=.. s200=.. s2xx=.. non2xx=.. dup=.. unanswered=.. exhausted=.. ...

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- per-thread state (each thread has its own Lua state)
local data, reclen, count, idx
local ts_len, sig_off, body_off, body_len
local path = "/v1/conversions"
local hdrs = {}
sent, responses, exhausted = 0, 0, 0
statuses = {}           -- [status code] = count
dup = 0                 -- 200 responses with "duplicate":true

function init(args)
   local file, surface, nthreads = args[1], args[2], tonumber(args[3])
   if not file or not surface or not nthreads then
      error("usage: -s postback.lua <url> -- <reqfile> <surfaceId> <threads>")
   end
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

function request()
   if idx >= count then
      if exhausted == 0 then
         exhausted = 1
         wrk.thread:stop()
      end
      -- The loop stops after this iteration; send something that cannot create a row.
      return wrk.format("GET", "/health/live", {})
   end
   local o = idx * reclen
   idx = idx + 1
   sent = sent + 1
   hdrs["X-EA-Timestamp"] = data:sub(o + 1, o + ts_len)
   hdrs["X-EA-Signature"] = data:sub(o + sig_off, o + sig_off + 63)
   return wrk.format("POST", path, hdrs, data:sub(o + body_off, o + body_off + body_len - 1))
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
   for _, thread in ipairs(threads) do
      t.sent = t.sent + thread:get("sent")
      t.responses = t.responses + thread:get("responses")
      t.dup = t.dup + thread:get("dup")
      t.exhausted = t.exhausted + thread:get("exhausted")
      for code, n in pairs(thread:get("statuses")) do
         all[code] = (all[code] or 0) + n
      end
   end
   local codes = {}
   for code, n in pairs(all) do
      table.insert(codes, code)
      if code == 200 then t.s200 = t.s200 + n end
      if code >= 200 and code < 300 then t.s2xx = t.s2xx + n else t.non2xx = t.non2xx + n end
   end
   table.sort(codes)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write("------ postback.lua ------\n")
   for _, code in ipairs(codes) do
      io.write(string.format("  status %d: %d\n", code, all[code]))
   end
   io.write(string.format("  sent %d, responses %d, 200 %d (duplicate %d), non-2xx %d, unanswered %d\n",
      t.sent, t.responses, t.s200, t.dup, t.non2xx, t.sent - t.responses))
   if t.exhausted > 0 then
      io.write(string.format("  WARNING: %d thread(s) ran out of pre-signed requests; raise REQUESTS\n", t.exhausted))
   end
   local status_list = {}
   for _, code in ipairs(codes) do table.insert(status_list, code .. ":" .. all[code]) end
   io.write(string.format(
      "LT_RESULT sent=%d responses=%d s200=%d s2xx=%d non2xx=%d dup=%d unanswered=%d exhausted=%d"
         .. " duration_s=%.3f accepted_per_s=%.1f p50_us=%d p99_us=%d"
         .. " err_connect=%d err_read=%d err_write=%d err_timeout=%d statuses=%s\n",
      t.sent, t.responses, t.s200, t.s2xx, t.non2xx, t.dup, t.sent - t.responses, t.exhausted,
      secs, t.s200 / secs, latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout, #status_list > 0 and table.concat(status_list, ",") or "none"))
end
