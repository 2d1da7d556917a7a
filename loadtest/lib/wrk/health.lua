-- wrk script: GET /health/live; ok = 200. Drain, rate, LT_RESULT: see common.lua.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local lt = require("common")
local req

function setup(thread) lt.setup(thread) end
function init(args)
   lt.init(args)
   req = wrk.format("GET", "/health/live", {})
end
delay = lt.delay
function request() return req end
function response(status, headers, body) lt.record(status, status == 200) end
function done(summary, latency, requests) lt.done(summary, latency) end
