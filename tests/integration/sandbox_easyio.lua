-- The sandbox's Easy IO rules, each through the bindings, against the
-- embedded sandbox (`cdnctl --sandbox`): every rule of the API page.
local t = require "t"
local sched = require "cdnctl.sched"
local json = require "cdnctl.json"
local config = require "cdnctl.config"
local sbx = require "sbx"

local SUB = "ez-demo-subkey-0001"
local base = config.url(cdnctl.settings, "ez")
local admin = sbx.admin
-- A raw request, to see what the bindings would never send.
local function post(path, body, headers)
  return sbx.request { method = "POST", path = path, body = body,
    headers = headers or { "Content-Type: application/x-www-form-urlencoded" } }
end
local function api_error(r, err, message)
  t.eq(r, nil, "the call fails")
  t.eq(err.kind, "api")
  t.eq(err.message, message)
end
local function ready() admin("clock", { advance = 600 }) end -- past the pending time (300 s by default)

local site
t.test("create adds the trailing slash and answers id, site_url, dev, alias, status", function()
  site = t.ok(easyio.create_site("https://www.example.com"))
  t.eq(math.type(site.id), "integer")
  t.eq(site.site_url, "https://www.example.com/")
  t.eq(site.dev, 0)
  t.match(site.alias, "^[a-z0-9]+%.exactdn%.com$")
  t.eq(site.status, "success")
end)

t.test("show lists the site with every documented field, new sites pending", function()
  local r = t.ok(easyio.show_sites())
  t.eq(math.type(r.live_sites), "integer")
  t.eq(r.licensed, "250")
  t.eq(r.interval, "month")
  t.eq(math.type(r.quota), "integer")
  local s = r.sites[#r.sites]
  t.eq(s.site_id, tostring(site.id))
  t.eq(s.zone .. ".exactdn.com", s.alias)
  t.eq(s.pending, true)
  t.eq(s.live, "1")
  t.eq(s.purgeable, "1")
  t.eq(s.bandwidth, "0")
  t.eq(s.location, "NA,US")
  t.match(s.beforet, "^https://gtmetrix%.com/reports/www%.example%.com/")
  for _, f in ipairs { "avif", "webp", "watermark", "watermark_offset", "watermark_min_size", "watermark_position" } do
    t.eq(math.type(s.config[f]), "integer", "config." .. f)
  end
  t.eq(type(s.config.asset_domains), "string")
end)

t.test("show filters by site_url", function()
  t.ok(easyio.create_site("https://shop.example.org/"))
  local r = t.ok(easyio.show_sites("https://shop.example.org"))
  t.eq(#r.sites, 1)
  t.eq(r.sites[1].site_url, "https://shop.example.org/")
  r = t.ok(easyio.show_sites("https://nowhere.example.org/"))
  t.eq(#r.sites, 0)
end)

t.test("staging-looking URLs are dev = 1 and not counted in live_sites", function()
  local before = t.ok(easyio.show_sites()).live_sites
  local r = t.ok(easyio.create_site("https://staging.example.com/"))
  t.eq(r.dev, 1)
  r = t.ok(easyio.create_site("https://mysite.wpengine.com/"))
  t.eq(r.dev, 1)
  t.eq(t.ok(easyio.show_sites()).live_sites, before)
end)

t.test("create refuses a registered site URL in any spelling: {error = 'duplicate site url'}", function()
  local first = t.ok(easyio.create_site("https://twice.example.com/"))
  for _, spelling in ipairs { "https://twice.example.com/", "https://TWICE.Example.com", "https://twice.example.com" } do
    local b = post("/exactdn/create.php", "api_key=ez-demo-account-0001&site_url=" .. spelling,
      { "Content-Type: application/x-www-form-urlencoded", "User-Agent: test" })
    t.same(b, { error = "duplicate site url" }, spelling)
  end
  local r, err = easyio.create_site("https://Twice.example.com")
  t.eq(r, nil)
  t.eq(err.code, "duplicate")
  t.eq(err.site.site_id, tostring(first.id))
  t.eq(#t.ok(easyio.show_sites("https://twice.example.com/")).sites, 1)
end)

t.test("a URL registered by another account is refused too; its sites stay invisible", function()
  local r, err = easyio.create_site("https://twice.example.com/", { key = SUB })
  t.eq(r, nil)
  t.eq(err.code, "duplicate")
  t.eq(err.site, nil)
  t.match(err.message, "not on this account")
end)

t.test("scheme and path make another site", function()
  t.ok(easyio.create_site("http://twice.example.com/"))
  t.ok(easyio.create_site("https://twice.example.com/shop/"))
end)

t.test("show's site_url filter matches by the same rule (no trailing slash, host case)", function()
  local r = t.ok(easyio.show_sites("https://TWICE.example.com"))
  t.eq(#r.sites, 1)
  t.eq(r.sites[1].site_url, "https://twice.example.com/")
end)

t.test("aliases are e + 10 lowercase letters or digits + .exactdn.com", function()
  for _, s in ipairs(t.ok(easyio.show_sites()).sites) do
    t.match(s.alias, "^e[a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9]%.exactdn%.com$")
  end
end)

t.test("pending sites cannot be removed; later they can", function()
  local r, err = easyio.remove_site(site.id)
  api_error(r, err, "site is pending and cannot be removed yet")
  ready()
  local s = t.ok(easyio.show_sites("https://www.example.com/")).sites[1]
  t.eq(s.pending, false)
  local tmp = t.ok(easyio.create_site("https://gone.example.com/"))
  ready()
  r = t.ok(easyio.remove_site(tmp.id))
  t.eq(r.success, true)
  t.eq(#t.ok(easyio.show_sites("https://gone.example.com/")).sites, 0)
  r, err = easyio.remove_site(tmp.id)
  api_error(r, err, "site " .. tmp.id .. " is not on this account (show_sites does not list it)")
  t.eq(err.code, "not_found", "the binding reads first and sends nothing")
  t.eq(post("/exactdn/remove.php", "api_key=ez-demo-account-0001&site_id=" .. tmp.id).error, "site not found")
end)

t.test("config-update changes the given fields and answers the whole configuration", function()
  local r = t.ok(easyio.update_site_config(site.id, { avif = true, asset_domains = "img.example.net" }))
  t.eq(r.success, 1)
  t.eq(r.avif, 1)
  t.eq(r.webp, 1, "untouched field kept")
  t.eq(r.asset_domains, "img.example.net")
  t.eq(r.watermark_min_size, 300)
  r = t.ok(easyio.update_site_config(site.id, { webp = false }))
  t.eq(r.webp, 0)
  t.eq(r.avif, 1)
  local s = t.ok(easyio.show_sites("https://www.example.com/")).sites[1]
  t.eq(s.config.avif, 1)
  t.eq(s.config.webp, 0)
end)

t.test("cname sets a custom hostname as the alias; cname-revert restores the standard one", function()
  local r = t.ok(easyio.set_cname(site.id, "cdn.example.com"))
  t.eq(r.success, "Custom hostname successfully added.")
  t.eq(r.alias, "cdn.example.com")
  t.eq(t.ok(easyio.show_sites("https://www.example.com/")).sites[1].alias, "cdn.example.com")
  r = t.ok(easyio.revert_cname(site.id))
  t.eq(r.alias, site.alias)
  t.eq(r.success, "Default hostname successfully restored: " .. site.alias)
end)

t.test("savings by alias: integer figures that grow with CDN traffic", function()
  local r = t.ok(easyio.savings(site.alias))
  for _, f in ipairs { "original", "savings", "quota", "bandwidth" } do t.eq(math.type(r[f]), "integer", f) end
  t.eq(r.original, 0)
  admin("cdn/" .. site.alias .. "/wp-content/a.jpg")
  r = t.ok(easyio.savings(site.alias))
  t.ok(r.original > 0 and r.savings > 0 and r.savings < r.original)
  t.eq(r.bandwidth, r.original - r.savings)
  local s = t.ok(easyio.show_sites("https://www.example.com/")).sites[1]
  t.eq(s.bandwidth, tostring(r.bandwidth))
  local bad, err = easyio.savings("nope.exactdn.com")
  api_error(bad, err, "invalid alias")
end)

t.test("api_key is checked with the page's own message", function()
  local r, err = easyio.show_sites(nil, { key = "ez-unknown-key-0000" })
  api_error(r, err, "API key not found")
  local b = post("/exactdn/show.php", "token=x")
  t.eq(b.error, "API key not provided")
end)

t.test("create without a site URL gives the page's own message", function()
  local b = post("/exactdn/create.php", "api_key=ez-demo-account-0001")
  t.eq(b.error, "site URL not provided")
end)

t.test("POST only, with a user-agent, with form data", function()
  local r = assert(sched.request { method = "GET", url = base .. "/exactdn/show.php?api_key=ez-demo-account-0001" })
  t.eq(r.status, 405)
  t.eq(json.decode(r.body).error, "requests must use the POST method")
  local _, st = post("/exactdn/show.php", "api_key=ez-demo-account-0001", { "User-Agent:" })
  t.eq(st, 400)
  local b
  b, st = post("/exactdn/show.php", '{"api_key": "ez-demo-account-0001"}', { "Content-Type: application/json" })
  t.eq(st, 415)
  t.match(b.error, "x%-www%-form%-urlencoded")
  b, st = post("/exactdn/show.php", "api_key=%zz")
  t.eq(st, 400)
end)

t.test("a sub-key sees only its own sites and may create sites", function()
  local mine = t.ok(easyio.create_site("https://client.example.com/", { key = SUB }))
  local r = t.ok(easyio.show_sites(nil, { key = SUB }))
  t.eq(#r.sites, 1)
  t.eq(r.sites[1].site_id, tostring(mine.id))
  t.eq(r.interval, nil, "sub-keys do not show the interval")
  t.eq(r.licensed, "2", "a sub-key's own site limit")
  local all = t.ok(easyio.show_sites())
  t.ok(#all.sites > 1, "the account sees every site, the sub-key's too")
  local rr, err = easyio.remove_site(site.id, { key = SUB })
  t.eq(err.code, "not_found", "not listed for the sub-key: not sent")
  t.eq(rr, nil)
  t.eq(post("/exactdn/remove.php", "api_key=" .. SUB .. "&site_id=" .. site.id).error, "site not found")
end)

t.test("a sub-key's site limit is enforced", function()
  t.ok(easyio.create_site("https://client2.example.com/", { key = SUB }))
  local r, err = easyio.create_site("https://client3.example.com/", { key = SUB })
  api_error(r, err, "site limit reached")
  t.ok(easyio.create_site("https://dev.client3.example.com/", { key = SUB }), "dev sites do not count")
end)

t.test("sub-keys cannot create or manage sub-keys", function()
  local r, err = easyio.create_key({ key = SUB })
  api_error(r, err, "sub-keys cannot create or manage sub-keys")
  r, err = easyio.show_keys({ key = SUB })
  api_error(r, err, "sub-keys cannot create or manage sub-keys")
end)

local new_key
t.test("create_key, show_keys: maps indexed by the keys", function()
  local r = t.ok(easyio.create_key())
  t.eq(r.success, 1)
  new_key = r.sub_key
  t.match(new_key, "^[a-z0-9]+$")
  local k = t.ok(easyio.show_keys())
  t.eq(k.keys[#k.keys], new_key)
  t.eq(k.keys[1], SUB)
  t.eq(k.limits[SUB], "2000")
  t.eq(k.site_limit[SUB], "2")
  t.eq(k.labels[SUB], "demo client")
  t.eq(k.sites[SUB], 2)
  t.eq(k.labels[new_key], "")
  t.eq(k.limits[new_key], "0")
end)

t.test("change.php blanks omitted fields, exactly as the page says (replace = true)", function()
  t.ok(easyio.change_key(new_key, { label = "client A", allowed = 5000, site_limit = 10 }))
  local r = t.ok(easyio.change_key(new_key, { label = "renamed" }, { replace = true }))
  t.eq(r.label, "renamed")
  t.eq(r.allowed, 0)
  t.eq(r.site_limit, 0)
  local k = t.ok(easyio.show_keys())
  t.eq(k.limits[new_key], "0")
end)

t.test("change_key keeps what it was not asked to change (reads show_keys first)", function()
  t.ok(easyio.change_key(new_key, { label = "client A", allowed = 5000, site_limit = 10 }))
  local r = t.ok(easyio.change_key(new_key, { label = "client A (EU)" }))
  t.eq(r.label, "client A (EU)")
  t.eq(r.allowed, 5000)
  t.eq(r.site_limit, 10)
  local k = t.ok(easyio.show_keys())
  t.eq(k.labels[new_key], "client A (EU)")
  t.eq(k.limits[new_key], "5000")
  t.eq(k.site_limit[new_key], "10")
end)

t.test("remove_key removes; a second remove is refused", function()
  local r = t.ok(easyio.remove_key(new_key))
  t.eq(r.sub_key, new_key)
  local raw = post("/api_key/remove.php", "api_key=ez-demo-account-0001&sub_key=" .. new_key)
  t.eq(raw.error, "sub-key not found")
  raw = post("/api_key/remove.php", "api_key=ez-demo-account-0001")
  t.eq(raw.error, "sub-key not provided")
end)

t.test("the account's site limit is enforced for live sites", function()
  local r = t.ok(easyio.show_sites())
  admin("reset", {})
  local limited = r.licensed
  t.eq(limited, "250")
  local b = post("/exactdn/show.php", "api_key=ez-demo-account-0001")
  t.eq(#b.sites, 0, "reset emptied the sites")
  t.eq(b.live_sites, 0)
end)

t.test("every error is {error = message} with no other member", function()
  local b = post("/exactdn/remove.php", "api_key=ez-demo-account-0001")
  t.eq(b.error, "site ID not provided")
  t.eq(next(b, next(b)), nil, "a single member")
  b = post("/exactdn/cname.php", "api_key=ez-demo-account-0001&site_id=99999&custom_cname=x.example.com")
  t.eq(b.error, "site not found")
end)

t.done()
