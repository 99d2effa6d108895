-- request.of(settings, op, ...) decides a call's key, URL and request: for
-- every operation of the table, the request it makes is the one a fixture
-- server receives when the binding is called with the same arguments
-- (method, path and query, body, content type), and its key and base URL
-- are named with their sources. Its refusals are the binding's, word for
-- word, and it sends nothing.
local t = require "t"
local fixture = require "fixture"
local request = require "cdnctl.request"
local ops = require "cdnctl.ops"

local fx = fixture.start()
local s = fx.lib.settings

-- The arguments of one call of each operation, and the answer the fixture
-- gives first when the call reads before it sends (the read before lists
-- what the call needs).
local SITE18 = '{"sites": [{"site_id": "18", "site_url": "https://x.com/"}]}'
local ARGS = {
  ["shortpixel.add_domain"] = { "Example.com" },
  ["shortpixel.read_domain"] = { "example.com", { refresh = true } },
  ["shortpixel.set_domain"] = { "example.com" },
  ["shortpixel.revoke_domain"] = { "example.com" },
  ["shortpixel.api_status"] = {},
  ["shortpixel.read_domain_cdn_usage"] = { "example.com" },
  ["shortpixel.purge_storage_bulk"] = { "example.com" },
  ["shortpixel.purge_cdn_cache_bulk"] = { "example.com" },
  ["shortpixel.purge_cdn_cache"] = { "https://img.example.com/a,b/photo.jpg" },
  ["easyio.show_sites"] = { "https://www.example.com" },
  ["easyio.create_site"] = { "https://www.example.com" },
  ["easyio.update_site_config"] = { 17, { webp = true, avif = false, asset_domains = "a.example.net" } },
  ["easyio.set_cname"] = { 16, "cdn.example.net" },
  ["easyio.revert_cname"] = { 16 },
  ["easyio.remove_site"] = { "18", reads = SITE18 },
  ["easyio.savings"] = { "example.exactdn.com" },
  ["easyio.show_keys"] = {},
  ["easyio.create_key"] = { { attempts = 1 } },
  ["easyio.remove_key"] = { "sub-key-000000000001" },
  ["easyio.change_key"] = { "sub-key-000000000001", { label = "l", allowed = 5, site_limit = 1 }, { replace = true } },
}

t.test("the table and the cases agree: one case per operation", function()
  for _, op in ipairs(ops.list) do t.ok(ARGS[op.full], "a case for " .. op.full) end
end)

local function ctype(headers)
  for _, h in ipairs(headers) do
    local v = h:match("^Content%-Type: (.*)$")
    if v then return v end
  end
  return nil
end

for _, op in ipairs(ops.list) do
  local args = ARGS[op.full] or {}
  t.test(op.full .. ": request.of makes the request the fixture receives", function()
    local r, err = request.of(s, op, table.unpack(args))
    t.ok(r, tostring(err))
    t.eq(r.op, op)
    t.eq(r.req.method, op.method)
    if op.key_in ~= "none" then
      t.eq(r.key, fx.keys[op.service])
      t.eq(r.key_source, "--sandbox")
    end
    t.eq(r.base_source, "--sandbox")
    t.eq(r.req.url:sub(1, #fx.url), fx.url, "the base URL starts the URL")
    t.eq(r.reads_first and r.reads_first.name, op.reads_first and not (op.reads_first.unless
      and (args[3] or {})[op.reads_first.unless]) and op.reads_first.name or nil, "the read it depends on")
    if args.reads then fx:queue({ status = 200, body = args.reads }) end
    local before = fx:count()
    local res, cerr = fx.lib[op.service][op.name](table.unpack(args))
    t.ok(res, tostring(cerr))
    local got = fx:last()
    t.ok(fx:count() > before, "the binding sent")
    t.eq(got.method, r.req.method)
    t.eq(fx.url .. got.uri, r.req.url)
    t.eq(got.body or "", r.req.body or "")
    t.eq(got.headers["content-type"], ctype(r.req.headers))
  end)
end

t.test("request.of refuses as the binding does, in the same words, and sends nothing", function()
  local op = ops.by_name["easyio.remove_site"]
  local before = fx:count()
  local r, err = request.of(s, op, "0")
  t.eq(r, nil)
  local _, berr = fx.easyio.remove_site("0")
  t.eq(tostring(err), tostring(berr))
  t.eq(err.kind, "invalid")
  t.eq(fx:count(), before, "nothing sent")
end)

t.test("request.of with opts.key: that key, from opts.key, the URLs of the source", function()
  local r = assert(request.of(s, ops.by_name["shortpixel.set_domain"], "a.com", { key = "OTHERkey0000000000001" }))
  t.eq(r.key, "OTHERkey0000000000001")
  t.eq(r.key_source, "opts.key")
  t.eq(r.req.url, fx.url .. "/set-domain/a.com/OTHERkey0000000000001")
  t.eq(r.base, fx.url)
end)

t.test("request.of with opts.both: one request per host, apex first", function()
  local r = assert(request.of(s, ops.by_name["shortpixel.purge_storage_bulk"], "www.a.com", { both = true }))
  t.eq(#r.split, 2)
  t.eq(r.split[1].req.url, fx.url .. "/purge-storage-bulk/" .. fx.keys.shortpixel .. "/a.com")
  t.eq(r.split[2].req.url, fx.url .. "/purge-storage-bulk/" .. fx.keys.shortpixel .. "/www.a.com")
end)

t.test("a key over plain http to another host: refused by request.of, naming the host", function()
  local lib = fx:library { urls = { sp = "http://example.com" } }
  local r, err = request.of(lib.settings, ops.by_name["shortpixel.add_domain"], "a.com")
  t.eq(r, nil)
  t.match(tostring(err), "refusing to send an API key over plain http to example.com")
end)

t.test("the source's key is checked once as it is resolved; opts.key at every call, refused in the same words", function()
  local op = ops.by_name["shortpixel.add_domain"]
  for _ = 1, 2 do
    t.ok(request.of(s, op, "a.com"))
    local r, err = request.of(s, op, "a.com", { key = "bad/key" })
    t.eq(r, nil)
    t.eq(err.message, "key (from opts.key): contains '/', which an API key cannot contain")
  end
  local lib = fx:library { keys = { shortpixel = "bad key" } }
  for _ = 1, 2 do
    local r, err = request.of(lib.settings, op, "a.com")
    t.eq(r, nil)
    t.eq(err.message, "key (from --sandbox): contains a space, which an API key cannot contain")
  end
end)

fx:stop()
t.done()
