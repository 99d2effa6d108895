-- cdnctl.check: every value a user hands a binding, checked before any URL
-- exists, as plain function calls. Each checker returns the normalised
-- value, or nil and a message that starts with the argument's name and says
-- why; every class of bad input check.lua names is refused here with its
-- exact message; what passes is safe to put in a URL path. Then the checks
-- of a whole call (check.args, check.option) and the bindings' own refusals
-- of misuse, which raise before anything is sent.
local t = require "t"
local check = require "cdnctl.check"
local percent = require "cdnctl.percent"
local ops = require "cdnctl.ops"

local function A(...) return table.pack(...) end

-- {checker, its arguments, ok = the value (int: an integer) | err = the message | err_prefix}
local CASES = {
  -- domain: accepted and normalised
  { "domain", A('example.com'), ok = "example.com" },
  { "domain", A('Example.COM'), ok = "example.com" },
  { "domain", A('https://www.Example.com/shop?x=1#top'), ok = "www.example.com" },
  { "domain", A('HTTP://x.com'), ok = "x.com" },
  { "domain", A('example.com.'), ok = "example.com" },
  { "domain", A('b\u{FC}cher.de'), ok = "xn--bcher-kva.de" },
  { "domain", A('_acme.x-y.example.com'), ok = "_acme.x-y.example.com" },
  { "domain", A(string.rep('a', 63) .. '.com'), ok = string.rep('a', 63) .. '.com' },
  -- domain: refused, one class each
  { "domain", A(42), err = "domain: expected a string, got number" },
  { "domain", A(nil), err = "domain: expected a string, got nil" },
  { "domain", A(''), err = "domain: is empty" },
  { "domain", A('https:///path'), err = "domain: URL has no host" },
  { "domain", A('https://user@x.com/'), err = "domain: URL has user information ('@'); give the host alone" },
  { "domain", A('https://x.com:8080/'), err = "domain: URL has a port; give the host alone" },
  { "domain", A('exa mple.com'), err = "domain: contains a space in 'exa mple.com'" },
  { "domain", A('x.com/path'), err = "domain: contains '/' in 'x.com/path'" },
  { "domain", A('x.com?a'), err = "domain: contains '?' in 'x.com?a'" },
  { "domain", A('x.com#a'), err = "domain: contains '#' in 'x.com#a'" },
  { "domain", A('x%41.com'), err = "domain: contains '%' in 'x%41.com'" },
  { "domain", A('u@x.com'), err = "domain: contains '@' in 'u@x.com'" },
  { "domain", A('x\\y.com'), err = "domain: contains '\\' in 'x\\y.com'" },
  { "domain", A('x.com:80'), err = "domain: contains ':' in 'x.com:80'" },
  { "domain", A('x.com\n'), err = "domain: contains a control character (0x0A) in 'x.com?'" },
  { "domain", A('x\0.com'), err = "domain: contains a control character (0x00) in 'x?.com'" },
  { "domain", A('x\127.com'), err = "domain: contains a control character (0x7F) in 'x?.com'" },
  { "domain", A('x..com'), err = "domain: contains an empty label ('..')" },
  { "domain", A('.x.com'), err = "domain: starts with a dot" },
  { "domain", A('localhost'), err = "domain: 'localhost' has no dot: a domain such as example.com is needed" },
  { "domain", A(string.rep('a', 64) .. '.com'), err = "domain: label 'aaaaaaaaaaaaaaaaaaaa...' is longer than 63 characters" },
  { "domain", A(string.rep('a.', 126) .. 'ab'), err = "domain: is longer than 253 characters" },
  { "domain", A('-x.com'), err = "domain: label '-x' starts or ends with a hyphen" },
  { "domain", A('x-.com'), err = "domain: label 'x-' starts or ends with a hyphen" },
  { "domain", A('a b', 'host'), err = "host: contains a space in 'a b'" },
  -- key
  { "key", A('spDemoAgency00000001'), ok = "spDemoAgency00000001" },
  { "key", A(string.rep('k', 256)), ok = string.rep('k', 256) }, -- the longest key passes unchanged
  { "key", A(1), err = "key: expected a string, got number" },
  { "key", A(''), err = "key: is empty" },
  { "key", A(string.rep('k', 257)), err = "key: is longer than 256 characters" },
  { "key", A('ab/cd'), err = "key: contains '/', which an API key cannot contain" },
  { "key", A('ab?cd'), err = "key: contains '?', which an API key cannot contain" },
  { "key", A('ab#cd'), err = "key: contains '#', which an API key cannot contain" },
  { "key", A('ab&cd'), err = "key: contains '&', which an API key cannot contain" },
  { "key", A('ab=cd'), err = "key: contains '=', which an API key cannot contain" },
  { "key", A('ab+cd'), err = "key: contains '+', which an API key cannot contain" },
  { "key", A('ab%cd'), err = "key: contains '%', which an API key cannot contain" },
  { "key", A('ab\\cd'), err = "key: contains '\\', which an API key cannot contain" },
  { "key", A('ab cd'), err = "key: contains a space, which an API key cannot contain" },
  { "key", A('ab\tcd'), err = "key: contains a control character (0x09), which an API key cannot contain" },
  { "key", A('ab"cd'), err = "key: contains '\"', which an API key cannot contain" },
  { "key", A('ab<cd'), err = "key: contains '<', which an API key cannot contain" },
  { "key", A('abc\u{E9}'), err = "key: contains '\195', which an API key cannot contain" },
  { "key", A('x/y', 'opts.key'), err = "opts.key: contains '/', which an API key cannot contain" },
  { "key", A('ab:cd'), err = "key: contains ':', which an API key cannot contain" },
  { "key", A('ab@cd'), err = "key: contains '@', which an API key cannot contain" },
  { "key", A('ab!cd'), err = "key: contains '!', which an API key cannot contain" },
  { "key", A('ab*cd'), err = "key: contains '*', which an API key cannot contain" },
  { "key", A('ab(cd'), err = "key: contains '(', which an API key cannot contain" },
  { "key", A('ab)cd'), err = "key: contains ')', which an API key cannot contain" },
  { "key", A('ab;cd'), err = "key: contains ';', which an API key cannot contain" },
  { "key", A('ab,cd'), err = "key: contains ',', which an API key cannot contain" },
  { "key", A('ab$cd'), err = "key: contains '$', which an API key cannot contain" },
  { "key", A('ab[cd'), err = "key: contains '[', which an API key cannot contain" },
  { "key", A('ab]cd'), err = "key: contains ']', which an API key cannot contain" },
  { "key", A('ab{cd'), err = "key: contains '{', which an API key cannot contain" },
  { "key", A('ab}cd'), err = "key: contains '}', which an API key cannot contain" },
  { "key", A('ab|cd'), err = "key: contains '|', which an API key cannot contain" },
  { "key", A('ab^cd'), err = "key: contains '^', which an API key cannot contain" },
  { "key", A('ab`cd'), err = "key: contains '`', which an API key cannot contain" },
  { "key", A("ab'cd"), err = "key: contains ''', which an API key cannot contain" },
  { "key", A('aZ09-_.~'), ok = "aZ09-_.~" }, -- letters, digits and - _ . ~ travel unchanged
  -- site_id
  { "site_id", A(5), ok = 5, int = true },
  { "site_id", A('42'), ok = 42, int = true },
  { "site_id", A(3.0), ok = 3, int = true },
  { "site_id", A(math.maxinteger), ok = math.maxinteger, int = true },
  { "site_id", A(0), err = "site_id: must be a positive integer, got 0" },
  { "site_id", A(-1), err = "site_id: must be a positive integer, got -1" },
  { "site_id", A(1.5), err = "site_id: must be a positive integer, got 1.5" },
  { "site_id", A('0'), err = "site_id: must be a positive integer, got '0'" },
  { "site_id", A('abc'), err = "site_id: must be a positive integer, got 'abc'" },
  { "site_id", A(' 7'), err = "site_id: must be a positive integer, got ' 7'" },
  { "site_id", A('1234567890123456'), err = "site_id: must be a positive integer, got '1234567890123456'" },
  { "site_id", A(2^53), err = "site_id: must be a positive integer, got 9.007199254741e+15" },
  { "site_id", A(nil), err = "site_id: must be a positive integer, got nil" },
  { "site_id", A({}, 'id'), err_prefix = "id: must be a positive integer, got table: 0x" }, -- a prefix: the address varies
  -- site_url
  { "site_url", A('example.com'), ok = "https://example.com/" },
  { "site_url", A('HTTP://Example.com:8080/wp'), ok = "http://example.com:8080/wp/" },
  { "site_url", A('https://x.com/a%20b/'), ok = "https://x.com/a%20b/" },
  { "site_url", A(''), err = "site_url: is empty" },
  { "site_url", A(5), err = "site_url: expected a string, got number" },
  { "site_url", A('https://x.com/a b'), err = "site_url: contains a space" },
  { "site_url", A('https://x.com/\1'), err = "site_url: contains a control character (0x01)" },
  { "site_url", A('https://x.com/<'), err = "site_url: contains '<'" },
  { "site_url", A('https://x.com/?q=1'), err = "site_url: must not have a query or fragment" },
  { "site_url", A('https://x.com/#f'), err = "site_url: must not have a query or fragment" },
  { "site_url", A('https://u@x.com/'), err = "site_url: must not contain user information ('@')" },
  { "site_url", A('https://x.com/../'), err = "site_url: path has '..' or an empty segment" },
  { "site_url", A('https://x.com//a'), err = "site_url: path has '..' or an empty segment" },
  { "site_url", A('https://x.com/a%zz'), err = "site_url: path has a stray '%'" },
  { "site_url", A('https://x..com/'), err = "site_url: contains an empty label ('..')" },
  { "site_url", A('https://localhost/'), err = "site_url: 'localhost' has no dot: a domain such as example.com is needed" },
  -- hosts: apex and www
  { "hosts", A('www.Example.com'), ok = { "example.com", "www.example.com" } },
  { "hosts", A('example.co.uk'), ok = { "example.co.uk", "www.example.co.uk" } },
  { "hosts", A('x y'), err = "domain: contains a space in 'x y'" },
}

for i, c in ipairs(CASES) do
  local shown = {}
  for k = 1, c[2].n do shown[k] = type(c[2][k]) == "string" and ("%q"):format(c[2][k]:sub(1, 40)) or tostring(c[2][k]) end
  local what = ("check.%s(%s) %s"):format(c[1], table.concat(shown, ", "), c.ok ~= nil and "passes" or "is refused")
  t.test(i .. ": " .. what:gsub("\n", "\\n"):gsub("table: 0x%x+", "{}"), function()
    local v, err = check[c[1]](table.unpack(c[2], 1, c[2].n))
    if c.ok ~= nil then
      t.eq(err, nil)
      if type(c.ok) == "table" then t.same(v, c.ok) else t.eq(v, c.ok) end
      if c.int then t.eq(math.type(v), "integer") end
    elseif c.err_prefix then
      t.eq(v, nil)
      t.eq(err:sub(1, #c.err_prefix), c.err_prefix)
    else
      t.eq(v, nil)
      t.eq(err, c.err)
    end
  end)
end

-- Regression (found by fuzz_check): only one final dot was dropped before
-- the '..' check, so "x.com.." passed as "x.com." and "localhost.." passed
-- the dot rule as "localhost.".
t.test("check.domain refuses two final dots", function()
  t.eq(check.domain("x.com.."), nil)
  t.eq(check.domain("localhost.."), nil)
end)

t.test("whatever check.domain accepts is URL-safe as it is", function()
  for _, s in ipairs { "example.com", "WWW.EXAMPLE.COM", "https://a.b.c.example.com:443/x", "b\u{FC}cher.de",
    "caf\u{E9}.example", "a_b.c-d.e", "\u{0966}\u{0967}.example", "x.com." } do
    local d = check.domain(s)
    if d then
      t.eq(percent.escape(d), d, s)
      t.eq(d:find("[/?#%%@\\%s%c:]"), nil, s)
    end
  end
end)

t.test("check.key's message never quotes the key", function()
  local _, err = check.key("secretvalue1234/x")
  t.eq(err, "key: contains '/', which an API key cannot contain")
end)

-- check.args: an operation's arguments by the table, the rule the bindings,
-- `call`'s question and --dry-run share.
t.test("check.args normalises each argument by its check and leaves absent ones out", function()
  t.same(check.args(ops.by_name["easyio.update_site_config"], { site_id = "17", config = { webp = true, asset_domains = { "A.com", "b.com" } } }),
    { site_id = 17, config = { webp = 1, asset_domains = "a.com,b.com" } })
  t.same(check.args(ops.by_name["easyio.show_sites"], {}), {})
  t.same(check.args(ops.by_name["shortpixel.add_domain"], { domain = "https://WWW.Example.com/" }), { domain = "www.example.com" })
end)

t.test("check.args refuses the first bad value, and unknown fields with the known ones", function()
  local op = ops.by_name["easyio.update_site_config"]
  t.same({ check.args(op, { site_id = "x", config = {} }) }, { nil, "site_id: must be a positive integer, got 'x'" })
  t.same({ check.args(op, { site_id = 1, config = { avif = "maybe" } }) },
    { nil, "config.avif: must be true/false, 1/0, yes/no or on/off, got 'maybe'" })
  t.same({ check.args(ops.by_name["easyio.change_key"], { sub_key = "k", fields = { colour = 1 } }) },
    { nil, "fields: unknown field 'colour' (the API has allowed, label, site_limit)" })
  t.same({ check.args(ops.by_name["easyio.set_cname"], { site_id = 1, custom_cname = "a b" }) },
    { nil, "hostname: contains a space in 'a b'" })
end)

-- {operation, option, value, the problem (nil: accepted)}
local OPTIONS = {
  { "shortpixel.read_domain", "timeout", 0.001, nil },
  { "shortpixel.read_domain", "timeout", 86400, nil },
  { "shortpixel.read_domain", "timeout", 0, "option 'timeout' must be a number of seconds in [0.001, 86400]" },
  { "shortpixel.read_domain", "timeout", "5", "option 'timeout' must be a number of seconds in [0.001, 86400]" },
  { "shortpixel.read_domain", "timeout", 0 / 0, "option 'timeout' must be a number of seconds in [0.001, 86400]" },
  { "shortpixel.read_domain", "attempts", 3, nil },
  { "shortpixel.read_domain", "attempts", 0, "option 'attempts' must be a positive integer" },
  { "shortpixel.read_domain", "attempts", 2.0, "option 'attempts' must be a positive integer" },
  { "shortpixel.read_domain", "deadline", 86401, "option 'deadline' must be a number of seconds in [0.001, 86400]" },
  { "shortpixel.read_domain", "refresh", true, nil },
  { "shortpixel.read_domain", "refresh", 1, "option 'refresh' must be true or false" },
  { "shortpixel.read_domain", "key", "abc", nil },
  { "shortpixel.read_domain", "key", false, "option 'key' must be a string" },
  { "shortpixel.add_domain", "key", false, nil },
  { "shortpixel.add_domain", "key", 5, "option 'key' must be a string or false" },
  { "shortpixel.add_domain", "refresh", true, "unknown option 'refresh'" },
  { "shortpixel.read_domain", "timout", 5, "unknown option 'timout' (did you mean 'timeout'?)" },
}
for i, c in ipairs(OPTIONS) do
  t.test(("check.option %d: %s {%s = %s}"):format(i, c[1], c[2], tostring(c[3])), function()
    t.eq(check.option(ops.by_name[c[1]], c[2], c[3]), c[4])
  end)
end

-- The bindings raise on misuse (wrong types, arity, unknown options) before
-- anything is sent; a bad value is a failure of kind invalid, also unsent.
local MISUSE = {
  { function() return shortpixel.read_domain() end, "bad argument #1 to 'shortpixel.read_domain' %(domain expected, got no value%)" },
  { function() return shortpixel.read_domain(42) end, "bad argument #1 to 'shortpixel.read_domain' %(domain: string expected, got number%)" },
  { function() return shortpixel.read_domain("a.com", {}, 3) end, "bad argument #3 to 'shortpixel.read_domain' %(no value expected %(too many arguments%)%)" },
  { function() return shortpixel.read_domain("a.com", "x") end, "bad argument #2 to 'shortpixel.read_domain' %(options table expected, got string%)" },
  { function() return easyio.update_site_config(1, "webp") end, "bad argument #2 to 'easyio.update_site_config' %(table of config expected, got string%)" },
  { function() return shortpixel.read_domain("a.com", { timout = 1 }) end, "bad argument #2 to 'shortpixel.read_domain' %(unknown option 'timout' %(did you mean 'timeout'%?%)%)" },
  { function() return easyio.show_sites({ attempts = 0 }) end, "bad argument #1 to 'easyio.show_sites' %(option 'attempts' must be a positive integer%)" },
}
for i, c in ipairs(MISUSE) do
  t.test("a binding raises on misuse " .. i, function() t.raises(c[1], "^[^\n]*" .. c[2]) end)
end

t.test("a bad value is a refusal of kind invalid, named by the operation", function()
  local r, err = easyio.remove_site("0")
  t.eq(r, nil)
  t.eq(err.kind, "invalid")
  t.eq(err.op, "easyio.remove_site")
  t.eq(tostring(err), "easyio.remove_site: site_id: must be a positive integer, got '0' (invalid)")
end)

t.done()
