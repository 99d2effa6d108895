-- cdnctl.cli.profiles: `cdnctl profiles` lists the config file's profiles
-- with keys masked; key commands are named, not run. The last line says
-- which source each service uses (config.resolve: --profile, the
-- environment, default_profile), as `cdnctl whoami` does in full.

local redact = require "cdnctl.redact"
local profiles = require "cdnctl.profiles"
local config = require "cdnctl.config"

local M = {}

local function show(p, service)
  if p[service .. "_key"] then return redact.short(p[service .. "_key"]) end
  if p[service .. "_key_cmd"] then return "(from command)" end
  return "-"
end

function M.main(cfg, names_only)
  if names_only then -- for shell completion
    local names = {}
    for n in pairs(cfg and cfg.profiles or {}) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do io.stdout:write(n, "\n") end
    return 0
  end
  if not cfg then
    io.stdout:write("no config file (", profiles.path(), ")\n")
    return 0
  end
  local names = {}
  for n in pairs(cfg.profiles) do names[#names + 1] = n end
  table.sort(names)
  io.stdout:write(string.format("%-20s %-16s %-16s\n", "PROFILE", "SHORTPIXEL", "EASYIO"))
  for _, n in ipairs(names) do
    local p = cfg.profiles[n]
    io.stdout:write(string.format("%-20s %-16s %-16s%s\n", n, show(p, "shortpixel"), show(p, "easyio"),
      n == cfg.default_profile and "  (default)" or ""))
  end
  local used = {}
  for _, service in ipairs({ "shortpixel", "easyio" }) do
    local src = config.resolve(service, true)
    used[#used + 1] = config.NAMES[service] .. (src.kind == "none" and ": no key" or (" from " .. src.name))
  end
  io.stdout:write("in use: ", table.concat(used, ", "), " (details: cdnctl whoami)\n")
  return 0
end

return M
