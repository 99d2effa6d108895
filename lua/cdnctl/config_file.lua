-- cdnctl.config_file: many client accounts in one config file.
--   $XDG_CONFIG_HOME/cdnctl/config.lua (default ~/.config/cdnctl/config.lua)
--   return { default_profile = "clientA", profiles = { clientA = {
--     shortpixel_key = "...", easyio_key = "...",            -- or:
--     shortpixel_key_cmd = "pass show shortpixel/clientA",   -- first line of its output
--     easyio_key_cmd = "...", shortpixel_url = ..., shortpixel_api_url = ..., easyio_url = ... } } }
-- A profile gives a service's key or its key command, not both. Every
-- service's key comes from the one profile in use (cdnctl.config).
-- The file runs in an empty environment (no os, io, require). A file that
-- others can read while it holds a key gets a warning, as ssh does.

local fs = require "cdnctl.fs"
local redact = require "cdnctl.redact"

local M = {}

local ops = require "cdnctl.ops"

-- The most a config file may hold: 1 MiB (it is read whole).
M.CAP = 1 << 20

-- A profile's fields, all strings: per service (cdnctl.ops.services) its
-- key, its key command and each of its base URLs.
local FIELDS = {}
local KEY_FIELDS = {}
for _, service in ipairs(ops.service_order) do
  local svc = ops.services[service]
  FIELDS[svc.key_field], FIELDS[svc.key_cmd_field] = "string", "string"
  KEY_FIELDS[#KEY_FIELDS + 1] = svc.key_field
  for _, u in ipairs(svc.urls) do FIELDS[u.field] = "string" end
end

function M.path()
  local base = os.getenv("XDG_CONFIG_HOME")
  if not base or base == "" then base = (os.getenv("HOME") or ".") .. "/.config" end
  return base .. "/cdnctl/config.lua"
end

-- What is wrong with profile p (named name) of the file at path, or nil.
-- Its keys are registered for masking either way.
local function profile_problem(path, name, p)
  if type(p) ~= "table" then return string.format("%s: profile '%s' must be a table of fields", path, name) end
  for _, k in ipairs(KEY_FIELDS) do
    if type(p[k]) == "string" then redact.add(p[k]) end
  end
  for k, v in pairs(p) do
    if not FIELDS[k] then
      local known = {}
      for f in pairs(FIELDS) do known[#known + 1] = f end
      table.sort(known)
      return string.format("%s: profile '%s' has an unknown field '%s'%s", path, name, tostring(k),
        require("cdnctl.suggest").hint(tostring(k), known))
    end
    if type(v) ~= FIELDS[k] then return string.format("%s: profile '%s': %s must be a string", path, name, k) end
  end
  for _, k in ipairs(KEY_FIELDS) do
    if p[k] and p[k .. "_cmd"] then
      return string.format("%s: profile '%s' has both %s and %s: keep one (which one cdnctl should use is yours to say)",
        path, name, k, k .. "_cmd")
    end
  end
  return nil
end

-- M.load([path]) -> config table | nil (no file) | false, message. A file
-- that does not run, or does not return {profiles = {NAME = {...}}}, is
-- refused whole; a profile with an error is kept as {broken = message}
-- (the file, the profile and the field named), so that it fails only the
-- commands that use it (M.select) and the others work.
function M.load(path)
  path = path or M.path()
  local f, kind = fs.open_read(path)
  if not f then return nil end
  if kind ~= "file" then f:close(); return false, path .. ": not a regular file" end
  local text = f:read(M.CAP + 1) or ""
  f:close()
  if #text > M.CAP then return false, string.format("%s: longer than %d KiB, the limit on a config file", path, M.CAP >> 10) end
  local chunk, err = load(text, "@" .. path, "t", {})
  if not chunk then return false, err end
  local ok, cfg = pcall(chunk)
  if not ok then return false, tostring(cfg) end
  if type(cfg) ~= "table" or (cfg.profiles ~= nil and type(cfg.profiles) ~= "table") then
    return false, path .. ": must return a table {default_profile = ..., profiles = {...}}"
  end
  cfg.profiles = cfg.profiles or {}
  local holds_key = false
  for name, p in pairs(cfg.profiles) do
    if type(name) ~= "string" then return false, path .. ": profiles must map names to tables" end
    local problem = profile_problem(path, name, p)
    if problem then cfg.profiles[name] = { broken = problem } end
    for _, k in ipairs(KEY_FIELDS) do holds_key = holds_key or (type(p) == "table" and p[k] ~= nil) end
  end
  local st = fs.stat(path)
  if holds_key and st and (st.mode & 63) ~= 0 then
    io.stderr:write(string.format("cdnctl: warning: %s holds API keys and others can read it (mode %o); run: chmod 600 %s\n",
      path, st.mode, path))
  end
  cfg.path = path
  return cfg
end

-- The profile to use: name given, else CDNCTL_PROFILE, else default_profile.
-- -> profile table (with .name) | nil | false, message. A broken profile
-- named (--profile, CDNCTL_PROFILE) is false and its message; a broken
-- default_profile is {name, via, broken = message}: it fails the calls
-- that take their keys from it (cdnctl.config), not a run whose keys come
-- from another source.
function M.select(cfg, name)
  local via = name and "--profile"
  if not name then name, via = os.getenv("CDNCTL_PROFILE"), "CDNCTL_PROFILE" end
  if name == "" then name = nil end
  if not cfg then
    if name then return false, "no profile '" .. name .. "': " .. M.path() .. " does not exist" end
    return nil
  end
  if not name then name, via = cfg.default_profile, "default_profile" end
  if not name then return nil end
  local p = cfg.profiles[name]
  if not p then
    local names = {}
    for n in pairs(cfg.profiles) do names[#names + 1] = n end
    table.sort(names)
    return false, string.format("no profile '%s' in %s (profiles: %s)", name, cfg.path,
      #names > 0 and table.concat(names, ", ") or "none")
  end
  if p.broken and via ~= "default_profile" then return false, p.broken end
  local prof = { name = name, via = via } -- via: how it was chosen (config.resolve's order)
  for k, v in pairs(p) do prof[k] = v end
  return prof
end

-- Run a *_key_cmd and keep the first line of its output. Its standard
-- error goes to a private temporary file, so that a failure can say why.
-- Errors name the profile, never the key. (config.key runs it once per run
-- and service.) -> key | nil, message, the command's stderr (or nil)
function M.run_key_cmd(profile, service)
  local field = service .. "_key_cmd"
  local tmp = os.tmpname() -- mkstemp: mode 0600
  local p = io.popen("( " .. profile[field] .. "\n) 2>'" .. tmp .. "'", "r")
  if not p then os.remove(tmp); return nil, string.format("profile '%s': cannot run %s", profile.name, field) end
  local out = p:read("a") or ""
  local ok, how, code = p:close()
  local ef = io.open(tmp, "rb")
  local stderr = ef and ef:read("a") or ""
  if ef then ef:close() end
  os.remove(tmp)
  stderr = stderr:gsub("%s+$", ""):gsub("\n", "\n  ")
  if #stderr > 2000 then stderr = stderr:sub(1, 2000) .. "..." end
  stderr = stderr ~= "" and stderr or nil
  local line = out:match("^([^\r\n]*)")
  if not ok then
    local why = how == "exit" and ("exit status " .. tostring(code)) or ("killed by signal " .. tostring(code))
    return nil, string.format("profile '%s': %s failed (%s)", profile.name, field, why), stderr
  end
  if not line or line == "" then
    return nil, string.format("profile '%s': %s printed nothing", profile.name, field), stderr
  end
  redact.add(line)
  return line
end

return M
