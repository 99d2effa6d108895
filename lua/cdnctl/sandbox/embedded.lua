-- cdnctl.sandbox.embedded: `cdnctl --sandbox`. Starts the sandbox inside
-- this process on a free loopback port; M.source gives the keys and base
-- URLs that point both services at it (the settings value's `sandbox`,
-- cdnctl.settings), so no real key is ever sent there.

local server = require "cdnctl.server"
local json = require "cdnctl.json"
local ops = require "cdnctl.ops"
local accounts = require "cdnctl.sandbox.accounts"

local M = {}

-- M.start([options]) -> server, base URL | nil, message
function M.start(options)
  options = options or {}
  local srv, err = server.start { host = "127.0.0.1", port = options.port or 0, config = json.encode(options) }
  if not srv then return nil, err end
  return srv, "http://127.0.0.1:" .. srv:port()
end

-- M.source(base) -> {urls = {sp=, api=, ez=}, keys = {shortpixel=, easyio=}}:
-- every base URL of every service at base, and each service's demo key.
function M.source(base)
  local urls, keys = {}, {}
  for name in pairs(ops.base_urls) do urls[name] = base end
  for _, service in ipairs(ops.service_order) do keys[service] = accounts.demo[service][1].key end
  return { urls = urls, keys = keys }
end

return M
