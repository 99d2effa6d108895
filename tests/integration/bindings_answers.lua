-- The bindings read the answers the real services give (../shared/api-evidence.md):
-- Status as an integer, a decimal string or a {Code, Message} object; answers
-- that are not JSON objects; decimal-string counters; PHP lists written as
-- objects; the request forms the official clients use; duplicate sites.
local t = require "t"
local fixture = require "fixture"
local json = require "cdnctl.json"

local fx = fixture.start(nil, { policy = { base = 0.01, cap = 0.05 } })
local cdnctl, shortpixel, easyio = fx.lib, fx.shortpixel, fx.easyio

local function answer(body, status, ctype)
  return { status = status or 200, body = type(body) == "string" and body or json.encode(body),
           headers = { ["Content-Type"] = ctype or "application/json" } }
end

-- ShortPixel's Status ----------------------------------------------------------

t.test("add_domain: Status 2 as an integer, a decimal string or a {Code, Message} object is success", function()
  for _, st in ipairs { 2, "2", { Code = "2", Message = "Success" }, 1, "1" } do
    fx:queue(answer { Status = st, Message = "Domain added" })
    local r, err = shortpixel.add_domain("example.com")
    t.ok(r, "Status " .. json.encode(st) .. ": " .. tostring(err))
  end
end)

t.test("add_domain: statuses other than 1 and 2 are refusals", function()
  for _, st in ipairs { 3, 0, -1, "-11", { Code = "-401", Message = "Invalid API key" } } do
    fx:queue(answer { Status = st, Message = "No" })
    local r, err = shortpixel.add_domain("example.com")
    t.eq(r, nil, "Status " .. json.encode(st))
    t.eq(err.kind, "api")
  end
end)

t.test("Status '0x2' is not success: numbers in answers are read as decimal", function()
  fx:queue(answer { Status = "0x2", Message = "odd" })
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.match(err.message, "Status")
end)

t.test("read_domain: status 0 is an answer (credits near limit)", function()
  fx:queue(answer { Status = 0, HasAccount = true, Email = "a@example.com" })
  local r, err = shortpixel.read_domain("example.com")
  t.ok(r, tostring(err))
  t.eq(r.Status, 0)
  t.eq(r.status_name, "credits near limit")
end)

t.test("read_domain: an unknown status is an answer named 'unknown (N)', not a failure", function()
  fx:queue(answer { Status = 7, HasAccount = false })
  local r, err = shortpixel.read_domain("example.com")
  t.ok(r, tostring(err))
  t.eq(r.status_name, "unknown (7)")
end)

t.test("read_domain: Status as a decimal string is read, and left as sent", function()
  fx:queue(answer { Status = "-1", HasAccount = true })
  local r = assert(shortpixel.read_domain("example.com"))
  t.eq(r.status_name, "credits exhausted")
  t.eq(r.Status, "-1")
end)

t.test("read_domain {refresh = true} asks /read-domain/DOMAIN/refresh", function()
  fx:queue(answer { Status = 2, HasAccount = false })
  assert(shortpixel.read_domain("example.com", { refresh = true }))
  t.eq(fx:last().uri, "/read-domain/example.com/refresh")
  assert(shortpixel.read_domain("example.com"))
  t.eq(fx:last().uri, "/read-domain/example.com")
end)

-- Answers that are not JSON objects -------------------------------------------

t.test("read_domain_cdn_usage: [], false, null or an empty body mean the key does not own the domain", function()
  for _, body in ipairs { "[]", "false", "null", "" } do
    fx:queue(answer(body))
    local r, err = shortpixel.read_domain_cdn_usage("example.com")
    t.eq(r, nil, "answer " .. body)
    t.eq(err.kind, "api")
    t.eq(err.code, "not_owner")
    t.match(err.message, "does not own example%.com")
    t.match(err.message, body == "" and "an empty body" or body:gsub("%[", "%%["))
  end
end)

t.test("add_domain: an answer that is not an object is a failure that says what came back", function()
  fx:queue(answer "[]")
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.eq(err.kind, "decode")
  t.match(err.message, "%[%]")
  t.match(err.message, "where a JSON object was expected")
end)

t.test("an HTML page says so: content type, status and its first bytes", function()
  fx:queue(answer("<!DOCTYPE html><html><title>502 Bad Gateway</title></html>", 200, "text/html; charset=UTF-8"))
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.eq(err.kind, "decode")
  t.match(err.message, "text/html")
  t.match(err.message, "<!DOCTYPE html>")
  t.nomatch(err.message, "character")
end)

t.test("an empty body where an object is expected says 'an empty body'", function()
  fx:queue(answer("", 200, "text/plain"))
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.match(err.message, "an empty body")
end)

t.test("a 204 with no body says so, with its status", function()
  fx:queue(answer("", 204, "text/plain"))
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.match(err.message, "an empty body %(HTTP 204%)")
end)

-- Counters as decimal strings ---------------------------------------------------

t.test("api_status: counters sent as decimal strings stay exactly as sent", function()
  fx:queue(answer('{"Status":{"Code":"2","Message":"Success"},"APICallsMade":"289806.00000000000",'
    .. '"APICallsQuota":580000,"APICallsQuotaOneTime":"15913634.00000000000","CaptionsCallsRemaining":null}'))
  local r, err = shortpixel.api_status()
  t.ok(r, tostring(err))
  t.eq(r.APICallsMade, "289806.00000000000")
  t.eq(r.APICallsQuota, 580000)
  t.eq(math.type(r.APICallsQuota), "integer")
  t.eq(cdnctl.number(r.APICallsMade), 289806)
  t.eq(math.type(cdnctl.number(r.APICallsMade)), "integer")
end)

t.test("api_status sends the key in a POST form body, never in the URL", function()
  fx:queue(answer { Status = { Code = "2", Message = "Success" } })
  assert(shortpixel.api_status())
  local req = fx:last()
  t.eq(req.method, "POST")
  t.eq(req.uri, "/v2/api-status.php")
  t.eq(req.body, "key=SPKEYfixture000000001")
  t.match(req.headers["content-type"], "application/x%-www%-form%-urlencoded")
end)

-- PHP lists written as objects --------------------------------------------------

t.test("show_sites: sites written as an object {\"0\": ...} become a Lua sequence", function()
  fx:queue(answer('{"live_sites":2,"sites":{"0":{"site_id":"16","site_url":"https://a.com/"},'
    .. '"1":{"site_id":"17","site_url":"https://b.com/"}}}'))
  local r = assert(easyio.show_sites())
  t.eq(#r.sites, 2)
  local urls = {}
  for _, s in ipairs(r.sites) do urls[#urls + 1] = s.site_url end
  t.eq(table.concat(urls, " "), "https://a.com/ https://b.com/")
end)

t.test("show_keys: keys written as an object become a Lua sequence", function()
  fx:queue(answer('{"keys":{"0":"subkeyAAAAAAAAAAAAAAAA1","1":"subkeyBBBBBBBBBBBBBBBB2"},"limits":{}}'))
  local r = assert(easyio.show_keys())
  t.eq(#r.keys, 2)
  t.eq(r.keys[2], "subkeyBBBBBBBBBBBBBBBB2")
end)

-- Duplicate sites --------------------------------------------------------------

t.test("create_site of a registered URL fails with code 'duplicate' and the existing site", function()
  fx:queue(answer { sites = {} },                                -- the read before: not there
    answer { error = "duplicate site url" },                     -- registered meanwhile
    answer('{"sites":{"0":{"site_id":"17","site_url":"https://www.shop.com/","alias":"eabcdefghij.exactdn.com"}}}'))
  local r, err = easyio.create_site("https://WWW.Shop.com")
  t.eq(r, nil)
  t.eq(err.code, "duplicate")
  t.eq(err.kind, "api")
  t.ok(err.site, "err.site")
  t.eq(err.site.site_id, "17")
  t.match(err.message, "already registered as site 17")
  t.match(err.message, "eabcdefghij%.exactdn%.com")
end)

t.test("create_site duplicate on another account: err.site is nil and the message says so", function()
  fx:queue(answer { sites = {} }, answer { error = "duplicate site url" }, answer { sites = {} })
  local r, err = easyio.create_site("https://www.shop.com/")
  t.eq(r, nil)
  t.eq(err.code, "duplicate")
  t.eq(err.site, nil)
  t.match(err.message, "not on this account")
end)

t.test("create_site: a retry after a lost answer that meets 'duplicate site url' returns the site", function()
  fx:queue(answer { sites = {} },                                -- the read before: not there
    { drop = true },                                             -- the create took effect, its answer is lost
    answer { sites = {} },                                       -- the check does not see it yet
    answer { error = "duplicate site url" },                     -- the retry meets it
    answer('{"sites":[{"site_id":"21","site_url":"https://new.com/","alias":"eqwertyuiop.exactdn.com","live":"1"}]}'))
  local r, err = easyio.create_site("https://new.com")
  t.ok(r, tostring(err))
  t.eq(r.id, 21)
  t.eq(r.alias, "eqwertyuiop.exactdn.com")
  t.eq(cdnctl.meta(r).reconciled, true)
end)

t.test("create_site's check after a lost answer reads PHP object-lists and the site URL rule", function()
  fx:queue(answer { sites = {} }, { drop = true },
    answer('{"sites":{"0":{"site_id":"22","site_url":"https://found.com/","alias":"ezxcvbnmasd.exactdn.com","live":"1"}}}'))
  local r, err = easyio.create_site("https://FOUND.com")
  t.ok(r, tostring(err))
  t.eq(r.id, 22)
  t.eq(fx:count() > 0, true)
end)

t.test("create_site of a URL the read before lists: a duplicate naming the site, and no create sent", function()
  fx:queue(answer('{"sites":[{"site_id":"23","site_url":"https://had.com/","alias":"ehadhadhadh.exactdn.com","live":"1"}]}'))
  local before = fx:count()
  local r, err = easyio.create_site("https://had.com")
  t.eq(r, nil, "it existed before this call: never reported as created")
  t.eq(err.code, "duplicate")
  t.eq(err.message, "https://had.com/ is already registered as site 23 (ehadhadhadh.exactdn.com)")
  t.eq(err.site.site_id, "23")
  t.eq(fx:count() - before, 1, "one read, no create")
  t.eq(fx:last().uri, "/exactdn/show.php")
end)

fx:stop()
t.done()
