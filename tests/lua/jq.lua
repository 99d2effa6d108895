-- cdnctl.jq: libjq behind one function and one method. jq.compile(expr)
-- gives a filter; filter:run(json [, indent]) every output of it as JSON
-- text (keys sorted, '/' plain); a bad expression, input that is not JSON
-- or a runtime error is nil and libjq's message.
local t = require "t"
local jq = require "cdnctl.jq"

local function run(expr, json, indent)
  local f = assert(jq.compile(expr))
  return f:run(json, indent)
end

t.test("filter:run gives each output of the filter as JSON text with sorted keys", function()
  t.deq(assert(run(".sites[] | {z: .id, a: .url}", '{"sites":[{"id":1,"url":"a/b"},{"id":2,"url":"c"}]}')),
    { '{"a":"a/b","z":1}', '{"a":"c","z":2}' })
end)

t.test("filter:run with indent gives indented JSON", function()
  t.eq(assert(run(".", '{"b":[1],"a":2}', true))[1], '{\n  "a": 2,\n  "b": [\n    1\n  ]\n}')
end)

t.test("a filter with no output gives an empty list", function()
  t.deq(assert(run("empty", "{}")), {})
end)

t.test("a syntax error is libjq's compile message", function()
  local f, err = jq.compile(".sites[")
  t.eq(f, nil)
  t.ok(err:find("syntax error", 1, true) and err:find("compile error", 1, true), err)
end)

t.test("a runtime error is libjq's message; the filter runs again afterwards", function()
  local f = assert(jq.compile(".[] | .x"))
  local out, err = f:run('[{"x":1}, 3]')
  t.eq(out, nil)
  t.ok(err:find("Cannot index number with", 1, true), err)
  t.deq(assert(f:run('[{"x":2}]')), { "2" })
  f:close()
  t.ok(not pcall(f.run, f, "{}"), "a closed filter refuses to run")
end)

t.test("numbers up to 2^53 keep their value; input that is not JSON is refused", function()
  t.deq(assert(run(".n", '{"n":9007199254740992}')), { "9007199254740992" })
  local out, err = run(".", "{nope")
  t.eq(out, nil)
  t.ok(err:find("input", 1, true), err)
end)

t.test("one filter runs on many inputs", function()
  local f = assert(jq.compile(".a + 1"))
  for i = 1, 200 do t.deq(assert(f:run('{"a":' .. i .. '}')), { tostring(i + 1) }) end
end)

t.done()
