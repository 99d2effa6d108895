-- cdnctl.front.whoami: `cdnctl whoami [--offline]`. The one source in use
-- (config.source), then per service the base URLs, the key (masked) and
-- where each came from, as config.resolve decides for the bindings; then, unless --offline, the key is checked
-- with the service's cheapest read (api_status, show_keys). Exit: 0 ok,
-- 1 a key the check finds refused (or unusable), 2 usage.

local config = require "cdnctl.config"
local redact = require "cdnctl.redact"
local ops = require "cdnctl.ops"

local M = {}

M.USAGE = [[
usage: cdnctl [--sandbox] [--profile NAME] whoami [--offline]
  the one source every service's key and URLs come from (the first of
  --sandbox; --profile NAME or CDNCTL_PROFILE; the environment, when it sets
  any key or URL; the config's default_profile), then per service: the base
  URLs, the key (masked) and where each came from, or why that source has
  none (no other source is used); then each key is checked with the
  cheapest read (shortpixel.api_status, easyio.show_keys) unless --offline.
exit status: 0 ok, 1 a key was refused, 2 usage error]]


-- The key line's source: the profile's with how it was chosen.
local function key_label(src)
  if src.kind == "profile" then return src.name end
  return src.key_source
end

-- Why there is no key for service svc from src: the profile or the
-- environment in use lacks it (no other source is looked at), or there is
-- no source at all.
local function no_key(src, svc)
  if src.kind == "profile" and not src.key_cmd then
    local p = src.profile
    local has_url = false
    for _, u in ipairs(svc.urls) do has_url = has_url or p[u.field] ~= nil end
    return string.format("profile '%s' has no %s%s", p.name, svc.key_field,
      has_url and " (it sets URLs only)" or "")
  end
  if src.missing then return src.missing end
  return "set " .. svc.key_env .. ", or select a profile (cdnctl profiles)"
end

-- Check one service's key. -> status (0 or 1), the line to print.
local function check_key(lib, service, offline)
  if offline then return 0, "check skipped (--offline)" end
  local name = ops.services[service].key_check
  local r, err = lib[service][name]()
  if r then return 0, "check ok (" .. name .. ")" end
  if err.kind == "transport" or err.kind == "interrupted" then
    return 0, "check not done: " .. tostring(err)
  end
  return 1, "check refused: " .. tostring(err)
end

-- One service's block. -> status
-- The first base URL of a service shows as "url", the others by name (api).
local function show(lib, service, offline)
  local out, s, svc = io.stdout, lib.settings, ops.services[service]
  local src = config.resolve(s, service)
  out:write(svc.label, "\n")
  for i, u in ipairs(svc.urls) do
    local from = src.url_sources[u.name]
    out:write(string.format("  %-5s %s  %s\n", i == 1 and "url" or u.name, src.urls[u.name],
      from == "built-in default" and from or ("from " .. from)))
  end
  local key, _, why = config.key(s, service)
  if not key then
    out:write("  key   none  ", why or no_key(src, svc), "\n")
    return why and 1 or 0
  end
  out:write(string.format("  key   %s  from %s\n", redact.short(key), key_label(src)))
  local status, line = check_key(lib, service, offline)
  out:write("  ", line, "\n")
  return status
end

-- M.main(args, lib): args the words after "whoami"; lib the library
-- (cdnctl.new) whose settings and bindings are shown and checked.
function M.main(args, lib)
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
  io.stdout:write("source: ", config.source(lib.settings).name, "\n")
  for _, service in ipairs(ops.service_order) do
    status = math.max(status, show(lib, service, offline))
  end
  return status
end

return M
