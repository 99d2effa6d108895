-- cdnctl.sandbox.embedded: `cdnctl --sandbox`. Starts the sandbox inside
-- this process on a free loopback port and points both services' base URLs
-- and default keys at it, so no real key is ever sent there.

local server = require "cdnctl.server"
local json = require "cdnctl.json"
local config = require "cdnctl.config"
local accounts = require "cdnctl.sandbox.accounts"

local M = {}

function M.start(options)
  options = options or {}
  local srv, err = server.start { host = "127.0.0.1", port = options.port or 0, config = json.encode(options) }
  if not srv then return nil, err end
  local base = "http://127.0.0.1:" .. srv:port()
  config.override.urls = { sp = base, api = base, ez = base }
  config.override.keys = { shortpixel = accounts.demo.shortpixel[1].key, easyio = accounts.demo.easyio[1].key }
  return srv, base
end

return M
