-- cdnctl.front.whoami: `cdnctl whoami [--offline]`. Per service, the base
-- URLs, the key (masked) and where each came from, as config.resolve
-- decides for the bindings; then, unless --offline, the key is checked
-- with the service's cheapest read (api_status, show_keys). Exit: 0 ok,
-- 1 a key the check finds refused (or unusable), 2 usage.

local config = require "cdnctl.config"
local redact = require "cdnctl.redact"
local ops = require "cdnctl.ops"

local M = {}

M.USAGE = [[
usage: cdnctl [--sandbox] [--profile NAME] whoami [--offline]
  per service: the base URLs, the key (masked) and where each came from;
  then each key is checked with the cheapest read (shortpixel.api_status,
  easyio.show_keys) unless --offline.
exit status: 0 ok, 1 a key was refused, 2 usage error]]

local CHECKS = { shortpixel = "shortpixel.api_status", easyio = "easyio.show_keys" }
local URL_NAMES = { sp = "url", api = "api", ez = "url" }

-- The key line's source: the profile's with how it was chosen.
local function key_label(src)
  if src.kind == "profile" then return src.name end
  return src.key_source
end

-- Check one service's key. -> status (0 or 1), the line to print.
local function check_key(service, offline)
  if offline then return 0, "check skipped (--offline)" end
  local name = CHECKS[service]
  local r, err = ops.by_name[name].fn()
  if r then return 0, "check ok (" .. name:match("%.(.*)") .. ")" end
  if err.kind == "transport" or err.kind == "interrupted" then
    return 0, "check not done: " .. tostring(err)
  end
  return 1, "check refused: " .. tostring(err)
end

-- One service's block. -> status
local function show(service, offline)
  local out = io.stdout
  local src = config.resolve(service)
  out:write(config.NAMES[service], "\n")
  for _, w in ipairs(config.URLS_OF[service]) do
    local from = src.url_sources[w]
    out:write(string.format("  %-5s %s  %s\n", URL_NAMES[w], src.urls[w],
      from == "built-in default" and from or ("from " .. from)))
  end
  local key, _, why = config.key(service)
  if not key then
    out:write("  key   none  ", why or src.missing or ("set " .. config.KEY_ENV[service]
      .. ", or select a profile (cdnctl profiles)"), "\n")
    return why and 1 or 0
  end
  out:write(string.format("  key   %s  from %s\n", redact.short(key), key_label(src)))
  local status, line = check_key(service, offline)
  out:write("  ", line, "\n")
  return status
end

function M.main(args)
  local offline = false
  for _, a in ipairs(args) do
    if a == "--offline" then offline = true
    elseif a == "-h" or a == "--help" then io.stdout:write(M.USAGE, "\n"); return 0
    else
      io.stderr:write("cdnctl whoami: unknown argument '", a, "'\n", M.USAGE, "\n")
      return 2
    end
  end
  local status = 0
  for _, service in ipairs({ "shortpixel", "easyio" }) do
    status = math.max(status, show(service, offline))
  end
  return status
end

return M
