-- cdnctl.percent: percent-encoding (RFC 3986) and form bodies
-- (application/x-www-form-urlencoded), on both sides of HTTP: the client
-- builds paths and forms with escape, the sandbox reads them with unescape
-- and parse_form. Decoders are strict: a stray '%' or a bad hex digit is an
-- error with its position, never a guess (malformed input is the sandbox's
-- daily bread). Strings are byte strings; a NUL is a byte like another.
-- String work only: IDNA and SHA-256 stay in C (cdnctl.codec).

local M = {}

local MALFORMED = "malformed percent-encoding at character %d"

-- Every byte but the unreserved ones -> "%XX" (uppercase hex).
local ESCAPED = {}
for b = 0, 255 do ESCAPED[string.char(b)] = string.format("%%%02X", b) end

-- "XX" in either case -> the byte it stands for.
local BYTE = {}
for b = 0, 255 do
  local hi, lo = string.format("%x", b >> 4), string.format("%x", b & 15)
  for _, h in ipairs({ hi, hi:upper() }) do
    for _, l in ipairs({ lo, lo:upper() }) do BYTE[h .. l] = string.char(b) end
  end
end

-- A string argument, as luaL_checklstring takes it: a number becomes its
-- string; anything else raises, naming the argument and the function.
local function check_string(v, n, fname)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then return tostring(v) end
  error(string.format("bad argument #%d to '%s' (string expected, got %s)", n, fname,
    v == nil and "no value" or tv), 3)
end

-- s decoded ('+' as a space with plus); on failure nil and the message,
-- whose position is counted from base (the offset of s in a larger text).
-- Every '%' must start an escape: gsub decodes each "%XX" where it starts
-- (the two hex digits it skips are never a '%'), so s is well-formed when
-- it decoded as many escapes as s has '%'. (Plain finds count them: Lua's
-- pattern classes cost ten times more per byte, and forms are the
-- sandbox's hot path.)
local function decode(s, plus, base)
  if plus and s:find("+", 1, true) then s = s:gsub("%+", " ") end -- first: "%2B" stays a '+'
  local p = s:find("%", 1, true)
  if not p then return s end
  local out, decoded = s:gsub("%%(%x%x)", BYTE)
  local first, percents = p, 0
  repeat
    percents = percents + 1
    p = s:find("%", p + 1, true)
  until not p
  if decoded == percents then return out end
  p = first -- the first '%' that two hex digits do not follow
  while BYTE[s:sub(p + 1, p + 2)] do p = s:find("%", p + 3, true) end
  return nil, MALFORMED:format(base + p)
end

-- percent.escape(s) -> s with every byte but A-Z a-z 0-9 - . _ ~ as %XX
function M.escape(s)
  -- fast path: a string with nothing to escape (a checked domain, a key):
  -- gsub would replace nothing and hand back s; one anchored find costs half
  if type(s) == "string" and s:find("^[A-Za-z0-9%-._~]*$") then return s end
  return (check_string(s, 1, "escape"):gsub("[^A-Za-z0-9%-._~]", ESCAPED))
end

-- percent.unescape(s [, plus_is_space]) -> decoded | nil, message
function M.unescape(s, plus_is_space)
  return decode(check_string(s, 1, "unescape"), plus_is_space, 0)
end

-- percent.parse_form(body) -> {name = value} | nil, message.
-- "a=1&b=x+y&c" gives {a="1", b="x y", c=""}; a repeated name keeps the
-- last value, as PHP does; empty pairs are skipped. A malformed escape is
-- reported at its position in the whole body.
function M.parse_form(body)
  body = check_string(body, 1, "parse_form")
  local plain = not (body:find("%", 1, true) or body:find("+", 1, true)) -- the common case
  local form, at = {}, 1
  while at <= #body do
    local name, eq, value, after = body:match("^([^&=]*)(=?)([^&]*)()", at)
    if after > at and plain then
      form[name] = value
    elseif after > at then -- not an empty pair
      local vbase, e = at - 1 + #name + #eq, nil
      name, e = decode(name, true, at - 1)
      if not name then return nil, e end
      value, e = decode(value, true, vbase)
      if not value then return nil, e end
      form[name] = value
    end
    at = after + 1
  end
  return form
end

return M
