-- cdnctl.config: where base URLs and keys come from, in one place.
-- Keys: opts.key, else the environment (SHORTPIXEL_API_KEY, EASYIO_API_KEY),
-- else the selected profile; under --sandbox the sandbox's demo keys replace
-- the environment and the profile, so no real key is ever sent to it.

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

-- Overrides set by --sandbox or a profile: {urls = {sp=, api=, ez=}, keys = {shortpixel=, easyio=}}
M.override = { urls = {}, keys = {} }
M.profile = nil       -- {name=, shortpixel_key=, easyio_key=, shortpixel_url=, easyio_url=}
M.allow_http = false

local function nonempty(s) return s ~= nil and s ~= "" and s or nil end

function M.url(which)
  local u = M.override.urls[which] or nonempty(os.getenv(URL_ENV[which]))
  if not u and M.profile then
    if which == "ez" then u = M.profile.easyio_url
    elseif which == "sp" then u = M.profile.shortpixel_url
    elseif which == "api" then u = M.profile.shortpixel_api_url end
  end
  u = u or M.DEFAULT_URLS[which]
  return (u:gsub("/+$", ""))
end

-- The key for a service, and where it came from ("option", "environment",
-- "profile NAME", "sandbox"), or nil (and, for a failed *_key_cmd, why).
function M.key(service, opts_key)
  local k, from
  if opts_key ~= nil then
    k, from = opts_key, "option"
  elseif M.override.keys[service] then
    k, from = M.override.keys[service], "sandbox"
  elseif nonempty(os.getenv(KEY_ENV[service])) then
    k, from = os.getenv(KEY_ENV[service]), "environment"
  elseif M.profile and (M.profile[service .. "_key"] or M.profile[service .. "_key_cmd"]) then
    from = "profile " .. M.profile.name
    if not M.profile[service .. "_key"] then
      -- run the command once per process; a failure is remembered too
      local cmdkey, err = require("cdnctl.profiles").run_key_cmd(M.profile, service)
      M.profile[service .. "_key"] = cmdkey or false
      M.profile[service .. "_key_error"] = err
    end
    k = M.profile[service .. "_key"] or nil
    if not k then return nil, from, M.profile[service .. "_key_error"] end
  end
  if type(k) == "string" then
    redact.add(k)
    M.warn_shape(service, k, from)
  end
  return k, from
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
    service == "shortpixel" and "ShortPixel" or "Easy IO", redact.short(key), from == "option" and "opts.key" or tostring(from), shape))
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
