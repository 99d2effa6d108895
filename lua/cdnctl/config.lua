-- cdnctl.config: where base URLs and keys come from, in one place.
-- A service's key and base URLs come together from one source, never mixed,
-- the first set of: --sandbox (settings.sandbox); an explicit profile (--profile
-- NAME or CDNCTL_PROFILE); the environment (SHORTPIXEL_API_KEY /
-- EASYIO_API_KEY and the CDNCTL_*_URL variables); the config's
-- default_profile. A source is set for a service when it gives anything for
-- it (a key, a key command, a URL); URLs it does not give are the built-in
-- defaults. opts.key in a call replaces the key only: the URLs stay those of
-- the source that would otherwise apply. M.resolve is the one function that
-- decides, for the bindings, `cdnctl whoami`, `cdnctl profiles` and the prompt.
-- Every function takes the settings value (cdnctl.settings) first: the
-- sandbox's URLs and keys, the environment read at start, the profile, and
-- what a run remembers (key commands run, notes said, keys warned about).
-- The services' names, variables and defaults are cdnctl.ops.services'.

local redact = require "cdnctl.redact"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"

local M = {}

local SERVICES = ops.services

-- The sandbox (settings.sandbox) as a source for service, or nil.
local function sandbox_source(s, service)
  local o = s.sandbox
  local urls, any = {}, o.keys[service] ~= nil
  for _, u in ipairs(SERVICES[service].urls) do
    urls[u.name] = o.urls[u.name]
    any = any or o.urls[u.name] ~= nil
  end
  if not any then return nil end
  return { kind = "sandbox", name = "--sandbox", key_source = "--sandbox", key = o.keys[service],
           urls = urls, url_label = "--sandbox" }
end

-- The environment (settings.env, read once at start) as a source for
-- service, or nil; name lists what is set.
local function env_source(s, service)
  local svc = SERVICES[service]
  local set, urls, labels = {}, {}, {}
  local key = s.env[svc.key_env]
  if key then set[#set + 1] = svc.key_env end
  for _, u in ipairs(svc.urls) do
    urls[u.name], labels[u.name] = s.env[u.env], u.env
    if urls[u.name] then set[#set + 1] = u.env end
  end
  if #set == 0 then return nil end
  local src = { kind = "environment", name = "the environment (" .. table.concat(set, ", ") .. ")",
                key_source = svc.key_env, key = key, urls = urls, url_label = labels }
  if not key then
    src.missing = string.format("the environment sets %s but not %s (a key and its URLs come from one source)",
      table.concat(set, ", "), svc.key_env)
  end
  return src
end

-- The profile p as a source for service, or nil when it gives nothing for it.
local function profile_source(p, service)
  local svc = SERVICES[service]
  local urls, any = {}, p[svc.key_field] or p[svc.key_cmd_field]
  for _, u in ipairs(svc.urls) do
    urls[u.name] = p[u.field]
    any = any or urls[u.name]
  end
  if not any then return nil end
  local label = "profile '" .. p.name .. "'"
  local src = { kind = "profile", profile = p, name = label .. " (" .. tostring(p.via or "profile") .. ")",
                key_source = label, key = p[svc.key_field], key_cmd = p[svc.key_cmd_field] and svc.key_cmd_field,
                urls = urls, url_label = label }
  if not src.key and not src.key_cmd then
    src.missing = string.format("%s sets URLs for %s but no %s or %s", label, svc.label, svc.key_field,
      svc.key_cmd_field)
  end
  return src
end

-- Every source set for service, first (the one used) first.
local function candidates(s, service)
  local list = {}
  local function add(src) if src then list[#list + 1] = src end end
  local p = s.profile
  add(sandbox_source(s, service))
  if p and p.via ~= "default_profile" then add(profile_source(p, service)) end
  add(env_source(s, service))
  if p and p.via == "default_profile" then add(profile_source(p, service)) end
  return list
end

-- Say once per run (settings value) and service which of two (or more)
-- set sources is used.
local function note_choice(s, service, list)
  if #list < 2 or s.noted[service] then return end
  s.noted[service] = true
  local others = {}
  for i = 2, #list do others[#others + 1] = list[i].name end
  io.stderr:write(string.format("cdnctl: %s: using the key and URLs of %s, not those of %s\n",
    SERVICES[service].label, list[1].name, table.concat(others, " or ")))
end

-- M.resolve(s, service [, quiet]) -> source: {kind, name, key_source, key,
-- key_cmd, missing, urls = {sp=, api=} (all filled), url_sources = {sp=...}}.
-- s: the settings value. The key of a key command is not run for here:
-- M.key does it. quiet: no note on stderr (cdnctl profiles).
function M.resolve(s, service, quiet)
  local memo = s.resolved[service] -- what a run remembers: cleared when its sources change
  if not memo then
    local list = candidates(s, service)
    local src = list[1] or { kind = "none", name = "no source", urls = {}, url_label = "built-in default" }
    src.url_sources = {}
    for _, u in ipairs(SERVICES[service].urls) do
      local w, label = u.name, src.url_label
      if type(label) == "table" then label = label[w] end
      if src.urls[w] then src.url_sources[w] = label
      else src.urls[w], src.url_sources[w] = u.default, "built-in default" end
      src.urls[w] = src.urls[w]:gsub("/+$", "")
    end
    memo = { src = src, list = list }
    s.resolved[service] = memo
  end
  -- once note_choice has run for this memo it has nothing more to say (it
  -- said its note, or there was none to say): memo.said skips the call
  if not quiet and not memo.said then note_choice(s, service, memo.list); memo.said = true end
  return memo.src
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
-- from the source used, a failed *_key_cmd); the source is the fourth value.
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
  if type(k) == "string" then
    redact.add(k)
    M.warn_shape(s, service, k, from)
    if opts_key == nil then src.key_found = k end -- the source's key, checked once
  end
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

-- M.transport_ok_on(s, base, url): M.transport_ok(s, url) for a URL that
-- starts with the base URL `base` (M.url) then "/" (every path template
-- is "{base}/..."). When base itself passes (so it is "scheme://host..."),
-- every such URL has base's scheme and host, which with s.allow_http are
-- all the rule reads: so "allowed" is remembered per base URL in
-- s.resolved.transport (which goes with the rest of s.resolved when the
-- sources change, and is dropped when s.allow_http is not the one it was
-- made under), and later calls skip parsing the URL. A refusal is never
-- remembered (its message may quote the whole URL): it is worked out again,
-- as is any URL not of that shape.
function M.transport_ok_on(s, base, url)
  local on_base = url:find(base, 1, true) == 1 and url:byte(#base + 1) == 47 -- "/"
  local memo = s.resolved.transport
  if not memo or memo.allow_http ~= s.allow_http then
    memo = { allow_http = s.allow_http, ok = {} }
    s.resolved.transport = memo
  end
  if on_base and memo.ok[base] then return true end
  local ok, why = M.transport_ok(s, url)
  if not ok then return ok, why end
  if on_base and M.transport_ok(s, base) then memo.ok[base] = true end
  return true
end

return M
