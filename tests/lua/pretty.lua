-- The prompt's pretty printer and its helpers, as plain units.
local t = require "t"
local pretty = require "cdnctl.front.pretty"
local repl = require "cdnctl.front.prompt"
local redact = require "cdnctl.redact"

local f = pretty.format

t.test("scalars: strings quoted, integers as integers, floats as floats", function()
  t.eq(f("a\"b\n"), '"a\\"b\\n"')
  t.eq(f(42), "42")
  t.eq(f(2^53 | 0), "9007199254740992")
  t.eq(f(1.0), "1.0")
  t.eq(f(1.5), "1.5")
  t.eq(f(1e300), "1e+300")
  t.eq(f(0/0), "nan")
  t.eq(f(math.huge), "inf")
  t.eq(f(nil), "nil")
  t.eq(f(true), "true")
  t.eq(f(cdnctl.null), "null")
end)

t.test("keys sorted: integers first in order, then strings", function()
  t.eq(f({ b = 1, a = 2, 10, 20, [5] = "x" }), '{10, 20, [5] = "x", a = 2, b = 1}')
end)

t.test("keys that are not identifiers are bracketed and quoted", function()
  t.eq(f({ ["2020-04-22"] = { Traf = 1 } }), '{["2020-04-22"] = {Traf = 1}}')
end)

t.test("nested tables wider than the line are indented", function()
  local v = { sites = { { site_id = "17", alias = "earqb5e5seg.exactdn.com", site_url = "https://www.example.net/" } } }
  t.eq(f(v), '{\n  sites = {\n    {\n      alias = "earqb5e5seg.exactdn.com",\n      site_id = "17",\n      site_url = "https://www.example.net/"\n    }\n  }\n}')
  t.eq(f({ a = { 1, 2 } }), "{a = {1, 2}}", "narrow tables stay on one line")
end)

t.test("cycles are marked, not followed", function()
  local a = { name = "a" }
  a.self = a
  t.eq(f(a), '{name = "a", self = <cycle>}')
end)

t.test("long arrays are cut with '... N more'", function()
  local big = {}
  for i = 1, 60 do big[i] = i end
  t.match(f(big), "%.%.%. 10 more")
  t.nomatch(f(big), "51")
end)

t.test("deep nesting is cut", function()
  local deep = {}
  local cur = deep
  for _ = 1, 10 do cur.next = {}; cur = cur.next end
  t.match(f(deep), "{%.%.%.}")
end)

t.test("empty tables print as {}", function()
  t.eq(f({}), "{}")
end)

t.test("error objects print through their __tostring", function()
  local _, err = shortpixel.read_domain("bad domain")
  t.eq(f(err), "shortpixel.read_domain: domain: contains a space in 'bad domain' (invalid)")
end)

t.test("history lines mask configured keys and key = \"...\" strings", function()
  redact.add("CONFIGUREDsecret123456")
  t.eq(repl.mask_line('shortpixel.add_domain("a.com", {key = "zzzzyyyyxxxx9876"})'),
    'shortpixel.add_domain("a.com", {key = "****9876"})')
  t.eq(repl.mask_line("x = 'CONFIGUREDsecret123456'"), "x = '****3456'")
  t.eq(repl.mask_line('easyio.remove_key("k", {api_key = "short"})'), 'easyio.remove_key("k", {api_key = "****"})')
  t.eq(repl.mask_line("print(1)"), "print(1)")
end)

t.test("completion: globals, module fields by dotted path, keywords", function()
  t.same(repl.complete("shortpixel.re"), { "shortpixel.read_domain(", "shortpixel.read_domain_cdn_usage(", "shortpixel.revoke_domain(" })
  t.same(repl.complete("easyio.create_"), { "easyio.create_key(", "easyio.create_site(" })
  local g = repl.complete("shortp")
  t.same(g, { "shortpixel." })
  local kw = repl.complete("whi")
  t.same(kw, { "while" })
  t.same(repl.complete("cdnctl.para"), { "cdnctl.parallel(" })
  t.same(repl.complete("nosuchthing.x"), {})
end)

t.test("completion: option names inside a binding's options table", function()
  local line = 'shortpixel.purge_cdn_cache_bulk("example.com", {bo'
  t.same(repl.complete("bo", line, #line - 2), { "both = " })
  line = 'easyio.update_site_config(17, {we'
  t.same(repl.complete("we", line, #line - 2), { "webp = " })
  line = 'shortpixel.read_domain("a.com", {'
  t.same(repl.complete("", line, #line), { "attempts = ", "deadline = ", "key = ", "refresh = ", "timeout = " })
end)

t.test("completion: methods after a colon", function()
  rawset(_G, "s_for_test", "abc")
  local c = repl.complete("s_for_test:up")
  rawset(_G, "s_for_test", nil)
  t.same(c, { "s_for_test:upper(" })
end)

t.done()
