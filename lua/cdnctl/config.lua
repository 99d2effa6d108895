-- cdnctl.config: where base URLs and keys come from, in one place.
-- A service's key and base URLs come together from one source, never mixed,
-- the first set of: --sandbox (M.override); an explicit profile (--profile
-- NAME or CDNCTL_PROFILE); the environment (SHORTPIXEL_API_KEY /
-- EASYIO_API_KEY and the CDNCTL_*_URL variables); the config's
-- default_profile. A source is set for a service when it gives anything for
-- it (a key, a key command, a URL); URLs it does not give are the built-in
-- defaults. opts.key in a call replaces the key only: the URLs stay those of
-- the source that would otherwise apply. M.resolve is the one function that
-- decides, for the bindings, `cdnctl whoami`, `cdnctl profiles` and the prompt.

local redact = require "cdnctl.redact"
local check = require "cdnctl.check"

local M = {}

M.DEFAULT_URLS = {
  sp = "https://no-cdn.shortpixel.ai",
  api = "https://api.shortpixel.com",
  ez = "https://optimize.exactlywww.com",
}
local URL_ENV = { sp = "CDNCTL_SHORTPIXEL_URL", api = "CDNCTL_SHORTPIXEL_API_URL", ez = "CDNCTL_EASYIO_URL" }
local KEY_ENV = { shortpixel = "SHORTPIXEL_API_KEY", easyio = "EASYIO_API_KEY" }
M.KEY_ENV = KEY_ENV
-- the base URLs of each service, and the profile field that sets each
M.URLS_OF = { shortpixel = { "sp", "api" }, easyio = { "ez" } }
local SERVICE_OF = { sp = "shortpixel", api = "shortpixel", ez = "easyio" }
local PROFILE_URL = { sp = "shortpixel_url", api = "shortpixel_api_url", ez = "easyio_url" }
M.NAMES = { shortpixel = "ShortPixel", easyio = "Easy IO" }

-- Overrides set by --sandbox (or a test's fixture): {urls = {sp=, api=, ez=}, keys = {shortpixel=, easyio=}}
M.override = { urls = {}, keys = {} }
-- The selected profile: {name=, via = "--profile" | "CDNCTL_PROFILE" | "default_profile", fields...}
M.profile = nil
M.allow_http = false
-- The result of each profile's key command, per run: ["name\0service"] = {key=} | {err=}
M.key_cmds = {}
-- Services whose choice between two sources has been said on stderr.
M.noted = {}

local function nonempty(s) return s ~= nil and s ~= "" and s or nil end

-- The sandbox as a source for service, or nil.
local function sandbox_source(service)
  local o = M.override
  local urls, any = {}, o.keys[service] ~= nil
  for _, w in ipairs(M.URLS_OF[service]) do
    urls[w] = o.urls[w]
    any = any or o.urls[w] ~= nil
  end
  if not any then return nil end
  return { kind = "sandbox", name = "--sandbox", key_source = "--sandbox", key = o.keys[service],
           urls = urls, url_label = "--sandbox" }
end

-- The environment as a source for service, or nil; name lists what is set.
local function env_source(service)
  local set, urls = {}, {}
  local key = nonempty(os.getenv(KEY_ENV[service]))
  if key then set[#set + 1] = KEY_ENV[service] end
  for _, w in ipairs(M.URLS_OF[service]) do
    urls[w] = nonempty(os.getenv(URL_ENV[w]))
    if urls[w] then set[#set + 1] = URL_ENV[w] end
  end
  if #set == 0 then return nil end
  local src = { kind = "environment", name = "the environment (" .. table.concat(set, ", ") .. ")",
                key_source = KEY_ENV[service], key = key, urls = urls, url_label = URL_ENV }
  if not key then
    src.missing = string.format("the environment sets %s but not %s (a key and its URLs come from one source)",
      table.concat(set, ", "), KEY_ENV[service])
  end
  return src
end

-- The profile p as a source for service, or nil when it gives nothing for it.
local function profile_source(p, service)
  local urls, any = {}, p[service .. "_key"] or p[service .. "_key_cmd"]
  for _, w in ipairs(M.URLS_OF[service]) do
    urls[w] = p[PROFILE_URL[w]]
    any = any or urls[w]
  end
  if not any then return nil end
  local label = "profile '" .. p.name .. "'"
  local src = { kind = "profile", profile = p, name = label .. " (" .. tostring(p.via or "profile") .. ")",
                key_source = label, key = p[service .. "_key"], key_cmd = p[service .. "_key_cmd"] and (service .. "_key_cmd"),
                urls = urls, url_label = label }
  if not src.key and not src.key_cmd then
    src.missing = string.format("%s sets URLs for %s but no %s_key or %s_key_cmd", label, M.NAMES[service], service, service)
  end
  return src
end

-- Every source set for service, first (the one used) first.
local function candidates(service)
  local list = {}
  local function add(s) if s then list[#list + 1] = s end end
  local p = M.profile
  add(sandbox_source(service))
  if p and p.via ~= "default_profile" then add(profile_source(p, service)) end
  add(env_source(service))
  if p and p.via == "default_profile" then add(profile_source(p, service)) end
  return list
end

-- Say once per run and service which of two (or more) set sources is used.
local function note_choice(service, list)
  if #list < 2 or M.noted[service] then return end
  M.noted[service] = true
  local others = {}
  for i = 2, #list do others[#others + 1] = list[i].name end
  io.stderr:write(string.format("cdnctl: %s: using the key and URLs of %s, not those of %s\n",
    M.NAMES[service], list[1].name, table.concat(others, " or ")))
end

-- M.resolve(service [, quiet]) -> source: {kind, name, key_source, key,
-- key_cmd, missing, urls = {sp=, api=} (all filled), url_sources = {sp=...}}.
-- The key of a key command is not run for here: M.key does it. quiet: no
-- note on stderr (cdnctl profiles).
function M.resolve(service, quiet)
  local list = candidates(service)
  local src = list[1] or { kind = "none", name = "no source", urls = {}, url_label = "built-in default" }
  if not quiet then note_choice(service, list) end
  src.url_sources = {}
  for _, w in ipairs(M.URLS_OF[service]) do
    local label = src.url_label
    if type(label) == "table" then label = label[w] end
    if src.urls[w] then src.url_sources[w] = label
    else src.urls[w], src.url_sources[w] = M.DEFAULT_URLS[w], "built-in default" end
    src.urls[w] = src.urls[w]:gsub("/+$", "")
  end
  return src
end

function M.url(which)
  return M.resolve(SERVICE_OF[which]).urls[which]
end

-- Run a profile's key command once per run and service; its failure is
-- remembered and said once on stderr, with the command's own stderr.
local function key_from_cmd(p, service)
  local id = p.name .. "\0" .. service
  local r = M.key_cmds[id]
  if not r then
    local key, err, stderr = require("cdnctl.config_file").run_key_cmd(p, service)
    r = { key = key, err = err }
    M.key_cmds[id] = r
    if err then
      io.stderr:write("cdnctl: ", err, stderr and (": " .. redact.mask(stderr)) or "", "\n")
    end
  end
  return r.key, r.err
end

-- The key for a service, and where it came from ("opts.key", "--sandbox",
-- "profile 'NAME'", "SHORTPIXEL_API_KEY"), or nil, where, and why (no key
-- from the source used, a failed *_key_cmd); the source is the fourth value.
function M.key(service, opts_key)
  local src = M.resolve(service)
  local k, from = src.key, src.key_source
  if opts_key ~= nil then
    k, from = opts_key, "opts.key"
  elseif not k and src.key_cmd then
    local err
    k, err = key_from_cmd(src.profile, service)
    if not k then return nil, from, err, src end
  end
  if type(k) == "string" then
    redact.add(k)
    M.warn_shape(service, k, from)
  end
  return k, from, nil, src
end

-- One line on stderr, once per key per run, when a key that cdnctl accepts
-- does not have its service's known shape (a truncated paste, the other
-- service's key). Never a refusal; the key shows masked. The set of keys
-- warned about lives here for the process's lifetime.
local shape_warned = {}
function M.warn_shape(service, key, from)
  if shape_warned[key] or not check.key(key) then return end
  local shape = check.key_shape(service, key)
  if not shape then return end
  shape_warned[key] = true
  io.stderr:write(string.format("cdnctl: warning: the %s key %s (from %s) does not look like one: %s\n",
    M.NAMES[service], redact.short(key), tostring(from), shape))
end

-- Sub-keys are client credentials. Every sub-key a binding is given
-- (values.sub_key) or answers with (sub_key, the keys list of show_keys)
-- is registered for masking, so it shows as ****abcd in everything printed
-- from then on; the values given back to Lua are unchanged. Returns its
-- arguments, so that it can wrap a binding's results.
function M.note_secrets(t, ...)
  if type(t) == "table" and getmetatable(t) == nil then
    for _, field in ipairs({ "sub_key", "api_key" }) do
      if type(t[field]) == "string" then redact.add(t[field]) end
    end
    if type(t.keys) == "table" then
      for _, k in ipairs(t.keys) do
        if type(k) == "string" then redact.add(k) end
      end
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
function M.transport_ok(url)
  local host, scheme = url_host(url)
  if not host then return false, "refusing to send an API key: " .. scheme end
  if scheme == "https" then return true end
  if scheme ~= "http" then return false, "refusing to send an API key with " .. scheme .. "://: http(s) only" end
  if scheme == "http" and is_loopback(host) then return true end
  if scheme == "http" and M.allow_http then return true end
  return false, "refusing to send an API key over plain http to " .. host
    .. " (use https, or --allow-http for a host you trust)"
end

return M
