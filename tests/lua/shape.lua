-- The shape rule shared by the contract tests and `sandbox --compare`.
local t = require "t"
local shape = require "cdnctl.shape"
local json = require "cdnctl.json"
local check = require "cdnctl.check"

local function d(want, got, opts) return shape.diff(json.decode(want), json.decode(got), opts) end
local function lines(diffs)
  local out = {}
  for _, x in ipairs(diffs) do out[#out + 1] = shape.describe(x) end
  return table.concat(out, "; ")
end

t.test("same members with the same JSON types: no difference", function()
  t.eq(#d('{"Status": 2, "Message": "ok", "HasAccount": false}', '{"Status": 1, "Message": "x", "HasAccount": true}'), 0)
end)

t.test("a member missing is reported with its path", function()
  t.eq(lines(d('{"Status": 2, "Email": "a@b"}', '{"Status": 2}')), "Email: missing (string expected)")
end)

t.test("a JSON type that differs is reported: a decimal string is not a number", function()
  t.eq(lines(d('{"APICallsMade": "289806.00000000000"}', '{"APICallsMade": 289806}')),
    "APICallsMade: number where string is expected")
end)

t.test("nested objects are compared recursively", function()
  t.eq(lines(d('{"Status": {"Code": "2", "Message": "Success"}}', '{"Status": {"Code": 2, "Message": "Success"}}')),
    "Status.Code: number where string is expected")
end)

t.test("a JSON null matches any type, both ways", function()
  t.eq(#d('{"CaptionsCallsRemaining": null}', '{"CaptionsCallsRemaining": 12}'), 0)
  t.eq(#d('{"Email": "a@b"}', '{"Email": null}'), 0)
end)

t.test("[] and {} are the same empty list", function()
  t.eq(#d('{"UsedCDN": []}', '{"UsedCDN": {}}'), 0)
  t.eq(#d('{"UsedCDN": {"2026-11-01": {"Traf": 1}}}', '{"UsedCDN": []}'), 0)
end)

t.test("maps keyed by dates compare their values' shapes", function()
  t.eq(#d('{"UsedCDN": {"2026-11-01": {"Traf": 1}}}', '{"UsedCDN": {"2026-10-02": {"Traf": 5}, "2026-10-03": {"Traf": 7}}}'), 0)
  t.eq(lines(d('{"UsedCDN": {"2026-11-01": {"Traf": 1}}}', '{"UsedCDN": {"2026-10-02": {"Traf": "5"}}}')),
    "UsedCDN.2026-10-02.Traf: string where number is expected")
end)

t.test("maps keyed by sub-keys compare their values' shapes", function()
  t.eq(#d('{"limits": {"a1b2c3d4e5f6g7h8i9": "2000"}}', '{"limits": {"zz9yy8xx7ww6vv5uu4tt3": "10"}}'), 0)
end)

t.test("a PHP list written as an object is a list", function()
  t.eq(#d('{"sites": [{"site_id": "16"}]}', '{"sites": {"0": {"site_id": "17"}, "1": {"site_id": "18"}}}'), 0)
end)

t.test("list elements are compared with the expected first element", function()
  t.eq(lines(d('{"sites": [{"site_id": "16", "pending": false}]}', '{"sites": [{"site_id": "16", "pending": false}, {"site_id": 17, "pending": false}]}')),
    "sites[2].site_id: number where string is expected")
end)

t.test("an answer that is not an object where one is expected", function()
  t.eq(lines(d('{"Status": 2}', '[1]')), "(answer): list where object is expected")
  t.eq(lines(d('{"Status": 2}', 'false')), "(answer): boolean where object is expected")
end)

t.test("extra members are reported only when asked", function()
  t.eq(#d('{"Status": 2}', '{"Status": 2, "Associated": true}'), 0)
  t.eq(lines(d('{"Status": 2}', '{"Status": 2, "Associated": true}', { extra = true })), "Associated: extra member (boolean)")
end)

t.test("CamelCase field names are fields, not data", function()
  t.eq(shape.type(json.decode('{"APICallsQuotaOneTime": 1, "FreeCredits": 2}')), "object")
end)

t.test("site URLs: host case, punycode, trailing slash and empty path do not count", function()
  t.ok(check.same_site("https://Example.COM", "https://example.com/"))
  t.ok(check.same_site("https://example.com/shop", "https://example.com/shop/"))
  t.ok(check.same_site("https://bücher-demo.de/", "https://xn--bcher-demo-9db.de"))
  t.eq(check.site_key("HTTPS://Example.com/Shop/"), "https://example.com/Shop")
end)

t.test("site URLs: scheme and path count", function()
  t.ok(not check.same_site("http://example.com/", "https://example.com/"))
  t.ok(not check.same_site("https://example.com/shop/", "https://example.com/Shop/"))
  t.ok(not check.same_site("https://example.com/", "https://www.example.com/"))
end)

t.done()
