-- cdnctl.percent: percent-encoding and form bodies (lua/cdnctl/percent.lua).
-- unescape is strict: a '%' not followed by two hex digits is an error at
-- its 1-based position, never a guess. escape leaves only RFC 3986's
-- unreserved characters; parse_form reads x-www-form-urlencoded bodies and
-- reports malformed escapes at their position in the whole body.
local t = require "t"
local percent = require "cdnctl.percent"

local function malformed(at) return "malformed percent-encoding at character " .. at end

-- {input, plus_is_space, decoded} or {input, plus_is_space, nil, bad position}
local unescape_cases = {
  { "", false, "" },
  { "abc", false, "abc" },
  { "a%20b", false, "a b" },
  { "%41%62", false, "Ab" },
  { "%e2%82%AC", false, "\xE2\x82\xAC" },
  { "a+b", false, "a+b" },
  { "a+b", true, "a b" },
  { "%2B+", true, "+ " },
  { "%00x", false, "\0x" },
  { "a\0b", false, "a\0b" },
  { "%", false, nil, 1 },
  { "a%", false, nil, 2 },
  { "a%4", false, nil, 2 },
  { "%4g", false, nil, 1 },
  { "%g4", false, nil, 1 },
  { "ab%zz", false, nil, 3 },
  { "%41%", false, nil, 4 },
  { "%41%4", false, nil, 4 },
  { "%%41", false, nil, 1 },
  { "100%", true, nil, 4 },
  { "x+%2", true, nil, 3 },
}

t.test("unescape decodes exactly, or names the position of the first bad escape", function()
  for _, c in ipairs(unescape_cases) do
    local what = string.format("unescape(%q%s)", c[1], c[2] and ", plus" or "")
    if c[3] then t.same({ percent.unescape(c[1], c[2]) }, { c[3] }, what)
    else t.same({ percent.unescape(c[1], c[2]) }, { nil, malformed(c[4]) }, what) end
  end
end)

t.test("unescape decodes %00..%ff to the 256 byte values", function()
  local in_, want = {}, {}
  for b = 0, 255 do
    in_[#in_ + 1] = string.format("%%%02x", b)
    want[#want + 1] = string.char(b)
  end
  t.eq(percent.unescape(table.concat(in_), true), table.concat(want))
end)

t.test("escape leaves only unreserved characters, as uppercase %XX per byte", function()
  t.eq(percent.escape(""), "")
  t.eq(percent.escape("azAZ09-._~"), "azAZ09-._~")
  t.eq(percent.escape("a b"), "a%20b", "a space is %20, not +")
  t.eq(percent.escape("a/b?c#d@e:f"), "a%2Fb%3Fc%23d%40e%3Af")
  t.eq(percent.escape("+&=%"), "%2B%26%3D%25")
  t.eq(percent.escape("\0\255"), "%00%FF")
  t.eq(percent.escape("\u{20AC}"), "%E2%82%AC")
  t.eq(percent.escape(42), "42", "a number is its string")
end)

t.test("unescape(escape(all bytes)) is the identity; escape's output has only unreserved characters and %XX", function()
  local all = {}
  for b = 0, 255 do all[#all + 1] = string.char(b) end
  local s = table.concat(all)
  local e = percent.escape(s)
  t.eq(percent.unescape(e), s)
  t.eq(#e, 636)
  t.ok(e:gsub("%%%x%x", ""):match("^[A-Za-z0-9._~-]*$"), "only unreserved characters")
end)

t.test("unescape keeps + unless plus_is_space", function()
  t.eq(percent.unescape("a+b%21"), "a+b!")
  t.eq(percent.unescape("a+b%2B", true), "a b+")
  t.same({ percent.unescape("%zz") }, { nil, malformed(1) })
  t.same({ percent.unescape("abc%4") }, { nil, malformed(4) })
end)

-- {body, want} or {body, nil, message}
local form_cases = {
  { "a=1&b=x+y&c", { a = "1", b = "x y", c = "" } },
  { "", {} },
  { "&&a=1&&", { a = "1" } },
  { "a=1&a=2", { a = "2" } },
  { "k%20e=v%3D1%26", { ["k e"] = "v=1&" } },
  { "=v", { [""] = "v" } },
  { "a==b", { a = "=b" } },
  { "api_key=ez-demo&site_url=https%3A%2F%2Fx.com%2F", { api_key = "ez-demo", site_url = "https://x.com/" } },
  { "a=1&b=%zz", nil, malformed(7) },
  { "a%2=1", nil, malformed(2) },
  { "x=1&%g=2", nil, malformed(5) },
  { "x=1&y=2%", nil, malformed(8) },
}

t.test("parse_form: names and values decoded, the last of a name kept, empty pairs skipped", function()
  for _, c in ipairs(form_cases) do
    if c[2] then t.same({ percent.parse_form(c[1]) }, { c[2] }, string.format("parse_form(%q)", c[1]))
    else t.same({ percent.parse_form(c[1]) }, { nil, c[3] }, string.format("parse_form(%q)", c[1])) end
  end
end)

t.test("programming errors raise, naming the argument", function()
  for _, f in ipairs({ "escape", "unescape", "parse_form" }) do
    local ok, err = pcall(percent[f], {})
    t.eq(ok, false)
    t.ok(tostring(err):find("bad argument #1 to '" .. f .. "' (string expected, got table)", 1, true), err)
  end
end)

-- escape's quick answer for a string with nothing to escape gives what
-- the escaping gsub gives: strings of the bytes where the rules change
-- (a fixed seed, so a failure is reproducible).
t.test("percent.escape gives what the gsub gives, for 20,000 generated strings", function()
  math.randomseed(15)
  local BYTES = { "a", "z", "m", "0", "9", "_", "-", ".", "A", "Z", ":", "/", "@", "%", " ", "?", "#",
    "\t", "\0", "\127", "\195", "\188", "~", "+", "*" }
  for _ = 1, 20000 do
    local chars = {}
    for k = 1, math.random(0, 24) do chars[k] = BYTES[math.random(#BYTES)] end
    local v = table.concat(chars)
    local want = v:gsub("[^A-Za-z0-9%-._~]", function(c) return ("%%%02X"):format(c:byte()) end)
    t.eq(percent.escape(v), want, ("%q"):format(v))
  end
end)

t.done()
