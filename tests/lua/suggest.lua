-- Did-you-mean: misspelt names get the closest real one, and only a close one.
local t = require "t"
local suggest = require "cdnctl.suggest"

t.test("distance counts edits, a transposition as one", function()
  t.eq(suggest.distance("add_domain", "add_domain"), 0)
  t.eq(suggest.distance("add_domian", "add_domain"), 1)
  t.eq(suggest.distance("tmeout", "timeout"), 1)
  t.eq(suggest.distance("profle", "profile"), 1)
end)

t.test("closest: a misspelling finds its name; a different word finds nothing", function()
  local ops = { "add_domain", "read_domain", "set_domain", "revoke_domain" }
  t.eq(suggest.closest("add_domian", ops), "add_domain")
  t.eq(suggest.closest("reed_domain", ops), "read_domain")
  t.eq(suggest.closest("purge", ops), nil)
  t.eq(suggest.closest("", ops), nil)
  t.eq(suggest.closest("--profle", { "--profile", "--sandbox", "--quiet" }), "--profile")
end)

t.test("explain: a call of a misspelt binding names the binding", function()
  local ok, err = pcall(function() return shortpixel.add_domian("example.com") end)
  t.eq(ok, false)
  local m = suggest.explain(err)
  t.match(m, "attempt to call a nil value %(field 'add_domian'%) %(did you mean shortpixel%.add_domain%?%)")
  t.eq(suggest.explain("attempt to call a nil value (field 'zzzzzz')"), "attempt to call a nil value (field 'zzzzzz')")
  t.eq(suggest.explain("something else"), "something else")
end)

t.test("explain: a misspelt global names the global", function()
  local ok, err = pcall(load("return shortpxel.add_domain('example.com')", "=stdin"))
  t.eq(ok, false)
  t.match(suggest.explain(err), "%(global 'shortpxel'%) %(did you mean shortpixel%?%)")
  t.match(suggest.explain("x:1: attempt to call a nil value (global 'hlep')"), "%(did you mean help%?%)")
  t.eq(suggest.explain("attempt to index a nil value (global 'zzzzzz')"), "attempt to index a nil value (global 'zzzzzz')")
end)

t.test("the binding tables stay plain: a missing field is nil, not an error", function()
  t.eq(easyio.no_such_thing, nil)
  t.eq(shortpixel.add_domian, nil)
end)

t.done()
