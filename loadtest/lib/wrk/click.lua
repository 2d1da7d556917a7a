-- wrk script: tracking-link redirects, GET /c/{code} -> 302 with Location "<destination>&clickId=<id>"
-- ("?clickId=" when the destination has no query; a fragment stays last).
--   wrk ... -s click.lua URL -- path=/c/CODE?sub1=bench dest=DESTINATION threads=1 send=10 out=P
-- ok = 302 with a well-formed clickId; no_id = 302 to the bare destination (the gateway's degraded
-- mode: redirected, not recorded); bad = any other 302 Location. wrk itself counts only statuses
-- > 399 as errors, so statuses are counted here. Drain, rate, LT_RESULT: see common.lua.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local lt = require("common")

local req, dest, prefix, prefix_len, fragment
no_id = 0
bad_example = ""

function setup(thread) lt.setup(thread) end

function init(args)
   local o = lt.init(args)
   assert(o.path and o.dest, "need path= and dest=")
   dest = o.dest
   local hash = dest:find("#", 1, true)
   local base = hash and dest:sub(1, hash - 1) or dest
   fragment = hash and dest:sub(hash) or ""
   local sep = base:find("?", 1, true) == nil and "?" or ((base:sub(-1) == "?" or base:sub(-1) == "&") and "" or "&")
   prefix = base .. sep .. "clickId="
   prefix_len = #prefix
   req = wrk.format("GET", o.path, {})
end

delay = lt.delay

function request() return req end

local function location(headers)
   local v = headers["location"] or headers["Location"]
   if v then return v end
   for k, val in pairs(headers) do
      if k:lower() == "location" then return val end
   end
   return nil
end

function response(status, headers, body)
   local success = false
   if status == 302 then
      local loc = location(headers)
      local stop = loc and loc:find("[&#]", prefix_len + 1)
      if loc and #loc > prefix_len and loc:sub(1, prefix_len) == prefix
         and (stop == nil and fragment == "" or stop and stop > prefix_len + 1 and loc:sub(stop) == fragment) then
         success = true
      elseif loc == dest then
         no_id = no_id + 1
      else
         bad = bad + 1
         if bad_example == "" then bad_example = tostring(loc) end
      end
   end
   lt.record(status, success)
end

function done(summary, latency, requests)
   lt.done(summary, latency, { "no_id" })
   for _, thread in ipairs(lt.threads) do
      local ex = thread:get("bad_example")
      if ex ~= "" then io.write("malformed Location, e.g. " .. ex .. "\n"); break end
   end
end
