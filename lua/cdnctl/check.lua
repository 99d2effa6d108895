-- cdnctl.check: validation of everything a user can hand a binding, before
-- any request exists. Each checker takes (value, argname) and returns the
-- normalised value, or nil and a message that names the argument and says
-- why. Nothing malformed ever reaches a URL or a form body. check.args and
-- check.option apply them to a whole call, by the table of operations: the
-- one rule the bindings, `call`'s question and `--dry-run` share.

local codec = require "cdnctl.codec"

local M = {}

local function fail(argname, why)
  return nil, argname .. ": " .. why
end

local function describe_char(c)
  local names = { [" "] = "a space", ["/"] = "'/'", ["?"] = "'?'", ["#"] = "'#'", ["%"] = "'%'",
    ["@"] = "'@'", ["\\"] = "'\\'", ["&"] = "'&'", [":"] = "':'" }
  if names[c] then return names[c] end
  if c:match("%c") then return string.format("a control character (0x%02X)", c:byte()) end
  if c:match("%s") then return "whitespace" end
  return "'" .. c .. "'"
end

-- A value as messages quote it: at most 40 characters, control characters as '?'.
local function quote(v)
  local q = v:sub(1, 40):gsub("%c", "?")
  return "'" .. q .. (#v > 40 and "...'" or "'")
end

-- Longer than any value the services take: refused before any other work,
-- so that a 100 MB string costs nothing and is never quoted whole.
local function too_long(v, argname, max, what)
  if #v <= max then return nil end
  return fail(argname, string.format("is %d bytes long, more than %d (%s %s)", #v, max, what, quote(v)))
end

-- The host a name written by a person stands for: a URL's host, no byte a
-- hostname cannot have, IDNA's ASCII form, lower case. -> host | nil, message
local function host_of(v, argname)
  local s = v
  local scheme_rest = s:match("^[Hh][Tt][Tt][Pp][Ss]?://(.*)$")
  if scheme_rest then
    -- a URL: keep its host, drop the path, query and fragment
    s = scheme_rest:match("^([^/?#]*)")
    if s == "" then return fail(argname, "URL has no host") end
    if s:find("@", 1, true) then return fail(argname, "URL has user information ('@'); give the host alone") end
    if s:find(":", 1, true) then return fail(argname, "URL has a port; give the host alone") end
  end
  -- every byte but letters, digits, '.', '_', '-' and non-ASCII (for IDNA)
  local bad = s:match("[^%w._%-\128-\255]")
  if bad then return fail(argname, "contains " .. describe_char(bad) .. " in " .. quote(v)) end
  if s:find("[\128-\255]") then
    local ascii, err = codec.idna(s)
    if not ascii then return fail(argname, "is not a valid internationalised domain name (" .. err .. ")") end
    s = ascii
  end
  return s:lower()
end

-- A bare hostname: "Example.COM" -> "example.com"; "https://x.com/shop" -> "x.com";
-- "bücher.de" -> "xn--bcher-kva.de". Refuses paths, ports, userinfo, bad labels.
-- A name of lower-case letters, digits, '_', '.' and '-' alone is its own
-- host (no URL, nothing to encode or lower): host_of has nothing to do.
function M.domain(v, argname)
  argname = argname or "domain"
  if type(v) ~= "string" then return fail(argname, "expected a string, got " .. type(v)) end
  if v == "" then return fail(argname, "is empty") end
  if #v > 2048 then return too_long(v, argname, 2048, "a domain has at most 253 characters:") end
  local s, err = v, nil
  local plain = not v:find("[^a-z0-9_.-]")
  if not plain then
    s, err = host_of(v, argname)
    if not s then return nil, err end
    plain = not s:find("[^a-z0-9_.-]")
  end
  if s:find("..", 1, true) then return fail(argname, "contains an empty label ('..')") end
  if s:sub(-1) == "." then s = s:sub(1, -2) end -- a fully qualified name's final dot
  if #s > 253 then return fail(argname, "is longer than 253 characters") end
  if s:sub(1, 1) == "." then return fail(argname, "starts with a dot") end
  if not s:find(".", 1, true) then return fail(argname, "'" .. s .. "' has no dot: a domain such as example.com is needed") end
  -- the labels are read one by one only when one of them breaks a rule,
  -- to name the first that does
  if #s <= 63 and plain and s:byte(1) ~= 45 and s:byte(-1) ~= 45
    and not s:find(".-", 1, true) and not s:find("-.", 1, true) then
    return s
  end
  for label in s:gmatch("[^.]+") do
    if #label > 63 then return fail(argname, "label '" .. label:sub(1, 20) .. "...' is longer than 63 characters") end
    if label:sub(1, 1) == "-" or label:sub(-1) == "-" then
      return fail(argname, "label '" .. label .. "' starts or ends with a hyphen")
    end
    if not label:match("^[a-z0-9_-]+$") then return fail(argname, "label '" .. label .. "' has characters a hostname cannot have") end
  end
  return s
end
-- An API key: letters, digits and - _ . ~ only (RFC 3986's unreserved
-- characters), so that it travels unchanged in a path segment, a query and
-- a form. Anything else (URL or form metacharacters, space, control and
-- non-ASCII bytes) would be percent-encoded on the way: refused. The
-- services' own shapes (ShortPixel: 20 letters and digits) only warn, in
-- cdnctl.config, where the service is known.
function M.key(v, argname)
  argname = argname or "key"
  if type(v) ~= "string" then return fail(argname, "expected a string, got " .. type(v)) end
  if v == "" then return fail(argname, "is empty") end
  if #v > 256 then return fail(argname, "is longer than 256 characters") end
  local bad = v:match("[^A-Za-z0-9%-_.~]")
  -- the message never quotes the key itself
  if bad then return fail(argname, "contains " .. describe_char(bad) .. ", which an API key cannot contain") end
  return v
end

-- A whole number from a Lua integer, an integral float below 2^53 or a
-- decimal string of at most 15 digits; nil for anything else.
local function whole(v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" and v == math.floor(v) and v >= 0 and v < 2^53 then return math.tointeger(v) end
  if type(v) == "string" and v:match("^%d+$") and #v <= 15 then return math.tointeger(tonumber(v)) end
  return nil
end

-- A positive integer id (site_id), from a Lua integer or a decimal string.
function M.site_id(v, argname)
  local n = whole(v)
  if not n or n < 1 then
    return fail(argname or "site_id", "must be a positive integer, got " .. (type(v) == "string" and ("'" .. v .. "'") or tostring(v)))
  end
  return n
end

-- A non-negative integer (limits, offsets).
function M.count(v, argname)
  local n = whole(v)
  if not n or n < 0 then return fail(argname, "must be a non-negative integer, got " .. tostring(v)) end
  return n
end

-- The one reader of booleans (call's words, the bindings' flags, the
-- inventory): true/false, 1/0 (numbers or strings), and the strings
-- true/false, yes/no, on/off in any case. -> true | false | nil, message
local BOOLEAN_WORDS = { ["true"] = true, ["1"] = true, yes = true, on = true,
                        ["false"] = false, ["0"] = false, no = false, off = false }
function M.boolean(v, argname)
  if v == true or v == 1 then return true end
  if v == false or v == 0 then return false end
  if type(v) == "string" and BOOLEAN_WORDS[v:lower()] ~= nil then return BOOLEAN_WORDS[v:lower()] end
  return fail(argname, "must be true/false, 1/0, yes/no or on/off, got "
    .. (type(v) == "string" and quote(v) or tostring(v)))
end

-- A flag sent as 1/0: any boolean M.boolean reads.
function M.flag(v, argname)
  local b, err = M.boolean(v, argname)
  if b == nil then return nil, err end
  return b and 1 or 0
end

-- Free text sent in a form field: any UTF-8 but control characters.
function M.text(v, argname)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return fail(argname, "is not a finite number") end
    v = tostring(v)
  end
  if type(v) ~= "string" then return fail(argname, "expected a string, got " .. type(v)) end
  if #v > 1024 then return too_long(v, argname, 1024, "text:") end
  local bad = v:match("[%c]")
  if bad then return fail(argname, "contains " .. describe_char(bad)) end
  if not utf8.len(v) then return fail(argname, "is not valid UTF-8") end
  return v
end

-- A comma-separated list of hostnames (asset_domains); "" clears it.
function M.hostlist(v, argname)
  if v == "" then return "" end
  if type(v) == "table" then
    for i, h in ipairs(v) do
      if type(h) ~= "string" then return fail(argname .. "[" .. i .. "]", "expected a hostname, got " .. type(h)) end
    end
    v = table.concat(v, ",")
  end
  if #v > 8192 then return too_long(v, argname, 8192, "hostnames:") end
  if type(v) ~= "string" then return fail(argname, "expected a string or a list of hostnames") end
  local out = {}
  for part in (v .. ","):gmatch("([^,]*),") do
    part = part:match("^%s*(.-)%s*$")
    local h, err = M.domain(part, argname)
    if not h then return nil, err end
    out[#out + 1] = h
  end
  return table.concat(out, ",")
end

-- An origin URL for Easy IO: http(s)://host[:port]/path, normalised to a
-- trailing slash as the service does. "example.com" becomes https://example.com/.
function M.site_url(v, argname)
  argname = argname or "site_url"
  if type(v) ~= "string" then return fail(argname, "expected a string, got " .. type(v)) end
  if v == "" then return fail(argname, "is empty") end
  if #v > 2048 then return too_long(v, argname, 2048, "a site URL:") end
  local bad = v:match("[%s%c\"<>\\^`{|}]")
  if bad then return fail(argname, "contains " .. describe_char(bad)) end
  local scheme, rest = v:match("^([Hh][Tt][Tt][Pp][Ss]?)://(.*)$")
  if not scheme then scheme, rest = "https", v end
  local hostport, path = rest:match("^([^/?#]*)(.*)$")
  if path:find("[?#]") then return fail(argname, "must not have a query or fragment") end
  local host, port = hostport:match("^(.-):(%d+)$")
  if not host then host = hostport end
  if host:find("@", 1, true) then return fail(argname, "must not contain user information ('@')") end
  local h, err = M.domain(host, argname)
  if not h then return nil, err end
  if path == "" then path = "/" end
  if path:sub(-1) ~= "/" then path = path .. "/" end
  if path:find("%.%./") or path:find("//", 1, true) then return fail(argname, "path has '..' or an empty segment") end
  if path:find("%%") and not path:gsub("%%%x%x", ""):find("^[^%%]*$") then return fail(argname, "path has a stray '%'") end
  return scheme:lower() .. "://" .. h .. (port and (":" .. port) or "") .. path
end

-- An image's https URL that travels unencoded as the rest of a path
-- (shortpixel.purge_cdn_cache): https, a host (lower-cased, checked as
-- M.domain checks it; a port may follow), a path with more than "/"; no
-- space, '?', '#', '%', control character, non-ASCII byte or any of
-- "<>\^`{|}, which a path cannot carry as they are. The path is kept as given.
function M.https_url(v, argname)
  argname = argname or "url"
  if type(v) ~= "string" then return fail(argname, "expected a string, got " .. type(v)) end
  if v == "" then return fail(argname, "is empty") end
  if #v > 2048 then return too_long(v, argname, 2048, "a URL:") end
  local bad = v:match("[%s%c\"<>\\^`{|}?#%%]")
  if bad then return fail(argname, "contains " .. describe_char(bad) .. " (the URL travels unencoded in the path)") end
  if v:find("[\128-\255]") then return fail(argname, "contains a non-ASCII byte (the URL travels unencoded in the path)") end
  local hostport, path = v:match("^[Hh][Tt][Tt][Pp][Ss]://([^/]*)(.*)$")
  if not hostport then return fail(argname, "must be an https:// URL, not " .. quote(v)) end
  local host, port = hostport:match("^(.-)(:%d+)$")
  host = host or hostport
  if host == "" then return fail(argname, "has no host: " .. quote(v)) end
  local h, err = M.domain(host, argname)
  if not h then return nil, err end
  if path == "" or path == "/" then return fail(argname, "has no path (an image's URL is needed): " .. quote(v)) end
  return "https://" .. h .. (port or "") .. path
end

-- When two site URLs are the same site: the one rule that the bindings, the
-- scripts and the sandbox share. The host is compared lower-cased and in
-- punycode, an empty path reads as "/", a trailing slash is ignored; the
-- scheme and the rest of the path count. -> the comparison key, or nil when
-- the text is no site URL at all (then compare it as it is, if you must).
--   site_key("HTTPS://Example.com") == site_key("https://example.com/")
function M.site_key(v)
  local u = type(v) == "string" and M.site_url(v)
  if not u then return nil end
  return (u:gsub("/$", ""))
end

-- Are a and b the same site URL (site_key)? Unreadable texts compare as they are.
function M.same_site(a, b)
  local ka, kb = M.site_key(a), M.site_key(b)
  if ka and kb then return ka == kb end
  return a == b
end

-- www and apex of a domain: "example.com" and "www.example.com" in that order.
function M.hosts(domain)
  local d, err = M.domain(domain, "domain")
  if not d then return nil, err end
  local apex = d:match("^www%.(.+%..+)$") or d
  return { apex, "www." .. apex }
end

-- A fields table (update_site_config's config, change_key's fields), each
-- field by its kind in spec.fields. -> the checked table | nil, message
local function fields(spec, t)
  local out = {}
  for name, v in pairs(t) do
    local kind = type(name) == "string" and spec.fields[name]
    if not kind then
      local known = {}
      for k in pairs(spec.fields) do known[#known + 1] = k end
      table.sort(known)
      return nil, string.format("%s: unknown field '%s' (the API has %s)", spec.name, tostring(name), table.concat(known, ", "))
    end
    local val, err = M[kind](v, spec.name .. "." .. name)
    if val == nil then return nil, err end
    out[name] = val
  end
  return out
end

-- M.args(op, values) -> checked | nil, message
-- An operation's arguments ({[arg name] = value as given}), each by its
-- check in the table of operations: the one rule the bindings, `call`'s
-- question and `--dry-run` apply.
function M.args(op, values)
  local checked, args = {}, op.args
  for i = 1, #args do -- (not ipairs: a binding's every call runs this loop)
    local spec = args[i]
    local v = values[spec.name]
    if v ~= nil then
      local val, err
      if spec.fields then val, err = fields(spec, v)
      else val, err = M[spec.check](v, spec.label or spec.name) end
      if val == nil then return nil, err end
      checked[spec.name] = val
    end
  end
  return checked
end

local COMMON_OPTIONS = require("cdnctl.ops").common_options

-- M.option(op, name, value) -> nil | message
-- Whether value is one the option name of op takes (the common options and
-- op.options): nil when it is, else why not (an unknown name with the
-- closest known one).
function M.option(op, k, v)
  local want = COMMON_OPTIONS[k] or (op.options and op.options[k])
  if not want then
    local known = {}
    for name in pairs(COMMON_OPTIONS) do known[#known + 1] = name end
    for name in pairs(op.options or {}) do known[#known + 1] = name end
    table.sort(known)
    return "unknown option '" .. tostring(k) .. "'" .. require("cdnctl.suggest").hint(tostring(k), known)
  end
  if k == "key" then
    if not (type(v) == "string" or (v == false and op.key_optional)) then
      return "option 'key' must be a string" .. (op.key_optional and " or false" or "")
    end
  elseif k == "settle" then
    if not (type(v) == "number" and v >= 0 and v <= 600) then return "option 'settle' must be a number of seconds in [0, 600]" end
  elseif want == "boolean" and type(v) ~= "boolean" then return "option '" .. k .. "' must be true or false"
  elseif k == "timeout" and (type(v) ~= "number" or not (v >= 0.001 and v <= 86400)) then
    return "option 'timeout' must be a number of seconds in [0.001, 86400]"
  elseif want == "number" and (type(v) ~= "number" or v <= 0) then return "option '" .. k .. "' must be a positive number"
  elseif want == "integer" and (math.type(v) ~= "integer" or v < 1) then return "option '" .. k .. "' must be a positive integer"
  elseif want == "deadline" and not (type(v) == "number" and v >= 0.001 and v <= 86400) then
    return "option 'deadline' must be a number of seconds in [0.001, 86400]"
  end
  return nil
end

-- Does a key (already accepted by M.key) have its service's known shape?
-- nil when it does or the shape is unknown, else what the shape is. Only
-- ShortPixel documents one (20 letters and digits); Easy IO's keys are
-- accepted as M.key accepts them. A shape is a warning, never a refusal.
function M.key_shape(service, key)
  if service == "shortpixel" and not (#key == 20 and key:match("^[A-Za-z0-9]+$")) then
    return "ShortPixel keys are 20 letters and digits"
  end
  return nil
end

return M
