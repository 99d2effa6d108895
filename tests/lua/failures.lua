-- cdnctl.kit.failures: failures grouped by reason, and the brake that stops
-- an operation for an account after 5 refusals in a row with one message.
local t = require "t"
local failures = require "cdnctl.kit.failures"

t.test("failures group by reason, most frequent first, naming the first rows and where the rest are", function()
  local g = failures.groups(3)
  for i = 1, 1750 do g:add("easyio.create_site: site limit reached", string.format("client%04d-demo.com", i)) end
  g:add("bad site_url\nsecond line", "x.com")
  t.deq(g:lines("clients.results.csv"), {
    "  1,750 x easyio.create_site: site limit reached: client0001-demo.com, client0002-demo.com, client0003-demo.com, ... (all in clients.results.csv)",
    "  1 x bad site_url: x.com" })
  t.eq(g:total(), 1751)
end)

t.test("thousands separators", function()
  t.eq(failures.thousands(7), "7")
  t.eq(failures.thousands(1750), "1,750")
  t.eq(failures.thousands(1234567), "1,234,567")
end)

t.test("5 refusals in a row with one message stop the operation for that account only", function()
  local b = failures.brake()
  for _ = 1, 5 do
    t.eq(b:check("easyio.create_site", "k1"), true)
    b:record("easyio.create_site", "k1", { kind = "api", message = "site limit reached" })
  end
  local ok, msg = b:check("easyio.create_site", "k1")
  t.eq(ok, false)
  t.ok(msg:find("refused 5 times in a row", 1, true) and msg:find("site limit reached", 1, true)
    and msg:find("--keep-going", 1, true), msg)
  t.ok(b.announce ~= nil, "the first stop is announced")
  b:check("easyio.create_site", "k1")
  t.eq(b.announce, nil, "and only the first")
  t.eq(b:check("easyio.create_site", "k2"), true, "another account goes on")
  t.eq(b:check("shortpixel.add_domain", "k1"), true, "another operation goes on")
end)

t.test("a success or another message starts the count again; network failures are not refusals", function()
  local b = failures.brake()
  local function refuse(m) b:record("op", "k", { kind = "api", message = m }) end
  for _ = 1, 4 do refuse("a") end
  b:record("op", "k", nil)
  for _ = 1, 4 do refuse("a") end
  refuse("b")
  for _ = 1, 3 do refuse("a") end
  for _ = 1, 9 do b:record("op", "k", { kind = "transport", message = "timeout" }) end
  t.eq(b:check("op", "k"), true)
  refuse("a")
  t.eq(b:check("op", "k"), true, "4 in a row so far")
  refuse("a")
  t.eq((b:check("op", "k")), false)
end)

t.test("keep_going sends them all", function()
  local b = failures.brake { keep_going = true }
  for _ = 1, 20 do b:record("op", "k", "refused") end
  t.eq(b:check("op", "k"), true)
end)

t.done()
