-- cdnctl.json's encoders: encode (what cdnctl writes: keys sorted, '/'
-- unescaped, numbers exact) and encode_php (the sandbox's answers, through
-- cjson: plain values directly, the rest through the marked copy).
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
  { "plain: null, booleans, strings", { json.null, true, "x/y" }, '[null,true,"x/y"]' },
  { "plain: nested", { a = { b = { 1, 2 } } }, '{"a":{"b":[1,2]}}' },
}
for _, c in ipairs(cases) do
  t.test(c[1], function()
    t.eq(json.encode(c[2]), c[3])
    t.eq(json.encode_php(c[2]), (c[3]:gsub("/", "\\/")))
    local back = json.decode(c[3])
    t.same(back, c[2] == nil and back or (c[2].a == json.empty_array and { a = {} } or c[2]))
  end)
end

t.test("encode sorts object keys bytewise at every depth", function()
  t.eq(json.encode { b = 1, a = 2, B = 3, ["a b"] = 4, aa = { z = 1, y = { 2, { d = 0, c = 0 } } } },
    '{"B":3,"a":2,"a b":4,"aa":{"y":[2,{"c":0,"d":0}],"z":1},"b":1}')
  t.eq(json.encode { [10] = "x", a = 1, [2] = "y" }, '{"10":"x","2":"y","a":1}')
  t.eq(json.encode {}, "{}")
  t.eq(json.encode { 1, nil, 3 }, "[1,null,3]")
end)

t.test("encode escapes quotes, backslashes and control characters, never /", function()
  t.eq(json.encode "a/b\"c\\d\n\t\1\127é", '"a/b\\"c\\\\d\\n\\t\\u0001\\u007fé"')
end)

t.test("encode_php (the sandbox's answers) escapes / as PHP's json_encode does", function()
  t.eq(json.encode_php { "https://x.example/" }, '["https:\\/\\/x.example\\/"]')
  t.eq(json.encode_php { 9007199254740993 }, "[9007199254740993]")
end)

t.test("encode refuses what JSON cannot hold", function()
  t.raises(function() json.encode({ [true] = 1 }) end, "key must be a number or a string")
  t.raises(function() json.encode({ [50] = 1, [1] = 2 }) end, "excessively sparse array")
  t.raises(function() json.encode({ print }) end, "cannot encode a function")
end)

t.test("both paths refuse what JSON cannot hold", function()
  for _, encode in ipairs { json.encode, json.encode_php } do
    t.raises(function() encode({ "\255" }) end, "not valid UTF%-8")
    t.raises(function() encode({ ["\255"] = 1 }) end, "key is not valid UTF%-8")
    t.raises(function() encode({ 0 / 0 }) end, "NaN or infinity")
    local cyc = {}
    cyc.self = cyc
    t.raises(function() encode(cyc) end, "nested deeper")
  end
end)

t.done()
