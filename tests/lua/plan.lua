-- plan.make: the actions and findings that bring the accounts to the
-- inventory, from the inventory and a world as plan.read reads it.
local t = require "t"
local inventory = require "cdnctl.inventory"
local plan = require "cdnctl.plan"

local function inv_of(text)
  return assert(inventory.parse(text))
end
local function site(id, url, extra)
  local s = { site_id = tostring(id), zone = "ezone" .. id, alias = "ezone" .. id .. ".exactdn.com", site_url = url,
              pending = false, live = "1", bandwidth = "100",
              config = { webp = 0, avif = 0, asset_domains = "", watermark = 0 } }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
local function ops_of(p)
  local out = {}
  for i, a in ipairs(p.actions) do
    local first = a.args[1]
    out[i] = a.op .. " " .. (type(first) == "table" and ("(after " .. first.known_after .. ")") or tostring(first))
  end
  return out
end

t.test("a new client: add_domain for apex and www, create_site, then its settings and CNAME after the create", function()
  local inv = inv_of("client,domain,webp,cname\nBistro,bistro.example,yes,img.bistro.example\n")
  local world = { [""] = { hosts = { ["bistro.example"] = { owned = false, has_account = false },
                                     ["www.bistro.example"] = { owned = false, has_account = false } }, sites = {} } }
  local p = plan.make(inv, world)
  t.same(ops_of(p), { "shortpixel.add_domain bistro.example", "shortpixel.add_domain www.bistro.example",
                      "easyio.create_site https://www.bistro.example/", "easyio.update_site_config (after 2)",
                      "easyio.set_cname (after 2)" })
  t.same(p.actions[4].args[1], { known_after = 2, field = "id" })
  t.same(p.actions[4].args[2], { webp = 1 })
  t.same(p.actions[5].args, { { known_after = 2, field = "id" }, "img.bistro.example" })
  t.eq(p.actions[1].client, "Bistro")
  t.eq(p.actions[1].line, 2)
  t.same(p.summary, { add = 3, change = 2, remove = 0, conflict = 0, pending = 0, unmanaged = 0, unreadable = 0 })
end)

t.test("in sync: owned hosts and a site whose settings match make no action", function()
  local inv = inv_of("domain,webp,avif\nshop.example,1,false\n")
  local world = { [""] = { hosts = { ["shop.example"] = { owned = true }, ["www.shop.example"] = { owned = true } },
                           sites = { site(16, "https://www.shop.example/", { config = { webp = 1, avif = 0 } }) } } }
  local p = plan.make(inv, world)
  t.eq(#p.actions, 0)
  t.eq(#p.findings, 0)
end)

t.test("settings that differ: one update with only those fields, old values in read", function()
  local inv = inv_of("domain,webp,avif,asset_domains\nshop.example,1,0,Cdn.Other.net\n")
  local world = { [""] = { hosts = {}, sites = { site(16, "https://www.shop.example", { config = { webp = "0", avif = 0, asset_domains = "cdn.other.net" } }) } } }
  inv.clients[1].shortpixel = false
  local p = plan.make(inv, world)
  t.eq(#p.actions, 1)
  local a = p.actions[1]
  t.eq(a.op, "easyio.update_site_config")
  t.same(a.args, { 16, { webp = 1 } })
  t.same(a.read, { site_id = 16, config = { webp = 0 } })
  t.match(a.why, "webp: 0 %-> 1")
end)

t.test("a host of another account is a conflict, never an action; an unreadable host says why", function()
  local inv = inv_of("domain,service,profile\nbistro.example,shortpixel,bistro\n")
  local world = { bistro = { hosts = { ["bistro.example"] = { owned = false, has_account = true },
                                       ["www.bistro.example"] = { err = "read_domain: timeout" } } } }
  local p = plan.make(inv, world)
  t.eq(#p.actions, 0)
  t.eq(p.findings[1].kind, "conflict")
  t.match(p.findings[1].message, "another account %(not the key of profile 'bistro'%)")
  t.eq(p.findings[2].kind, "unreadable")
  t.eq(p.findings[2].target, "www.bistro.example")
  t.eq(p.summary.conflict, 1)
  t.eq(p.summary.unreadable, 1)
end)

t.test("state = absent: revoke what this key owns, remove the site; a pending site is a finding", function()
  local inv = inv_of("domain,state\ngone.example,absent\nnew.example,absent\n")
  local world = { [""] = { hosts = { ["gone.example"] = { owned = true }, ["www.gone.example"] = { owned = false, has_account = true },
                                     ["new.example"] = { owned = false, has_account = false }, ["www.new.example"] = { owned = false } },
                           sites = { site(3, "https://www.gone.example/"), site(4, "https://www.new.example/", { pending = true }) } } }
  local p = plan.make(inv, world)
  t.same(ops_of(p), { "shortpixel.revoke_domain gone.example", "easyio.remove_site 3" })
  t.eq(p.findings[1].kind, "pending")
  t.eq(p.summary.remove, 2)
end)

t.test("CNAMEs: '-' reverts a custom one, a new one is set, the same one is left", function()
  local inv = inv_of("domain,service,cname\na.example,easyio,-\nb.example,easyio,img.b.example\nc.example,easyio,img.c.example\nd.example,easyio,-\n")
  local world = { [""] = { sites = {
    site(1, "https://www.a.example/", { alias = "img.a.example" }), site(2, "https://www.b.example/"),
    site(3, "https://www.c.example/", { alias = "img.c.example" }), site(4, "https://www.d.example/") } } }
  local p = plan.make(inv, world)
  t.same(ops_of(p), { "easyio.revert_cname 1", "easyio.set_cname 2" })
  t.same(p.actions[2].read, { site_id = 2, alias = "ezone2.exactdn.com", zone = "ezone2" })
end)

t.test("unmanaged: a site no row of any profile names; a sub-key's site named under its own profile is managed", function()
  local inv = inv_of("domain,service,profile\nsub.example,easyio,sub\n")
  local world = { sub = { sites = { site(5, "https://www.sub.example/") } },
                  [""] = { sites = { site(5, "https://www.sub.example/"), site(6, "https://stray.example/") } } }
  inv.clients[1].profile = "sub"
  local p = plan.make(inv, world)
  t.eq(#p.actions, 0)
  t.eq(#p.findings, 1)
  t.eq(p.findings[1].kind, "unmanaged")
  t.eq(p.findings[1].target, "https://stray.example/")
  t.match(p.findings[1].message, "the run's source that no row names %(site 6")
end)

t.test("a setting show.php does not return cannot be compared: said once, not sent", function()
  local inv = inv_of("domain,service,watermark_url\na.example,easyio,https://x.example/w.png\nb.example,easyio,https://x.example/w.png\n")
  local s1, s2 = site(1, "https://www.a.example/"), site(2, "https://www.b.example/")
  local world = { [""] = { sites = { s1, s2 } } }
  local p = plan.make(inv, world)
  t.eq(#p.actions, 0)
  local n = 0
  for _, note in ipairs(p.notes) do if note:match("^watermark_url: show.php does not return it") then n = n + 1 end end
  t.eq(n, 1)
end)

t.test("a profile that cannot be used makes its clients unreadable, naming why", function()
  local inv = inv_of("domain,profile\na.example,nosuch\n")
  local world = { nosuch = { hosts = {}, sites_err = "no profile 'nosuch'", source_err = "no profile 'nosuch'" } }
  local p = plan.make(inv, world)
  t.eq(#p.actions, 0)
  t.eq(p.summary.unreadable, 3)
  t.match(p.findings[1].message, "no profile 'nosuch'")
end)

t.test("a saved plan's action is stale when what it read changed, and only then", function()
  local add = { op = "shortpixel.add_domain", args = { "a.example" }, read = { owner = "none" } }
  t.eq(plan.stale(add, { host = { owned = false, has_account = false } }), nil)
  t.match(plan.stale(add, { host = { owned = true } }), "owner was none when planned and is this account now")
  t.match(plan.stale(add, { host = { owned = false, has_account = true } }), "is another account now")
  t.match(plan.stale(add, { host = { err = "HTTP 503" } }), "could not be read again: HTTP 503")
  local create = { op = "easyio.create_site", args = { "https://www.a.example/" }, read = { site = "missing" } }
  t.eq(plan.stale(create, { site = false }), nil)
  t.match(plan.stale(create, { site = { site_id = 9 } }), "the site exists now %(site 9%)")
  t.match(plan.stale(create, {}), "could not be read again")
  local upd = { op = "easyio.update_site_config", args = { 5, { avif = 1 } }, read = { site_id = 5, config = { avif = 0 } } }
  t.eq(plan.stale(upd, { site = { site_id = "5", config = { avif = "0", webp = 1 } } }), nil, "another field changed: not stale")
  t.match(plan.stale(upd, { site = { site_id = "5", config = { avif = 1 } } }), "avif was 0 when planned and is 1 now")
  t.match(plan.stale(upd, { site = false }), "the site 5 is no longer listed")
  local cname = { op = "easyio.set_cname", args = { 5, "cdn.a.example" }, read = { site_id = 5, alias = "z.exactdn.com", zone = "z" } }
  t.eq(plan.stale(cname, { site = { site_id = 5, alias = "z.exactdn.com" } }), nil)
  t.match(plan.stale(cname, { site = { site_id = 5, alias = "cdn.other.example" } }), "alias was z.exactdn.com")
  local after = { op = "easyio.update_site_config", args = { { known_after = 0, field = "id" }, {} }, read = { site = "created by this plan" } }
  t.eq(plan.stale(after, {}), nil, "an action on a site the plan creates reads nothing")
end)

t.done()
