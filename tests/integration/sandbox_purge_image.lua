-- The sandbox's purge-cdn-cache/KEY/REST (one image, as SPIO sends it):
-- through the binding and raw, GET and POST; the client's host found in
-- spio, spai and other URLs; the owner's key only; a count per host in
-- /_sandbox/state; the next /_sandbox/cdn/ fetch of a purged image counts
-- as a first fetch.
local t = require "t"
local sbx = require "sbx"

local AGENCY, OTHER = "spDemoAgency00000001", "spDemoOther000000002"
local admin = sbx.admin
local SPIO = "https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/img.example.com/"
local SPAI = "https://cdn.shortpixel.ai/spai/q_lossy+ret_img+to_webp/https://img.example.com/"
local function fetch(path) return admin("cdn/img.example.com/" .. path) end
local function purges(host)
  local d = admin("state").shortpixel.domains[host]
  return d and d.purges and d.purges.image
end

t.ok(shortpixel.add_domain("img.example.com"))

t.test("a purged image's next CDN fetch counts as a first fetch; other images stay cached", function()
  t.eq(fetch("wp-content/uploads/2024/12/photo.jpg").credit, true, "first fetch")
  t.eq(fetch("wp-content/uploads/2024/12/photo.jpg").credit, false, "cached")
  t.eq(fetch("wp-content/uploads/2024/12/photo.webp").credit, true)
  t.eq(fetch("wp-content/uploads/2024/12/other.jpg").credit, true)
  local r, err = shortpixel.purge_cdn_cache(SPIO .. "wp-content/uploads/2024/12/photo.jpg")
  t.ok(r, tostring(err))
  t.eq(cdnctl.meta(r).answer.Status, 2)
  t.eq(fetch("wp-content/uploads/2024/12/photo.jpg").credit, true, "purged: a first fetch again")
  t.eq(fetch("wp-content/uploads/2024/12/photo.webp").credit, true, "its variants too (the prefix photo*)")
  t.eq(fetch("wp-content/uploads/2024/12/other.jpg").credit, false, "another image stays cached")
  t.eq(purges("img.example.com"), 1)
end)

t.test("the client's host: spai's inner URL, any other URL's own host; exact purges one path", function()
  fetch("a/one.png"); fetch("a/two.png")
  t.ok(shortpixel.purge_cdn_cache(SPAI .. "a/one.png"))
  t.eq(fetch("a/one.png").credit, true)
  t.eq(fetch("a/two.png").credit, false)
  t.ok(shortpixel.purge_cdn_cache("https://img.example.com/a/two.png", { exact = true }))
  t.eq(fetch("a/two.png").credit, true)
  t.eq(purges("img.example.com"), 3, "a count per host")
end)

t.test("a count, not a list: state does not grow with every purge", function()
  local before = #require("cdnctl.json").encode(admin("state"))
  for i = 1, 5 do t.ok(shortpixel.purge_cdn_cache(SPIO .. "x/" .. i .. ".jpg")) end
  t.eq(purges("img.example.com"), 8)
  local after = #require("cdnctl.json").encode(admin("state"))
  t.ok(after - before < 8, "state grew by " .. (after - before) .. " bytes")
end)

t.test("the owner's key only, as the bulk purge: another user's, an unknown domain, a bad key", function()
  t.ok(shortpixel.add_domain("theirs.example.com", { key = OTHER }))
  local r, err = shortpixel.purge_cdn_cache("https://theirs.example.com/a.jpg")
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.code, -14)
  r, err = shortpixel.purge_cdn_cache("https://cdn.shortpixel.ai/spio/q/never.example.com/a.jpg")
  t.eq(err.code, -10)
  r, err = shortpixel.purge_cdn_cache(SPIO .. "a.jpg", { key = "spNobody000000009999" })
  t.eq(err.code, -401)
  t.eq(purges("theirs.example.com"), nil, "a refusal counts nothing")
end)

t.test("GET and POST, the rest of the path as sent; a path without a URL is a 404", function()
  local b, st = sbx.request { method = "POST", path = "/purge-cdn-cache/" .. AGENCY .. "/" .. SPIO .. "p/q.jpg*" }
  t.eq(st, 200)
  t.eq(b.Status, 2)
  b, st = sbx.request { path = "/purge-cdn-cache/" .. AGENCY .. "/https://img.example.com/p/r*" }
  t.eq(b.Status, 2)
  b, st = sbx.request { path = "/purge-cdn-cache/" .. AGENCY }
  t.eq(st, 404)
  b = sbx.request { path = "/purge-cdn-cache/" .. AGENCY .. "/not-a-url" }
  t.eq(b.Status, -12, "no https URL: no client host to find")
end)

t.done()
