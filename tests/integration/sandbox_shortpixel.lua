-- The sandbox's ShortPixel rules, each through the bindings, against the
-- embedded sandbox (`cdnctl --sandbox`): every rule of the API page.
local t = require "t"
local json = require "cdnctl.json"
local sbx = require "sbx"

local AGENCY, OTHER = "spDemoAgency00000001", "spDemoOther000000002"
local admin = sbx.admin
local function raw(path) return sbx.request { path = path } end -- a plain GET, as curl would send it
local function fails(r, err, code, pattern)
  t.eq(r, nil, "the call fails")
  t.eq(err.kind, "api")
  t.eq(err.code, code)
  if pattern then t.match(err.message, pattern) end
end
local function owner(domain)
  return admin("state").shortpixel.domains[domain]
end

t.test("add-domain with a key adds the domain and associates it with the key's user", function()
  t.ok(shortpixel.add_domain("sp1.example.com"))
  t.eq(owner("sp1.example.com").owner, "****0001")
  local d = shortpixel.read_domain("sp1.example.com")
  t.eq(d.HasAccount, true)
  t.eq(d.Email, "agency@example.com")
end)

t.test("adding again with the same key is safe", function()
  local r = t.ok(shortpixel.add_domain("sp1.example.com"))
  t.eq(r.Status, 2)
  t.match(r.Message, "already associated")
end)

t.test("add-domain without a key adds a domain associated with nobody, with 500 free credits", function()
  local r = t.ok(shortpixel.add_domain("free.example.com", { key = false }))
  t.eq(r.Status, 2)
  local d = shortpixel.read_domain("free.example.com")
  t.eq(d.HasAccount, false)
  t.eq(d.FreeCredits, 500)
  t.eq(d.UsedFreeCredits, 0)
  t.eq(owner("free.example.com").owner, nil)
end)

t.test("a domain added without a key is associated by the next call with a key", function()
  t.ok(shortpixel.add_domain("free.example.com", { key = OTHER }))
  t.eq(shortpixel.read_domain("free.example.com").HasAccount, true)
  t.eq(owner("free.example.com").owner, "****0002")
end)

t.test("a domain associated with one user cannot be taken by another key", function()
  local r, err = shortpixel.add_domain("sp1.example.com", { key = OTHER })
  fails(r, err, -11, "associated with another user")
  r, err = shortpixel.set_domain("sp1.example.com", { key = OTHER })
  fails(r, err, -11)
  t.eq(owner("sp1.example.com").owner, "****0001")
end)

t.test("an unknown API key is refused", function()
  local r, err = shortpixel.add_domain("x1.example.com", { key = "spNobody000000009999" })
  fails(r, err, -401, "Invalid API key")
  t.eq(owner("x1.example.com"), nil, "nothing was added")
end)

t.test("set-domain associates an existing unassociated domain and adds nothing", function()
  local r, err = shortpixel.set_domain("never-added.example.com")
  fails(r, err, -10, "not found")
  t.eq(owner("never-added.example.com"), nil)
  t.ok(shortpixel.add_domain("set.example.com", { key = false }))
  t.ok(shortpixel.set_domain("set.example.com"))
  t.eq(owner("set.example.com").owner, "****0001")
end)

t.test("revoke works only with the owner's key", function()
  local r, err = shortpixel.revoke_domain("set.example.com", { key = OTHER })
  fails(r, err, -13, "owner")
  t.eq(owner("set.example.com").owner, "****0001")
  t.ok(shortpixel.revoke_domain("set.example.com"))
  t.eq(owner("set.example.com").owner, nil)
  r, err = shortpixel.revoke_domain("set.example.com")
  fails(r, err, -15, "not associated with any user")
end)

t.test("example.com and www.example.com are separate domains", function()
  t.ok(shortpixel.add_domain("apex.example.net"))
  local d = t.ok(shortpixel.read_domain("www.apex.example.net"))
  t.eq(d.HasAccount, false, "www was never added: Status 2, no account")
  local r, err = shortpixel.purge_cdn_cache_bulk("www.apex.example.net")
  fails(r, err, -10)
  t.ok(shortpixel.add_domain("www.apex.example.net", { key = OTHER }))
  t.eq(owner("apex.example.net").owner, "****0001")
  t.eq(owner("www.apex.example.net").owner, "****0002")
end)

t.test("both purges work only for a domain associated with the key", function()
  t.ok(shortpixel.purge_storage_bulk("apex.example.net"))
  t.ok(shortpixel.purge_cdn_cache_bulk("apex.example.net"))
  local r, err = shortpixel.purge_storage_bulk("www.apex.example.net")
  fails(r, err, -14, "not associated with this API key")
  r, err = shortpixel.purge_cdn_cache_bulk("www.apex.example.net")
  fails(r, err, -14)
  local purges = owner("apex.example.net").purges
  t.eq(purges.storage, 1)
  t.eq(purges.cdn, 1)
end)

t.test("purge with both = true reaches apex and www separately", function()
  t.ok(shortpixel.add_domain("both.example.org"))
  t.ok(shortpixel.add_domain("www.both.example.org"))
  local r = t.ok(shortpixel.purge_cdn_cache_bulk("both.example.org", { both = true }))
  t.eq(r["both.example.org"].Status, 2)
  t.eq(r["www.both.example.org"].Status, 2)
  t.eq(owner("www.both.example.org").purges.cdn, 1)
end)

t.test("both = true with one host refused: nil, err naming it, err.results the other, and err encodes", function()
  t.ok(shortpixel.add_domain("half.example.org"))
  local r, err = shortpixel.purge_storage_bulk("half.example.org", { both = true })
  t.eq(r, nil)
  t.eq(err.host, "www.half.example.org")
  t.eq(err.kind, "api")
  t.eq(err.results["half.example.org"].Status, 2)
  t.match(err.failed["www.half.example.org"], "purge_storage_bulk")
  t.ok(json.encode(err.results), "no cycle")
end)

t.test("both = true with both hosts refused: the operation's name and the suffix once, each host's words", function()
  local r, err = shortpixel.purge_storage_bulk("neither.example.org", { both = true })
  t.eq(r, nil)
  local text = tostring(err)
  local _, names = text:gsub("purge_storage_bulk", "")
  local _, codes = text:gsub("%(API code", "")
  local _, keys = text:gsub("%(key ", "")
  t.eq(names, 1, text)
  t.eq(codes, 1, text)
  t.eq(keys, 1, text)
  t.match(text, "neither%.example%.org: .+; www%.neither%.example%.org: ")
end)

t.test("read-domain's statuses come from credits and reachability", function()
  t.ok(shortpixel.add_domain("status.example.com", { key = OTHER }))
  local function status() return shortpixel.read_domain("status.example.com") end
  t.eq(status().Status, 2)
  t.eq(status().status_name, "ok")
  admin("domain", { domain = "status.example.com", credits_quota = 1000, credits_used = 950 })
  t.eq(status().Status, 1)
  t.eq(status().status_name, "credits almost exhausted")
  admin("domain", { domain = "status.example.com", credits_used = 1000 })
  t.eq(status().Status, -1)
  admin("domain", { domain = "status.example.com", credits_used = 1000, exhausted_days = 20 })
  t.eq(status().Status, -1, "images stay served for up to 30 days after exhaustion: still -1 after 20")
  admin("domain", { domain = "status.example.com", credits_used = 1000, exhausted_days = 31 })
  t.eq(status().Status, -2)
  t.eq(status().status_name, "credits exhausted some time ago")
  admin("domain", { domain = "status.example.com", reachable = false })
  t.eq(status().Status, -3)
  t.eq(status().status_name, "domain not reachable")
  admin("domain", { domain = "status.example.com", reachable = true, credits_used = 0 })
  t.eq(status().Status, 2)
end)

t.test("credits run out through use: the exhausted status ages from -1 to -2", function()
  t.ok(shortpixel.add_domain("aging.example.com", { key = false }))
  admin("domain", { domain = "aging.example.com", credits_used = 499 })
  t.eq(shortpixel.read_domain("aging.example.com").Status, 1)
  admin("cdn/aging.example.com/img/a.jpg")
  t.eq(shortpixel.read_domain("aging.example.com").Status, -1)
  admin("clock", { advance = 31 * 86400 })
  t.eq(shortpixel.read_domain("aging.example.com").Status, -2)
  admin("clock", { advance = -31 * 86400 })
end)

t.test("api-status returns every documented field with the documented types", function()
  local r = t.ok(shortpixel.api_status())
  t.eq(r.Status.Code, "2")
  t.eq(r.Status.Message, "Success")
  for _, f in ipairs { "APICallsMade", "APICallsFree", "APICallsQuotaOneTime", "APICallsMadeOneTime",
                       "DateSubscription", "DomainCheck", "Unlimited", "PlanType" } do
    t.eq(type(r[f]), "string", f .. " is a string")
  end
  for _, f in ipairs { "APICallsMade", "APICallsQuotaOneTime", "APICallsMadeOneTime" } do
    t.match(r[f], "^%d+%.%d%d%d%d%d%d%d%d%d%d%d$", f .. " is a decimal string with 11 decimals")
  end
  t.eq(cdnctl.number(r.APICallsQuotaOneTime), 5000)
  t.eq(math.type(r.CaptionsCallsMade), "integer")
  t.eq(math.type(r.CaptionsCallsQuota), "integer")
  t.ok(r.CaptionsCallsRemaining == nil or r.CaptionsCallsRemaining == cdnctl.null
    or math.type(r.CaptionsCallsRemaining) == "integer", "CaptionsCallsRemaining: a number or null")
  t.eq(math.type(r.APICallsQuota), "integer", "APICallsQuota is a number")
  t.match(r.DateSubscription, "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$")
  t.eq(r.Unlimited, "false")
  local bad, err = shortpixel.api_status({ key = "spNobody000000009999" })
  t.eq(bad, nil)
  t.eq(err.code, -401)
end)

t.test("read-domain-cdn-usage returns every documented field, with daily figures that grow", function()
  t.ok(shortpixel.add_domain("usage.example.com"))
  local r = t.ok(shortpixel.read_domain_cdn_usage("usage.example.com"))
  t.eq(r.Email, "agency@example.com")
  for f, kind in pairs { APIQuota = "integer", APIQuotaOneTime = "string", DaysToReset = "integer",
      IsSubaccount = "integer", IsAlias = "integer", RemainingCDNTraffic = "integer", UsedCDNTraffic = "string",
      FreeAPICalls = "string", PaidAPICalls = "string", PaidAPICallsOneTime = "string", CDNQuota = "integer",
      Unlimited = "string" } do
    t.eq(math.type(r[f]) or type(r[f]), kind, f)
  end
  t.match(r.PaidAPICalls, "^%d+%.%d+$")
  t.eq(next(r.UsedCDN), nil, "no traffic yet")
  local before = tonumber(r.UsedCDNTraffic)
  admin("cdn/usage.example.com/wp-content/uploads/a.jpg")
  admin("cdn/usage.example.com/wp-content/uploads/a.jpg")
  admin("cdn/usage.example.com/wp-content/uploads/b.png")
  r = t.ok(shortpixel.read_domain_cdn_usage("usage.example.com"))
  local day, traf = next(r.UsedCDN)
  t.match(day, "^%d%d%d%d%-%d%d%-%d%d$")
  t.eq(math.type(traf.Traf), "integer")
  t.ok(traf.Traf > 40000, "three fetches counted")
  t.eq(tonumber(r.UsedCDNTraffic), before + traf.Traf)
  local _, cr = next(r.UsedCredits)
  t.eq(cr.Paid + cr.Free, 2, "two distinct images optimised once each")
end)

t.test("cdn usage with a key that does not own the domain: an answer that is not an object ([])", function()
  local r, err = shortpixel.read_domain_cdn_usage("usage.example.com", { key = OTHER })
  fails(r, err, "not_owner", "does not own usage%.example%.com")
  t.match(err.message, "answered %[%]")
  local b = raw("/read-domain-cdn-usage/usage.example.com/" .. OTHER)
  t.same(b, {}, "the raw answer is []")
  r, err = shortpixel.read_domain_cdn_usage("usage.example.com", { key = "spNobody000000009999" })
  fails(r, err, "not_owner")
  r, err = shortpixel.read_domain_cdn_usage("never-added.example.com")
  fails(r, err, "not_owner")
end)

t.test("read-domain answers the fields real clients read, with their types, and nothing invented", function()
  local d = t.ok(shortpixel.read_domain("sp1.example.com"))
  t.eq(math.type(d.Status), "integer")
  t.eq(d.HasAccount, true)
  t.eq(d.Email, "agency@example.com")
  t.eq(math.type(d.FreeCredits), "integer")
  t.eq(math.type(d.UsedFreeCredits), "integer")
  t.eq(d.TemporaryRedirectOrigin, "false")
  t.eq(math.type(d.timestamp), "integer")
  t.ok(math.abs(d.timestamp - os.time()) < 86400 * 365, "timestamp is unix seconds")
  t.eq(type(d.Message), "string")
  for _, f in ipairs { "Associated", "Quota", "RemainingCredits", "UsedCredits", "Domain" } do
    t.eq(d[f], nil, f .. " is not a field of the real service")
  end
end)

t.test("read-domain of a domain never added: Status 2, HasAccount false", function()
  local d = t.ok(shortpixel.read_domain("never-seen.example.com"))
  t.eq(d.Status, 2)
  t.eq(d.status_name, "ok")
  t.eq(d.HasAccount, false)
  t.eq(owner("never-seen.example.com"), nil, "reading adds nothing")
end)

t.test("read-domain/DOMAIN/refresh is accepted; another third segment is not", function()
  local d = t.ok(shortpixel.read_domain("sp1.example.com", { refresh = true }))
  t.eq(d.HasAccount, true)
  local _, st = raw("/read-domain/sp1.example.com/other")
  t.eq(st, 404)
end)

t.test("every ShortPixel path takes GET and POST, with an empty body or a form", function()
  local b, st = sbx.request { method = "POST", path = "/add-domain/post.example.com/" .. AGENCY }
  t.eq(st, 200)
  t.eq(b.Status, 2)
  b, st = sbx.request { method = "POST", path = "/revoke-domain/post.example.com/" .. AGENCY, body = "x=1",
    headers = { "Content-Type: application/x-www-form-urlencoded" } }
  t.eq(st, 200)
  t.eq(b.Status, 2)
  b = sbx.request { method = "POST", path = "/read-domain/post.example.com" }
  t.eq(b.Status, 2)
end)

t.test("purge-cdn-cache-bulk takes a third segment, the CDN host (as SPIO sends it)", function()
  local b, st = raw("/purge-cdn-cache-bulk/" .. AGENCY .. "/sp1.example.com/spcdn.shortpixel.ai")
  t.eq(st, 200)
  t.eq(b.Status, 2)
end)

t.test("api-status reads the key from a form body, the query, or a multipart body", function()
  local b = sbx.request { method = "POST", path = "/v2/api-status.php", body = "key=" .. AGENCY,
    headers = { "Content-Type: application/x-www-form-urlencoded" } }
  t.eq(b.Status.Code, "2")
  local boundary = "------------------------abc123"
  local mp = table.concat({ "--" .. boundary, 'Content-Disposition: form-data; name="key"', "", AGENCY,
    "--" .. boundary, 'Content-Disposition: form-data; name="DomainCheck"', "", "example.com",
    "--" .. boundary .. "--", "" }, "\r\n")
  b = sbx.request { method = "POST", path = "/v2/api-status.php", body = mp,
    headers = { "Content-Type: multipart/form-data; boundary=" .. boundary } }
  t.eq(b.Status.Code, "2")
  b = raw("/v2/api-status.php?key=" .. AGENCY)
  t.eq(b.Status.Code, "2")
  b = sbx.request { method = "POST", path = "/v2/api-status.php", body = "key=spNobody000000009999",
    headers = { "Content-Type: application/x-www-form-urlencoded" } }
  t.eq(b.Status.Code, "-401")
end)

t.test("the documentation's URLs answer the documented shapes (GET, as a browser or curl sends them)", function()
  local b = raw("/add-domain/doc.example.com/" .. AGENCY)
  t.eq(b.Status, 2)
  b = raw("/read-domain/doc.example.com")
  t.eq(b.Status, 2)
  b = raw("/v2/api-status.php?key=" .. AGENCY)
  t.eq(b.Status.Code, "2")
  b = raw("/purge-storage-bulk/" .. AGENCY .. "/doc.example.com")
  t.eq(b.Status, 2)
end)

t.test("malformed paths get a 4xx, never a crash", function()
  local _, st = raw("/read-domain/%zz")
  t.eq(st, 400)
  _, st = raw("/read-domain")
  t.eq(st, 404)
  _, st = raw("/no-such-endpoint/x")
  t.eq(st, 404)
  local b = raw("/read-domain/bad..domain")
  t.eq(b.Status, -12)
end)

t.test("read-domain's CDNQuota and UsedCDN: the owner's quota and traffic this month, or the free pool of a domain nobody owns", function()
  t.ok(shortpixel.add_domain("pool-owned.example.com"))
  t.ok(shortpixel.add_domain("pool-free.example.com", { key = false }))
  local owned = t.ok(shortpixel.read_domain("pool-owned.example.com"))
  local usage = t.ok(shortpixel.read_domain_cdn_usage("pool-owned.example.com"))
  t.eq(owned.CDNQuota, usage.CDNQuota, "the owner's CDN quota")
  t.eq(owned.UsedCDN, tonumber(usage.UsedCDNTraffic), "the owner's traffic this month")
  t.eq(owned.Unlimited, usage.Unlimited)
  local fetched = admin("cdn/pool-owned.example.com/a.jpg")
  t.eq(t.ok(shortpixel.read_domain("pool-owned.example.com")).UsedCDN, owned.UsedCDN + fetched.bytes, "grows with a fetch")
  local free = t.ok(shortpixel.read_domain("pool-free.example.com"))
  t.eq(free.HasAccount, false)
  t.eq(free.CDNQuota, 500 * 5 * 1024 * 1024, "free credits x 5 MiB")
  t.eq(free.UsedCDN, 0)
  t.eq(free.Unlimited, "false")
  local a, b = admin("cdn/pool-free.example.com/a.jpg"), admin("cdn/pool-free.example.com/b.jpg")
  t.eq(t.ok(shortpixel.read_domain("pool-free.example.com")).UsedCDN, a.bytes + b.bytes, "every byte it served")
  local never = t.ok(shortpixel.read_domain("pool-never.example.com"))
  t.eq(never.CDNQuota, free.CDNQuota, "a domain never added: the free pool")
  t.eq(never.UsedCDN, 0)
end)

t.done()
