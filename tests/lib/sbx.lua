-- tests/lib/sbx.lua: raw access to the embedded sandbox (`cdnctl --sandbox`)
-- for the integration tests: its admin endpoints, and requests the bindings
-- would never send.
--   local sbx = require "sbx"
--   sbx.admin("state")                     -> decoded body, status (GET)
--   sbx.admin("clock", {advance = 60})     -> decoded body, status (POST JSON)
--   sbx.request{method=, path=, body=, headers=} -> decoded body, status
local sched = require "cdnctl.sched"
local json = require "cdnctl.json"
local config = require "cdnctl.config"

local M = {}

function M.request(r)
  local resp = assert(sched.request { method = r.method or "GET", url = config.url(cdnctl.settings, "sp") .. r.path,
    body = r.body, headers = r.headers })
  return json.decode(resp.body), resp.status
end

function M.admin(path, body)
  return M.request { method = body and "POST" or "GET", path = "/_sandbox/" .. path,
    body = body and json.encode(body), headers = { "Content-Type: application/json" } }
end

return M
