-- Failures come back as nil, err with the right kind; bad input sends
-- nothing; retries happen only where safe; keys never show in messages.
local t = require "t"
local fixture = require "fixture"
local server = require "cdnctl.server"

local fx = fixture.start(nil, { policy = { base = 0.01, cap = 0.05 } })
local cdnctl, shortpixel, easyio = fx.lib, fx.shortpixel, fx.easyio

local function sent_nothing(f)
  local before = fx:count()
  local r, err = f()
  t.eq(fx:count(), before, "requests sent")
  return r, err
end

-- Bad input: refused with kind "invalid", naming the argument, nothing sent.
local invalid_cases = {
  { "empty domain", function() return shortpixel.read_domain("") end, "domain: is empty" },
  { "domain with a space", function() return shortpixel.add_domain("exa mple.com") end, "domain: contains a space" },
  { "domain with a slash", function() return shortpixel.add_domain("example.com/x") end, "domain: contains '/'" },
  { "domain with ?", function() return shortpixel.add_domain("example.com?x") end, "domain: contains '%?'" },
  { "domain with #", function() return shortpixel.add_domain("example.com#x") end, "domain: contains '#'" },
  { "domain with %", function() return shortpixel.add_domain("exa%41mple.com") end, "domain: contains '%%'" },
  { "domain with @", function() return shortpixel.add_domain("me@example.com") end, "domain: contains '@'" },
  { "domain with a backslash", function() return shortpixel.add_domain("a\\b.com") end, "domain: contains '\\'" },
  { "domain with a control character", function() return shortpixel.add_domain("a\nb.com") end, "control character" },
  { "domain with ..", function() return shortpixel.add_domain("a..com") end, "empty label" },
  { "label over 63", function() return shortpixel.add_domain(("a"):rep(64) .. ".com") end, "longer than 63" },
  { "name over 253", function() return shortpixel.add_domain((("a"):rep(60) .. "."):rep(5) .. "com") end, "longer than 253" },
  { "leading hyphen", function() return shortpixel.add_domain("-a.com") end, "hyphen" },
  { "trailing hyphen", function() return shortpixel.add_domain("a-.com") end, "hyphen" },
  { "key with a slash", function() return shortpixel.add_domain("a.com", { key = "abc/def" }) end, "key %(from opts.key%): contains '/'" },
  { "key with whitespace", function() return easyio.show_keys({ key = "abc def" }) end, "contains a space" },
  { "key with &", function() return easyio.show_keys({ key = "abc&def=1" }) end, "contains '&'" },
  { "site_id zero", function() return easyio.remove_site(0) end, "site_id: must be a positive integer" },
  { "site_id not a number", function() return easyio.remove_site("17abc") end, "site_id: must be a positive integer" },
  { "site_id a fraction", function() return easyio.revert_cname(1.5) end, "site_id: must be a positive integer" },
  { "unknown config field", function() return easyio.update_site_config(17, { webpp = 1 }) end, "unknown field 'webpp'" },
  { "bad flag value", function() return easyio.update_site_config(17, { webp = "maybe" }) end, "config.webp: must be true/false" },
  { "unknown key field", function() return easyio.change_key("abcdef", { labels = "x" }) end, "unknown field 'labels'" },
  { "site_url with a space", function() return easyio.create_site("https://exa mple.com/") end, "site_url: contains a space" },
  { "a label that is NaN", function() return easyio.change_key("abcdef", { label = 0 / 0 }, { replace = true }) end,
    "fields.label: is not a finite number" },
  { "a label that is infinite", function() return easyio.change_key("abcdef", { label = -1 / 0 }, { replace = true }) end,
    "fields.label: is not a finite number" },
}
-- Values that cannot be sent are refused at once, quoting at most a short prefix.
local HUGE = ("a"):rep(100 * 1024 * 1024)
local long_cases = {
  { "a 100 MB domain", function() return shortpixel.add_domain(HUGE .. ".com") end, "domain: is 104857604 bytes long" },
  { "a 100 MB domain with a space at its end", function() return shortpixel.add_domain(HUGE .. " .com") end, "domain: is 104857605 bytes long" },
  { "a long domain with a bad character", function() return shortpixel.add_domain(("b"):rep(200) .. "!x.com") end, "contains '!' in 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...'" },
  { "a 100 MB site URL", function() return easyio.create_site("https://x.com/" .. HUGE) end, "site_url: is 104857614 bytes long" },
  { "a site URL over 2048 characters", function() return easyio.create_site("https://x.com/" .. ("p"):rep(2100)) end, "site_url: is 2114 bytes long, more than 2048" },
  { "asset_domains with a table inside", function() return easyio.update_site_config(17, { asset_domains = { {} } }) end, "config.asset_domains%[1%]: expected a hostname, got table" },
  { "a 100 MB label", function() return easyio.change_key("subkeyAAAAAAAAAAAAAAAA1", { label = HUGE }, { replace = true }) end, "fields.label: is 104857600 bytes long" },
}
for _, c in ipairs(long_cases) do
  t.test("refused before sending, quoting at most a short prefix: " .. c[1], function()
    local r, err = sent_nothing(c[2])
    t.eq(r, nil)
    t.eq(err.kind, "invalid")
    t.match(err.message, c[3])
    t.ok(#tostring(err) < 300, "a short message: " .. #tostring(err) .. " bytes")
  end)
end
HUGE = nil

for _, c in ipairs(invalid_cases) do
  t.test("refused before sending: " .. c[1], function()
    local r, err = sent_nothing(c[2])
    t.eq(r, nil)
    t.eq(err.kind, "invalid")
    t.match(err.message, c[3])
    t.match(tostring(err), "^%a+%.[%w_]+: ")
  end)
end

t.test("programming errors raise, naming the argument", function()
  t.raises(function() shortpixel.read_domain(42) end, "bad argument #1 to 'shortpixel.read_domain' %(domain: string expected, got number%)")
  t.raises(function() shortpixel.read_domain() end, "bad argument #1 to 'shortpixel.read_domain'")
  t.raises(function() shortpixel.add_domain("a.com", { kye = "x" }) end, "unknown option 'kye'")
  t.raises(function() easyio.update_site_config(17, "webp=1") end, "bad argument #2 to 'easyio.update_site_config'")
  t.raises(function() shortpixel.read_domain("a.com", {}, 3) end, "too many arguments")
end)

t.test("a missing key is a clear error before anything is sent", function()
  local keyless = fx:library { keys = {} } -- settings of its own: no key, no environment
  local r, err = sent_nothing(function() return keyless.shortpixel.set_domain("example.com") end)
  t.eq(r, nil)
  t.eq(err.kind, "invalid")
  t.match(err.message, "no ShortPixel API key: %-%-sandbox has no ShortPixel key") -- one source: the fixture's, keyless
end)

-- Answers that mean failure.
t.test("Easy IO's {error = ...} is an api error with the API's message", function()
  fx:queue({ status = 200, body = '{"error": "site URL not provided"}' })
  local r, err = easyio.show_sites()
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.message, "site URL not provided")
  t.eq(err.http_status, 200)
  t.eq(tostring(err), "easyio.show_sites: site URL not provided (key ****0001 from --sandbox)")
end)

t.test("a ShortPixel refusal is an api error with its code", function()
  fx:queue({ status = 200, body = '{"Status": -11, "Message": "Domain is associated with another user"}' })
  local r, err = shortpixel.add_domain("example.com")
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.code, -11)
  t.eq(tostring(err), "shortpixel.add_domain: Domain is associated with another user (API code -11) (key ****0001 from --sandbox)")
end)

t.test("read_domain's negative statuses are answers, not failures", function()
  for _, s in ipairs({ 2, 1, -1, -2, -3 }) do
    fx:queue({ status = 200, body = '{"Status": ' .. s .. '}' })
    local r, err = shortpixel.read_domain("example.com")
    t.ok(r, "status " .. s .. ": " .. tostring(err))
    t.eq(r.status_name, shortpixel.STATUS[s])
  end
end)

t.test("api_status with a bad key is an api error", function()
  fx:queue({ status = 200, body = '{"Status": {"Code": "-401", "Message": "Invalid API key"}}' })
  local r, err = shortpixel.api_status()
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.code, -401)
  t.eq(err.message, "Invalid API key")
end)

t.test("an HTTP error status is an http error", function()
  fx:queue({ status = 404, body = "<html>not found</html>" })
  local r, err = shortpixel.read_domain("example.com")
  t.eq(r, nil)
  t.eq(err.kind, "http")
  t.eq(err.http_status, 404)
  t.eq(tostring(err), "shortpixel.read_domain: HTTP 404 (http)", "the status once")
end)

t.test("a body that is not JSON is a decode error", function()
  fx:queue({ status = 200, body = "<html>oops</html>" })
  local r, err = shortpixel.read_domain("example.com")
  t.eq(r, nil)
  t.eq(err.kind, "decode")
  t.match(err.message, "not JSON")
end)

t.test("integers in answers are Lua integers, exact to 2^53 and beyond", function()
  fx:queue({ status = 200, body = '{"original": 9007199254740993, "savings": 623451789, "quota": 200000000000, "bandwidth": 1.5}' })
  local r = t.ok(easyio.savings("example.exactdn.com"))
  t.eq(math.type(r.original), "integer")
  t.eq(r.original, 9007199254740993)
  t.eq(math.type(r.quota), "integer")
  t.eq(math.type(r.bandwidth), "float")
end)

-- Transport failures and retries.
t.test("a refused connection is a transport error in curl's words", function()
  local srv = assert(server.start { host = "127.0.0.1", port = 0, source = "return {new=function() return function() return {status=200, body='{}'} end end}" })
  local port = srv:port()
  srv:stop()
  local closed = fx:library { urls = { sp = "http://127.0.0.1:" .. port } }
  local r, err = closed.shortpixel.read_domain("example.com", { attempts = 1 })
  t.eq(r, nil)
  t.eq(err.kind, "transport")
  t.match(err.message, "[Cc]onnect")
end)

t.test("a timeout is a transport error after opts.timeout", function()
  fx:queue({ status = 200, body = '{"Status": 2}', delay = 2 })
  local r, err = shortpixel.read_domain("example.com", { timeout = 0.3, attempts = 1 })
  t.eq(r, nil)
  t.eq(err.kind, "transport")
  t.eq(err.code, "timeout") -- it gave up before the answer came: the answer would have been a result
end)

t.test("5xx and 429 are retried, and the result says how many attempts it took", function()
  fx:queue({ status = 503, body = '{"error":"busy"}' }, { status = 429, body = "{}", headers = { ["Retry-After"] = "0" } })
  local before = fx:count()
  local r, err = shortpixel.read_domain("example.com")
  t.ok(r, tostring(err))
  t.eq(fx:count() - before, 3)
  t.eq(cdnctl.meta(r).attempts, 3)
  t.eq(cdnctl.meta(r).retries, 2)
end)

t.test("retries stop after opts.attempts, returning the last error with its attempt count", function()
  fx:queue({ status = 500, body = '{"error":"a"}' }, { status = 500, body = '{"error":"b"}' })
  local before = fx:count()
  local r, err = shortpixel.read_domain("example.com", { attempts = 2 })
  t.eq(r, nil)
  t.eq(fx:count() - before, 2)
  t.eq(err.http_status, 500)
  t.eq(err.message, "HTTP 500; the answer says: b")
  t.eq(err.attempts, 2)
end)

t.test("api errors (4xx, refusals) are not retried", function()
  fx:queue({ status = 200, body = '{"Status": -13, "Message": "no"}' })
  local before = fx:count()
  shortpixel.purge_storage_bulk("example.com")
  t.eq(fx:count() - before, 1)
end)

t.test("create_site after a lost answer looks the site up instead of creating it twice", function()
  fx:queue({ status = 200, body = '{"live_sites":0,"sites":[]}' }, { drop = true },
    { status = 200, body = '{"live_sites":1,"sites":[{"site_id":"42","site_url":"https://www.example.com/","alias":"abc.exactdn.com","live":"1"}]}' })
  local before = fx:count()
  local r, err = easyio.create_site("https://www.example.com/")
  t.ok(r, tostring(err))
  local log = fx:log()
  t.eq(#log - before, 3, "show, create, then show; no second create")
  t.eq(log[#log].uri, "/exactdn/show.php")
  t.eq(r.id, 42)
  t.eq(r.alias, "abc.exactdn.com")
  t.eq(cdnctl.meta(r).reconciled, true)
end)

t.test("create_site after a lost answer retries when the site was not created", function()
  fx:queue({ status = 200, body = '{"live_sites":0,"sites":[]}' }, { drop = true }, { status = 200, body = '{"live_sites":0,"sites":[]}' },
    { status = 200, body = '{"id": 43, "site_url": "https://b.example.com/", "dev": 0, "alias": "x.exactdn.com", "status": "success"}' })
  local before = fx:count()
  local r, err = easyio.create_site("https://b.example.com/")
  t.ok(r, tostring(err))
  t.eq(fx:count() - before, 4, "show, create (lost), show (not there: duplicate site url guards a resend), create")
  t.eq(r.id, 43)
end)

t.test("create_key compares show_keys before and after a lost answer", function()
  fx:queue({ status = 200, body = '{"keys": ["k1"]}' }, { drop = true }, { status = 200, body = '{"keys": ["k1", "k2new"]}' })
  local before = fx:count()
  local r, err = easyio.create_key()
  t.ok(r, tostring(err))
  t.eq(fx:count() - before, 3, "show, create, show; no second create")
  t.eq(r.sub_key, "k2new")
end)

-- Keys in messages.
t.test("a key echoed by the server never reaches the error message", function()
  local key = "LEAKYKEYabcdef0123456789"
  fx:queue({ status = 200, body = '{"error": "API key ' .. key .. ' not found"}' })
  local r, err = easyio.show_keys({ key = key })
  t.eq(r, nil)
  t.nomatch(err.message, key)
  t.nomatch(tostring(err), key)
  t.match(err.message, "%*%*%*%*6789")
end)

fx:stop()
t.done()
