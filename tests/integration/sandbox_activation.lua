-- The sandbox's Easy IO activation, as EWWW's plugin sends it from a client's
-- WordPress (class-exactdn.php 583-790): /exactdn/activate.php (site_url,
-- home_url, no key) and /exactdn/verify.php (alias, origin, optional url),
-- POST form only. No binding sends them: raw requests here.
local t = require "t"
local json = require "cdnctl.json"
local percent = require "cdnctl.percent"
local sbx = require "sbx"

local admin = sbx.admin
local FORM = { "Content-Type: application/x-www-form-urlencoded" }
-- A POST of form fields ({{name, value}, ...}), as the plugin sends it. -> decoded body, status, text
local function post(path, fields, method)
  local parts = {}
  for _, f in ipairs(fields) do parts[#parts + 1] = percent.escape(f[1]) .. "=" .. percent.escape(f[2]) end
  local body = table.concat(parts, "&")
  local r, status = sbx.request { method = method or "POST", path = path, body = body, headers = FORM }
  return r, status, json.encode(r)
end
local function activate(site_url, home_url)
  return post("/exactdn/activate.php", { { "site_url", site_url }, { "home_url", home_url or site_url } })
end
local function verify(alias, origin, url)
  local f = { { "alias", alias }, { "origin", origin } }
  if url then f[#f + 1] = { "url", url } end
  return post("/exactdn/verify.php", f)
end
local function site_state(id) return admin("state").easyio.sites[tostring(id)] end
local function ready() admin("clock", { advance = 600 }) end -- past the pending time (300 s by default)

t.test("activate.php of a registered site URL answers its alias and a plan_id, and records the activation", function()
  local site = t.ok(easyio.create_site("https://act.example.com/"))
  ready()
  t.eq(site_state(site.id).activated, nil, "not activated yet")
  local r, status, text = activate("https://act.example.com", "https://act.example.com")
  t.eq(status, 200)
  t.eq(r.domain, site.alias)
  t.eq(math.type(r.plan_id), "integer")
  t.ok(not text:find("error", 1, true), "no success answer contains 'error'")
  t.eq(site_state(site.id).activated, true, "recorded in the state")
  t.eq(activate("https://ACT.example.com/").domain, site.alias, "the site URL rule: host case and the slash do not count")
end)

t.test("activate.php finds the site by home_url when site_url is not registered", function()
  local site = t.ok(easyio.create_site("https://home.example.com/"))
  ready()
  t.eq(activate("https://home.example.com/wp", "https://home.example.com").domain, site.alias)
end)

t.test("activate.php refuses an unknown site, a missing site_url and a pending site, with an error", function()
  local r, status = activate("https://never-registered.example.com/")
  t.eq(status, 200)
  t.match(r.error, "not registered")
  t.eq(r.domain, nil)
  r = post("/exactdn/activate.php", { { "home_url", "" } })
  t.eq(r.error, "site URL not provided")
  local site = t.ok(easyio.create_site("https://pending-act.example.com/"))
  r = activate("https://pending-act.example.com/")
  t.match(r.error, "pending")
  t.eq(site_state(site.id).activated, nil, "a refused activation records nothing")
end)

t.test("verify.php: success for a site of that origin no longer pending; asset_domains when it has them", function()
  local site = t.ok(easyio.create_site("https://verify.example.com/"))
  local r = verify(site.alias, "https://verify.example.com")
  t.match(r.error, "pending", "a pending site is not verified yet")
  t.ok(not r.error:find("not found", 1, true), "a pending site is not forgotten")
  ready()
  local text
  r, _, text = verify(site.alias, "https://verify.example.com", "https://" .. site.alias .. "/wp-content/test.png")
  t.eq(r.success, true)
  t.eq(r.asset_domains, nil)
  t.ok(not text:find("error", 1, true), "no 'error' anywhere in a success")
  t.ok(easyio.update_site_config(site.id, { asset_domains = "cdn.verify.example.com" }))
  r = verify(site.alias, "https://verify.example.com/")
  t.eq(r.success, true)
  t.eq(r.asset_domains, "cdn.verify.example.com")
end)

t.test("verify.php of a dev site succeeds too; another origin is refused without 'not found'", function()
  local site = t.ok(easyio.create_site("https://staging.verify2.example.com/"))
  t.eq(site.dev, 1)
  ready()
  t.eq(verify(site.alias, "https://staging.verify2.example.com").success, true)
  local r = verify(site.alias, "https://other.example.com")
  t.ok(r.error and not r.error:find("not found", 1, true), "an origin mismatch keeps the alias: " .. tostring(r.error))
  t.eq(r.success, nil)
end)

t.test("verify.php of an unknown alias answers an error containing 'not found'", function()
  local r, status = verify("enotthere000.exactdn.com", "https://verify.example.com")
  t.eq(status, 200)
  t.match(r.error, "not found")
  r = post("/exactdn/verify.php", { { "origin", "https://verify.example.com" } })
  t.eq(r.error, "alias not provided")
end)

t.test("activate.php and verify.php take POST only and need no key", function()
  local r, status = sbx.request { method = "GET", path = "/exactdn/activate.php?site_url=https://act.example.com" }
  t.eq(status, 405)
  t.ok(r.error, "an error body")
  r, status = sbx.request { method = "GET", path = "/exactdn/verify.php" }
  t.eq(status, 405)
  local site = t.ok(easyio.create_site("https://nokey.example.com/"))
  ready()
  r = activate("https://nokey.example.com/")
  t.eq(r.domain, site.alias, "no api_key in the form, and none needed")
end)

t.done()
