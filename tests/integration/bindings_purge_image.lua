-- shortpixel.purge_cdn_cache(url [, opts]) against a fixture server: the
-- exact request (the URL as the rest of the path, its extension replaced by
-- `*`), the refusals that send nothing, and the tolerant reading of an
-- answer nobody has seen (SPIO does not read it).
local t = require "t"
local fixture = require "fixture"
local json = require "cdnctl.json"

local fx = fixture.start(nil, { policy = { base = 0.01, cap = 0.05, attempts = 1 } })
local cdnctl, shortpixel = fx.lib, fx.shortpixel
local KEY = "SPKEYfixture000000001"
local SPIO = "https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/client.example/wp-content/uploads/2024/12/"
local PREFIX = "/purge-cdn-cache/" .. KEY .. "/"

local function sent(url, opts)
  fx:queue { status = 200, body = "" }
  local n = fx:count()
  local r, err = shortpixel.purge_cdn_cache(url, opts)
  t.ok(r, "purge_cdn_cache(" .. url .. "): " .. tostring(err))
  t.eq(fx:count(), n + 1, "one request")
  local last = fx:last()
  t.eq(last.method, "GET")
  return last.uri:sub(#PREFIX + 1), r, last
end

t.test("the image's full URL travels as the rest of the path, its extension replaced by *", function()
  local rest, r, last = sent(SPIO .. "photo.jpg")
  t.eq(last.uri:sub(1, #PREFIX), PREFIX)
  t.eq(rest, SPIO .. "photo*", "SPIO's own example")
  t.eq(r.purged, SPIO .. "photo*", "the result says what was sent")
  t.eq(sent("https://client.example/a/photo.min.jpg"), "https://client.example/a/photo.min*", "from the last '.'")
  t.eq(sent("https://client.example/a.b/photo"), "https://client.example/a.b/photo*", "no '.' in the last segment: * appended")
  t.eq(sent("https://client.example/a/photo*"), "https://client.example/a/photo*", "a trailing * is a prefix, sent as it is")
  t.eq(sent("https://client.example/a/"), "https://client.example/a/*", "an empty last segment: * appended")
  t.eq(sent("https://client.example/a/photo.jpg", { exact = true }), "https://client.example/a/photo.jpg", "opts.exact")
  t.eq(sent("HTTPS://Client.Example/A/Photo.JPG"), "https://client.example/A/Photo*", "scheme and host lower-cased, the path kept")
  t.eq(sent("https://cdn.shortpixel.ai/spai/q_lossy+ret_img/https://client.example/x.png"),
    "https://cdn.shortpixel.ai/spai/q_lossy+ret_img/https://client.example/x*", "an inner URL stays as it is")
end)

t.test("a URL with a space, ?, # or %, or not an https URL with a host and a path, is refused: nothing is sent", function()
  local n = fx:count()
  for _, case in ipairs {
    { "https://client.example/a photo.jpg", "a space" }, { "https://client.example/a.jpg?v=2", "'?'" },
    { "https://client.example/a.jpg#x", "'#'" }, { "https://client.example/a%20b.jpg", "'%%'" },
    { "http://client.example/a.jpg", "https" }, { "ftp://client.example/a.jpg", "https" },
    { "client.example/a.jpg", "https" }, { "https:///a.jpg", "host" }, { "https://client.example", "path" },
    { "https://client.example/", "path" }, { "https://client..example/a.jpg", "url" },
    { "https://client.example/fot\195\179.jpg", "non%-ASCII" }, { "https://client.example/a\n.jpg", "control" },
    { "", "empty" }, { "https://client.example/" .. string.rep("a", 4000) .. ".jpg", "bytes long" },
  } do
    local r, err = shortpixel.purge_cdn_cache(case[1])
    t.eq(r, nil, case[1])
    t.eq(err.kind, "invalid", case[1])
    t.match(err.message, case[2], case[1])
    t.match(err.message, "^url: ", "the message names the argument")
  end
  t.eq(fx:count(), n, "nothing was sent")
  t.raises(function() shortpixel.purge_cdn_cache(42) end, "string expected")
  t.raises(function() shortpixel.purge_cdn_cache(SPIO .. "a.jpg", { exact = "yes" }) end, "exact")
end)

t.test("the answer is read tolerantly: a Status read like the other actions, any other 2xx is success, kept in cdnctl.meta", function()
  for _, a in ipairs {
    { body = "", answer = "" }, { body = "OK", answer = "OK" }, { body = "[]" }, { body = "true", answer = true },
    { body = '{"Status": 2, "Message": "Purged"}', status = 2 }, { body = '{"Status": "1"}', status = "1" },
    { body = '{"done": 1}' },
  } do
    fx:queue { status = 200, body = a.body, headers = { ["Content-Type"] = "text/html" } }
    local r, err = shortpixel.purge_cdn_cache(SPIO .. "photo.jpg")
    t.ok(r, a.body .. ": " .. tostring(err))
    t.eq(r.purged, SPIO .. "photo*")
    local m = cdnctl.meta(r)
    t.eq(m.op, "shortpixel.purge_cdn_cache")
    t.eq(m.http_status, 200)
    if a.answer ~= nil then t.eq(m.answer, a.answer, a.body) end
    if a.status then t.eq(m.answer.Status, a.status, a.body) end
    if a.body == "[]" then t.eq(type(m.answer), "table") end
  end
  fx:queue { status = 202, body = "" }
  t.ok(shortpixel.purge_cdn_cache(SPIO .. "photo.jpg"), "any 2xx")
end)

t.test("a Status other than 1 or 2 is a refusal; an HTTP error is a failure; the key never shows", function()
  fx:queue { status = 200, body = '{"Status": -14, "Message": "Domain is not associated with this API key."}' }
  local r, err = shortpixel.purge_cdn_cache(SPIO .. "photo.jpg")
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.code, -14)
  t.eq(err.message, "Domain is not associated with this API key.")
  fx:queue { status = 404, body = "<html>nope " .. KEY .. "</html>", headers = { ["Content-Type"] = "text/html" } }
  r, err = shortpixel.purge_cdn_cache(SPIO .. "photo.jpg")
  t.eq(r, nil)
  t.eq(err.kind, "http")
  t.eq(err.http_status, 404)
  t.ok(not tostring(err):find(KEY, 1, true), "no key in the error: " .. tostring(err))
  t.ok(not json.encode(err):find(KEY, 1, true), "no key in the encoded error")
end)

t.test("the operation costs, asks first (confirm names the URL), and is documented", function()
  local op = cdnctl.ops.by_name["shortpixel.purge_cdn_cache"]
  t.eq(op.destructive, "costly")
  t.match(op.confirm, "{url}")
  local n = 0
  for _, o in ipairs(cdnctl.ops.list) do n = n + 1 end
  t.eq(n, 20, "twenty bindings")
  local costly = 0
  for _, o in ipairs(cdnctl.ops.list) do if o.destructive then costly = costly + 1 end end
  t.eq(costly, 6, "six that destroy or cost")
end)

fx:stop()
t.done()
