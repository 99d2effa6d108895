-- cdnctl.front.profiles: `cdnctl profiles [--json] [--jq EXPR]` lists the config file's
-- profiles: keys masked (key commands named, not run), each profile's base
-- URLs (its own or the built-in defaults; "none" for a service it does not
-- name), the active one marked: the one every service's key and URLs come
-- from now (--profile or CDNCTL_PROFILE; else the environment, when it sets
-- any key or URL, comes before default_profile). The last line says which
-- source is in use and which services it has a key for (config.source,
-- config.resolve), as `cdnctl whoami` does in full.

local redact = require "cdnctl.redact"
local profiles = require "cdnctl.config_file"
local config = require "cdnctl.config"
local json = require "cdnctl.json"
local ops = require "cdnctl.ops"

local M = {}

local USAGE = [[usage: cdnctl [--profile NAME] profiles [--json] [--jq EXPR]

Lists the profiles of ]] .. "%s" .. [[ with their keys masked (a
key command is named, not run), their base URLs ("none" for a service a
profile does not name: it has no key for it), and the active profile
marked with *. Every service's key and URLs come from one source: the
first of --sandbox; --profile or CDNCTL_PROFILE; the environment, when it
sets any key or URL; the config's default_profile. A service that source
does not configure has no key (none is taken from another source).
A profile with an error is listed as broken, with the reason: it fails
only the commands that use it. --json prints one JSON document instead;
--jq EXPR filters it through libjq (each output on a line, strings as
text). The last line says which source is in use and which services it
has a key for (details: cdnctl whoami).]]

local function key_shown(p, service)
  if p[service .. "_key"] then return redact.short(p[service .. "_key"]) end
  if p[service .. "_key_cmd"] then return "(from command)" end
  return nil
end

-- Whether profile p names service at all (a key, a key command or a URL).
local function names_service(p, service)
  local svc = ops.services[service]
  if p[svc.key_field] or p[svc.key_cmd_field] then return true end
  for _, u in ipairs(svc.urls) do if p[u.field] then return true end end
  return false
end

-- A profile's base URLs, its own or the built-in defaults (ops.services),
-- for each service it names: {{json = "shortpixel_api", label = "api",
-- url}...}, in the services' order; a service's first URL is labelled with
-- the service's name. A service the profile does not name has one entry
-- with url = nil: it has none (keys never come from another source).
local function urls_of(p)
  local list = {}
  for _, service in ipairs(ops.service_order) do
    local named = names_service(p, service)
    for i, u in ipairs(ops.services[service].urls) do
      if named or i == 1 then
        list[#list + 1] = { json = u.field:gsub("_url$", ""), label = i == 1 and service or u.name,
                            url = named and (p[u.field] or u.default) or nil }
      end
    end
  end
  return list
end

-- Per service, the source its key comes from now, or "no key".
local function in_use(s)
  local used = {}
  for _, service in ipairs(ops.service_order) do
    local src = config.resolve(s, service, true)
    used[service] = (src.key or src.key_cmd) and src.name or "no key"
  end
  return used
end

local function sorted_names(cfg)
  local names = {}
  for n in pairs(cfg.profiles) do names[#names + 1] = n end
  table.sort(names)
  return names
end

-- Write the JSON document doc, through the --jq filter when there is one.
-- -> exit status
local function write_json(doc, jq)
  if not jq then io.stdout:write(json.encode(doc), "\n"); return 0 end
  local text, err = require("cdnctl.front.output").jq(doc, jq.filter, jq.expr, require("cdnctl.fs").isatty(1))
  if not text then io.stderr:write("cdnctl profiles: ", err, "\n"); return 1 end
  io.stdout:write(text)
  return 0
end

local function print_json(cfg, active, s, jq)
  local list = {}
  for _, n in ipairs(sorted_names(cfg)) do
    local p, urls = cfg.profiles[n], {}
    for _, u in ipairs(urls_of(p)) do urls[u.json] = u.url or json.null end
    list[#list + 1] = { name = n, active = n == active, default = n == cfg.default_profile,
      shortpixel_key = key_shown(p, "shortpixel") or json.null, easyio_key = key_shown(p, "easyio") or json.null,
      urls = urls, broken = p.broken }
  end
  return write_json({ path = cfg.path, active = active or json.null,
    default_profile = cfg.default_profile or json.null, profiles = #list > 0 and list or json.empty_array,
    in_use = in_use(s) }, jq)
end

local function print_table(cfg, active, s)
  local rows = { { "", "PROFILE", "SHORTPIXEL KEY", "EASYIO KEY", "URLS" } }
  for _, n in ipairs(sorted_names(cfg)) do
    local p, urls = cfg.profiles[n], {}
    for _, u in ipairs(urls_of(p)) do urls[#urls + 1] = u.label .. " " .. (u.url or "none") end
    rows[#rows + 1] = { n == active and "*" or "", n, key_shown(p, "shortpixel") or "-", key_shown(p, "easyio") or "-",
      p.broken and ("broken: " .. p.broken) or table.concat(urls, ", ") .. (n == cfg.default_profile and "  (default)" or "") }
  end
  local w = {}
  for _, r in ipairs(rows) do for c = 1, 4 do w[c] = math.max(w[c] or 1, #r[c]) end end
  for _, r in ipairs(rows) do
    io.stdout:write(string.format("%-" .. w[1] .. "s %-" .. w[2] .. "s  %-" .. w[3] .. "s  %-" .. w[4] .. "s  %s\n",
      r[1], r[2], r[3], r[4], r[5]))
  end
  local used = in_use(s)
  io.stdout:write(string.format("in use: %s for every service: ShortPixel %s, Easy IO %s (details: cdnctl whoami)\n",
    config.source(s).name, used.shortpixel == "no key" and "no key" or "key",
    used.easyio == "no key" and "no key" or "key"))
  return 0
end

-- M.main(cfg, args, s): args are the words after "profiles"; s the settings
-- value (cdnctl.settings) whose sources are shown.
function M.main(cfg, args, s)
  local as_json, names_only, jq = false, false, nil
  local i = 0
  while i < #(args or {}) do
    i = i + 1
    local a = args[i]
    local inline = a:match("^%-%-jq=(.*)$")
    if a == "--names" then names_only = true -- for shell completion
    elseif a == "--json" then as_json = true
    elseif a == "--jq" or inline then
      local expr = inline or args[i + 1]
      if not inline then i = i + 1 end
      if expr == nil or expr == "" then io.stderr:write("cdnctl profiles: --jq needs an expression\n"); return 2 end
      local filter, jerr = require("cdnctl.front.output").jq_filter(expr)
      if not filter then io.stderr:write("cdnctl profiles: ", jerr, "\n"); return 2 end
      jq, as_json = { filter = filter, expr = expr }, true
    elseif a == "--help" or a == "-h" then io.stdout:write(USAGE:format(profiles.path()), "\n"); return 0
    else
      io.stderr:write("cdnctl profiles: unknown argument '", a, "'", require("cdnctl.suggest").hint(a, { "--json", "--jq", "--help" }),
        "\nusage: cdnctl [--profile NAME] profiles [--json] [--jq EXPR]\n")
      return 2
    end
  end
  if names_only then
    for _, n in ipairs(cfg and sorted_names(cfg) or {}) do io.stdout:write(n, "\n") end
    return 0
  end
  if not cfg then
    if as_json then return write_json({ path = profiles.path(), profiles = json.empty_array }, jq)
    else io.stdout:write("no config file (", profiles.path(), ")\n") end
    return 0
  end
  -- active: the profile a service's key and URLs come from now (an explicit
  -- --profile wins over the environment; default_profile comes after it)
  local source = config.source(s)
  local active = source.kind == "profile" and source.profile.name or nil
  if as_json then return print_json(cfg, active, s, jq) end
  return print_table(cfg, active, s)
end

return M
