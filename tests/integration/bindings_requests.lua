-- Every binding sends exactly the documented request (method, path, query,
-- form body, headers), checked on a fixture server that records requests.
local t = require "t"
local fixture = require "fixture"
local percent = require "cdnctl.percent"

local fx = fixture.start()
local cdnctl, shortpixel, easyio = fx.lib, fx.shortpixel, fx.easyio
local SP, EZ = "SPKEYfixture000000001", "EZKEYfixture000000001"

local function form(req) return assert(percent.parse_form(req.body)) end

local sp_cases = {
  { "add_domain", { "example.com" }, "/add-domain/example.com/" .. SP },
  { "add_domain", { "example.com", { key = false } }, "/add-domain/example.com" },
  { "read_domain", { "example.com" }, "/read-domain/example.com" },
  { "set_domain", { "example.com" }, "/set-domain/example.com/" .. SP },
  { "revoke_domain", { "example.com" }, "/revoke-domain/example.com/" .. SP },
  { "read_domain_cdn_usage", { "example.com" }, "/read-domain-cdn-usage/example.com/" .. SP },
  { "purge_storage_bulk", { "example.com" }, "/purge-storage-bulk/" .. SP .. "/example.com" },
  { "purge_cdn_cache_bulk", { "example.com" }, "/purge-cdn-cache-bulk/" .. SP .. "/example.com" },
}
for _, c in ipairs(sp_cases) do
  t.test("shortpixel." .. c[1] .. " sends GET " .. c[3]:gsub(SP, "KEY"), function()
    local r, err = shortpixel[c[1]](table.unpack(c[2]))
    t.ok(r, "call succeeds: " .. tostring(err))
    local req = fx:last()
    t.eq(req.method, "GET")
    t.eq(req.uri, c[3])
    t.match(req.headers["user-agent"], "^cdnctl/%d")
  end)
end

t.test("shortpixel.api_status sends POST /v2/api-status.php with key=KEY in a form body", function()
  t.ok(shortpixel.api_status())
  local req = fx:last()
  t.eq(req.method, "POST")
  t.eq(req.uri, "/v2/api-status.php")
  t.eq(form(req).key, SP)
  t.nomatch(req.uri, SP)
end)

t.test("opts.key overrides the default key", function()
  t.ok(shortpixel.set_domain("example.com", { key = "OTHERkey0000000000001" }))
  t.eq(fx:last().uri, "/set-domain/example.com/OTHERkey0000000000001")
end)

t.test("a URL or uppercase domain is reduced to its lowercase host before sending", function()
  t.ok(shortpixel.read_domain("https://WWW.Example.com/shop?x=1"))
  t.eq(fx:last().uri, "/read-domain/www.example.com")
end)

t.test("an internationalised domain is sent as punycode", function()
  t.ok(shortpixel.read_domain("bücher.de"))
  t.eq(fx:last().uri, "/read-domain/xn--bcher-kva.de")
end)

local ez_cases = {
  { "show_sites", {}, "/exactdn/show.php", { api_key = EZ } },
  { "show_sites", { "https://www.example.com" }, "/exactdn/show.php", { api_key = EZ, site_url = "https://www.example.com/" } },
  { "create_site", { "https://www.example.com/" }, "/exactdn/create.php", { api_key = EZ, site_url = "https://www.example.com/" } },
  { "update_site_config", { 17, { webp = true, avif = false, asset_domains = "images.third-party.net" } },
    "/exactdn/config-update.php", { api_key = EZ, site_id = "17", webp = "1", avif = "0", asset_domains = "images.third-party.net" } },
  { "set_cname", { 16, "cdn.example.net" }, "/exactdn/cname.php", { api_key = EZ, site_id = "16", custom_cname = "cdn.example.net" } },
  { "revert_cname", { 16 }, "/exactdn/cname-revert.php", { api_key = EZ, site_id = "16" } },
  { "remove_site", { "18" }, "/exactdn/remove.php", { api_key = EZ, site_id = "18" },
    { status = 200, body = '{"sites": [{"site_id": "18", "site_url": "https://x.com/"}]}' } }, -- the read before lists it
  { "savings", { "example.exactdn.com" }, "/exactdn/savings.php", { api_key = EZ, alias = "example.exactdn.com" } },
  { "show_keys", {}, "/api_key/show.php", { api_key = EZ } },
  { "create_key", { { attempts = 1 } }, "/api_key/create.php", { api_key = EZ } },
  { "remove_key", { "sub-key-000000000001" }, "/api_key/remove.php", { api_key = EZ, sub_key = "sub-key-000000000001" } },
  { "change_key", { "sub-key-000000000001", { label = "forfun", allowed = 5000, site_limit = 10 } },
    "/api_key/change.php", { api_key = EZ, sub_key = "sub-key-000000000001", label = "forfun", allowed = "5000", site_limit = "10" } },
}
for _, c in ipairs(ez_cases) do
  t.test("easyio." .. c[1] .. " POSTs a form to " .. c[3], function()
    if c[5] then fx:queue(c[5]) end
    local r, err = easyio[c[1]](table.unpack(c[2]))
    t.ok(r, "call succeeds: " .. tostring(err))
    local req = fx:last()
    t.eq(req.method, "POST")
    t.eq(req.uri, c[3])
    t.eq(req.headers["content-type"], "application/x-www-form-urlencoded")
    t.match(req.headers["user-agent"], "^cdnctl/%d")
    t.same(form(req), c[4])
    t.match(req.body, "^api_key=", "api_key comes first")
  end)
end

t.test("change_key keeps the fields it was not asked to change (reads show_keys first)", function()
  local before = fx:count()
  t.ok(easyio.change_key("sub-key-000000000001", { label = "new label" }))
  local log = fx:log()
  t.eq(#log - before, 2, "two requests: show_keys then change")
  t.eq(log[#log - 1].uri, "/api_key/show.php")
  t.same(form(log[#log]), { api_key = EZ, sub_key = "sub-key-000000000001", label = "new label", allowed = "2000", site_limit = "2" })
end)

t.test("change_key with opts.replace sends only what was given", function()
  local before = fx:count()
  t.ok(easyio.change_key("sub-key-000000000001", { label = "only" }, { replace = true }))
  t.eq(fx:count() - before, 1)
  t.same(form(fx:last()), { api_key = EZ, sub_key = "sub-key-000000000001", label = "only" })
end)

t.test("change_key refuses a sub-key that show_keys does not list, sending no change", function()
  local before = fx:count()
  local r, err = easyio.change_key("unknownsub", { label = "x" })
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.match(err.message, "not found")
  t.eq(fx:count() - before, 1, "only show_keys was sent")
end)

t.test("purges with opts.both purge the apex and www, returning both results", function()
  local before = fx:count()
  local r, err = shortpixel.purge_cdn_cache_bulk("www.example.com", { both = true })
  t.ok(r, tostring(err))
  local log = fx:log()
  t.eq(#log - before, 2)
  t.eq(log[#log - 1].uri, "/purge-cdn-cache-bulk/" .. SP .. "/example.com")
  t.eq(log[#log].uri, "/purge-cdn-cache-bulk/" .. SP .. "/www.example.com")
  t.ok(r["example.com"] and r["www.example.com"], "both hosts in the result")
end)

t.test("read_domain names the status", function()
  fx:queue({ status = 200, body = '{"Status": -2, "Message": "x"}' })
  local r = t.ok(shortpixel.read_domain("example.com"))
  t.eq(r.Status, -2)
  t.eq(r.status_name, "credits exhausted some time ago")
  t.eq(shortpixel.STATUS[-3], "domain not reachable")
end)

fx:stop()
t.done()
