-- cdnctl.json's two encode paths give the same exact text: plain values
-- (integers under 10^14, no floats) go to cjson directly; the rest through
-- the marked copy. Each case names the path it takes.
local t = require "t"
local json = require "cdnctl.json"

local cases = {
  { "plain: small integers", { n = 15000 }, '{"n":15000}' },
  { "plain: 14 digits, cjson's limit", { n = 99999999999999 }, '{"n":99999999999999}' },
  { "plain: negative 14 digits", { -99999999999999 }, "[-99999999999999]" },
  { "marked: 15 digits", { 100000000000000 }, "[100000000000000]" },
  { "marked: 2^53 + 1", { 9007199254740993 }, "[9007199254740993]" },
  { "marked: math.maxinteger", { math.maxinteger }, "[9223372036854775807]" },
  { "marked: a float", { 0.1 }, "[0.1]" },
  { "marked: a whole float stays a float", { 2.0 }, "[2.0]" },
  { "marked: empty_array", { a = json.empty_array }, '{"a":[]}' },
  { "plain: null, booleans, strings", { json.null, true, "x/y" }, '[null,true,"x\\/y"]' },
  { "plain: nested", { a = { b = { 1, 2 } } }, '{"a":{"b":[1,2]}}' },
}
for _, c in ipairs(cases) do
  t.test(c[1], function()
    t.eq(json.encode(c[2]), c[3])
    local back = json.decode(c[3])
    t.same(back, c[2] == nil and back or (c[2].a == json.empty_array and { a = {} } or c[2]))
  end)
end

t.test("both paths refuse what JSON cannot hold", function()
  t.raises(function() json.encode({ "\255" }) end, "not valid UTF%-8")
  t.raises(function() json.encode({ ["\255"] = 1 }) end, "key is not valid UTF%-8")
  t.raises(function() json.encode({ 0 / 0 }) end, "NaN or infinity")
  local cyc = {}
  cyc.self = cyc
  t.raises(function() json.encode(cyc) end, "nested deeper")
end)

t.done()
