-- cdnctl.config: where base URLs and keys come from, in one place. One
-- source gives every service's key and base URLs, never mixed: the first
-- set of --sandbox, the run's profile (--profile, CDNCTL_PROFILE, a ready
-- script's --profile), the environment (when it sets any of its
-- variables), the config's default_profile. A service that source does not
-- configure has no key, and nothing is taken from a lower source; URLs it
-- does not give are the built-in defaults; opts.key replaces the key only.
-- Stderr names once per run the lower sources set and ignored. M.resolve
-- decides, once per settings value (in s.resolved, which settings.change
-- empties whole), for cdnctl.request, whoami, profiles and the prompt
-- (docs/architecture.md, "Keys: where a call's key comes from"). The
-- services' names, variables and defaults are cdnctl.ops.services'.

local redact = require "cdnctl.redact"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"

local M = {}

local SERVICES = ops.services

-- A source: {kind, name (for people: "profile 'x' (--profile)"), view =
-- function(service) -> the service's part, or nil when the source does not
-- configure it: {key_source, key, key_cmd, urls = {sp=...}, url_label, profile}.

-- The sandbox (settings.sandbox), or nil.
local function sandbox_source(s)
  local o = s.sandbox
  if next(o.keys) == nil and next(o.urls) == nil then return nil end
  return { kind = "sandbox", name = "--sandbox", view = function(service)
    local urls, any = {}, o.keys[service] ~= nil
    for _, u in ipairs(SERVICES[service].urls) do
      urls[u.name] = o.urls[u.name]
      any = any or o.urls[u.name] ~= nil
    end
    if not any then return nil end
    return { key_source = "--sandbox", key = o.keys[service], urls = urls, url_label = "--sandbox" }
  end }
end

-- The environment (settings.env, read once at start), or nil when it sets
-- none of its variables; its name lists what is set.
local function env_source(s)
  local set = {}
  for _, service in ipairs(ops.service_order) do
    local svc = SERVICES[service]
    if s.env[svc.key_env] then set[#set + 1] = svc.key_env end
    for _, u in ipairs(svc.urls) do if s.env[u.env] then set[#set + 1] = u.env end end
  end
  if #set == 0 then return nil end
  return { kind = "environment", name = "the environment (" .. table.concat(set, ", ") .. ")", view = function(service)
    local svc = SERVICES[service]
    local urls, labels, any = {}, {}, s.env[svc.key_env] ~= nil
    for _, u in ipairs(svc.urls) do
      urls[u.name], labels[u.name] = s.env[u.env], u.env
      any = any or urls[u.name] ~= nil
    end
    if not any then return nil end
    return { key_source = svc.key_env, key = s.env[svc.key_env], urls = urls, url_label = labels }
  end }
end

-- The profile p, or nil.
local function profile_source(p)
  if not p then return nil end
  local label = "profile '" .. p.name .. "'"
  return { kind = "profile", profile = p, name = label .. " (" .. tostring(p.via or "profile") .. ")", view = function(service)
    local svc = SERVICES[service]
    local urls, any = {}, p[svc.key_field] or p[svc.key_cmd_field]
    for _, u in ipairs(svc.urls) do
      urls[u.name] = p[u.field]
      any = any or urls[u.name]
    end
    if not any then return nil end
    return { key_source = label, key = p[svc.key_field], key_cmd = p[svc.key_cmd_field] and svc.key_cmd_field,
             urls = urls, url_label = label, profile = p }
  end }
end

-- Every source set, first (the one used) first.
local function candidates(s)
  local list = {}
  local function add(src) if src then list[#list + 1] = src end end
  local p = s.profile
  add(sandbox_source(s))
  if p and p.via ~= "default_profile" then add(profile_source(p)) end
  add(env_source(s))
  if p and p.via == "default_profile" then add(profile_source(p)) end
  return list
end

-- Why source src has no key for service (nil when it has one).
local function missing(src, service, part)
  local svc = SERVICES[service]
  if part and (part.key or part.key_cmd) then return nil end
  if src.kind == "profile" then
    if src.profile.broken then return src.profile.broken end -- the config file's words (config_file.load)
    local label = "profile '" .. src.profile.name .. "'"
    if part then return string.format("%s sets URLs for %s but no %s or %s", label, svc.label, svc.key_field, svc.key_cmd_field) end
    return string.format("%s has no %s key (no %s or %s; keys never come from another source)", label, svc.label,
      svc.key_field, svc.key_cmd_field)
  elseif src.kind == "environment" then
    if part then
      local set = {}
      for _, u in ipairs(svc.urls) do if part.urls[u.name] then set[#set + 1] = u.env end end
      return string.format("the environment sets %s but not %s (a key and its URLs come from one source)",
        table.concat(set, ", "), svc.key_env)
    end
    return string.format("the environment has no %s key (%s is not set; keys never come from another source)",
      svc.label, svc.key_env)
  elseif src.kind == "sandbox" then
    return "--sandbox has no " .. svc.label .. " key"
  end
  return nil
end

-- Say once per run (settings value) and source which lower sources were
-- set and ignored, in one line.
local function note_ignored(s, choice)
  local list = choice.list
  if #list < 2 or s.noted[list[1].name] then return end
  s.noted[list[1].name] = true
  local others = {}
  for i = 2, #list do others[#others + 1] = list[i].name end
  io.stderr:write(string.format("cdnctl: keys and URLs from %s; set and ignored: %s\n", list[1].name,
    table.concat(others, ", ")))
end

-- Say once per run when the rule of earlier versions (the first source
-- that configures a service, per service) would have taken service's key
-- from a lower source than the one used.
local function note_migration(s, choice, service, view)
  if view.key or view.key_cmd or s.noted.migration then return end
  for i = 2, #choice.list do
    local part = choice.list[i].view(service)
    if part and (part.key or part.key_cmd) then
      s.noted.migration = true
      io.stderr:write(string.format("cdnctl: note: %s; earlier versions took its %s key from %s: every service's "
        .. "key and URLs now come from one source (README, \"Which account\")\n", view.missing,
        SERVICES[service].label, part.key_source))
      return
    end
  end
end

-- Where a key of service would come from in src when src has none.
local function key_label(src, service)
  if src.kind == "profile" then return "profile '" .. src.profile.name .. "'" end
  if src.kind == "environment" then return SERVICES[service].key_env end
  return src.name
end

-- The source of every service for calls under s (chosen once, in s.resolved).
local function choose(s)
  local choice = s.resolved.choice
  if not choice then
    local list = candidates(s)
    choice = { list = list, src = list[1] or { kind = "none", name = "no source", view = function() return nil end } }
    s.resolved.choice = choice
  end
  return choice
end

-- M.source(s) -> the source every call under s uses: {kind = "sandbox" |
-- "profile" | "environment" | "none", name, profile}.
function M.source(s)
  return choose(s).src
end

-- M.resolve(s, service [, quiet]) -> service's view of the source:
-- {kind, name, key_source, key, key_cmd, missing, urls = {sp=, api=} (all
-- filled), url_sources = {sp=...}, profile}. s: the settings value. The key
-- of a key command is not run for here: M.key does it. quiet: no note on
-- stderr (cdnctl profiles).
function M.resolve(s, service, quiet)
  local choice = choose(s)
  local memo = s.resolved[service]
  if not memo then
    local src = choice.src
    local part = src.view(service)
    local view = { kind = src.kind, name = src.name, profile = src.profile, urls = {}, url_sources = {},
                   key_source = part and part.key_source or key_label(src, service), key = part and part.key,
                   key_cmd = part and part.key_cmd, missing = missing(src, service, part) }
    for _, u in ipairs(SERVICES[service].urls) do
      local w, label = u.name, part and part.url_label
      if type(label) == "table" then label = label[w] end
      local url = part and part.urls[w]
      if url then view.urls[w], view.url_sources[w] = url, label
      else view.urls[w], view.url_sources[w] = u.default, "built-in default" end
      view.urls[w] = view.urls[w]:gsub("/+$", "")
    end
    memo = view
    s.resolved[service] = memo
  end
  if not quiet then
    note_ignored(s, choice)
    note_migration(s, choice, service, memo)
  end
  return memo
end

-- M.url(s, which) -> the base URL named `which` in path templates (sp, api, ez).
function M.url(s, which)
  return M.resolve(s, ops.base_urls[which].service).urls[which]
end

-- Run a profile's key command once per run and service; its failure is
-- remembered and said once on stderr, with the command's own stderr.
local function key_from_cmd(s, p, service)
  local id = p.name .. "\0" .. service
  local r = s.key_cmds[id]
  if not r then
    local key, err, stderr = require("cdnctl.config_file").run_key_cmd(p, service)
    r = { key = key, err = err }
    s.key_cmds[id] = r
    if err then
      io.stderr:write("cdnctl: ", err, stderr and (": " .. redact.mask(stderr)) or "", "\n")
    end
  end
  return r.key, r.err
end

-- The key for a service, and where it came from ("opts.key", "--sandbox",
-- "profile 'NAME'", "SHORTPIXEL_API_KEY"), or nil, where, and why (no key
-- from the source used, a failed *_key_cmd, a key check.key refuses); the
-- source is the fourth value.
function M.key(s, service, opts_key)
  local src = M.resolve(s, service)
  if opts_key == nil and src.key_found then return src.key_found, src.key_source, nil, src end
  local k, from = src.key, src.key_source
  if opts_key ~= nil then
    k, from = opts_key, "opts.key"
  elseif not k and src.key_cmd then
    local err
    k, err = key_from_cmd(s, src.profile, service)
    if not k then return nil, from, err, src end
  end
  if k == nil then return nil, from, nil, src end
  if type(k) == "string" then redact.add(k) end
  local ok, kerr = check.key(k, "key (from " .. tostring(from) .. ")")
  if not ok then return nil, from, kerr, src end
  M.warn_shape(s, service, k, from)
  if opts_key == nil then src.key_found = k end -- the source's key, found and checked once
  return k, from, nil, src
end

-- One line on stderr, once per key per run, when a key that cdnctl accepts
-- does not have its service's known shape (a truncated paste, the other
-- service's key). Never a refusal; the key shows masked. The keys warned
-- about are the settings value's (s.shape_warned).
function M.warn_shape(s, service, key, from)
  if s.shape_warned[key] or not check.key(key) then return end
  local shape = check.key_shape(service, key)
  if not shape then return end
  s.shape_warned[key] = true
  io.stderr:write(string.format("cdnctl: warning: the %s key %s (from %s) does not look like one: %s\n",
    SERVICES[service].label, redact.short(key), tostring(from), shape))
end

-- Sub-keys are client credentials. Every sub-key a binding is given
-- (values.sub_key) or answers with (sub_key, the keys list of show_keys)
-- is registered for masking, so it shows as ****abcd in everything printed
-- from then on; the values given back to Lua are unchanged. Returns its
-- arguments, so that it can wrap a binding's results.
-- (Most tables have none of the three fields: testing for nil first spares
-- the calls of type.)
function M.note_secrets(t, ...)
  if type(t) ~= "table" or getmetatable(t) ~= nil then return t, ... end
  local sub_key, api_key, keys = t.sub_key, t.api_key, t.keys
  if sub_key ~= nil and type(sub_key) == "string" then redact.add(sub_key) end
  if api_key ~= nil and type(api_key) == "string" then redact.add(api_key) end
  if keys ~= nil and type(keys) == "table" then
    for _, k in ipairs(keys) do
      if type(k) == "string" then redact.add(k) end
    end
  end
  return t, ...
end

-- The host of a URL, or nil and why: userinfo ("user@host") is refused, so
-- that what looks like the host is the host.
local function url_host(url)
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil, "not an http(s) URL: " .. url end
  if authority:find("@", 1, true) then return nil, "the URL has user information ('@'): " .. scheme .. "://..." end
  local host = authority:match("^%[([^%]]+)%]") or authority:match("^([^:]*)")
  if host == "" then return nil, "the URL has no host" end
  return host:lower(), scheme:lower()
end

-- Loopback only: localhost, 127.x.y.z written as an address, ::1.
local function is_loopback(host)
  if host == "localhost" or host == "::1" then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return a == "127" and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256
end

-- A key may be sent in clear only to loopback; everything else needs https.
function M.transport_ok(s, url)
  local host, scheme = url_host(url)
  if not host then return false, "refusing to send an API key: " .. scheme end
  if scheme == "https" then return true end
  if scheme ~= "http" then return false, "refusing to send an API key with " .. scheme .. "://: http(s) only" end
  if scheme == "http" and is_loopback(host) then return true end
  if scheme == "http" and s.allow_http then return true end
  return false, "refusing to send an API key over plain http to " .. host
    .. " (use https, or --allow-http for a host you trust)"
end

return M
