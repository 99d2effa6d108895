-- The HAR recorder (cdnctl.har) without a network, and what --compare
-- calls a success (cdnctl.sandbox.compare).
local t = require "t"
local har = require "cdnctl.har"
local json = require "cdnctl.json"
local compare = require "cdnctl.sandbox.compare"

t.test("base64 encodes as RFC 4648's vectors say", function()
  for plain, enc in pairs({ [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", foobar = "Zm9vYmFy" }) do
    t.eq(har.base64(plain), enc, plain)
    t.eq(har.unbase64(enc), plain, enc)
  end
end)

t.test("base64 round-trips every byte value", function()
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  local s = table.concat(all)
  t.eq(har.unbase64(har.base64(s)), s)
end)

t.test("content_text decodes base64 content and passes text through", function()
  t.eq(har.content_text({ text = "Zm9v", encoding = "base64" }), "foo")
  t.eq(har.content_text({ text = "{}" }), "{}")
  t.eq(har.content_text({ size = 0 }), nil)
end)

t.test("a success is 2xx with no error member and no negative Status", function()
  local cases = {
    { 200, { Status = 2 }, true }, { 200, { Status = -10 }, false }, { 200, { Status = "-3" }, false },
    { 200, { error = "site not found" }, false }, { 200, { error = json.null }, true },
    { 404, {}, false }, { 200, { Status = { Code = "-401" } }, false }, { 200, { Status = { Code = "2" } }, true },
    { 200, nil, true }, { 503, nil, false },
  }
  for i, c in ipairs(cases) do t.eq(compare.success(c[1], c[2]), c[3], "case " .. i) end
end)

local function read_har(path)
  local f = assert(io.open(path, "rb"))
  local h = json.decode(f:read("a"))
  f:close()
  return h
end

t.test("the recorder masks the call's key, key fields and sub-keys it learns, and is a HAR after each entry", function()
  local path = os.tmpname()
  local rec = assert(har.open(path))
  local key = "Unit0Test0Key0000042"
  local sub = "subkeyabcdefghijklmnopqrstuvwxyz"
  local timings = { namelookup = 10, connect = 20, appconnect = 0, pretransfer = 30, starttransfer = 80, total = 100 }
  har.record(rec, { method = "GET", url = "https://sp.invalid/add-domain/example.com/" .. key .. "?key=" .. key,
               headers = { "Accept: application/json" }, secret = key },
             { status = 200, body = '{"Status":2}', headers = { ["content-type"] = "application/json" },
               started_at = 1700000000.25, timings = timings, http_version = "HTTP/1.1" })
  local h = read_har(path)
  t.eq(#h.log.entries, 1)
  t.eq(h.log.entries[1].request.url, "https://sp.invalid/add-domain/example.com/****0042?key=****0042")
  t.eq(h.log.entries[1].startedDateTime, "2023-11-14T22:13:20.250Z")
  t.eq(h.log.entries[1].timings.wait, 0.05)
  t.eq(h.log.entries[1].time, 0.1)
  har.record(rec, { method = "POST", url = "https://ez.invalid/api_key/create.php", body = "api_key=other0account0key",
               headers = { "Content-Type: application/x-www-form-urlencoded" } },
             { status = 200, body = '{"success":1,"sub_key":"' .. sub .. '"}', headers = {} })
  har.record(rec, { method = "POST", url = "https://ez.invalid/exactdn/show.php", body = "api_key=x",
               headers = {} }, { status = 200, body = '{"owner":"' .. sub .. '","bin":"\255"}', headers = {} })
  har.record(rec, { method = "GET", url = "https://sp.invalid/read-domain/x.com" }, nil,
             { kind = "transport", message = "Connection refused", started_at = 1700000000 })
  har.close(rec)
  local text = assert(io.open(path, "rb")):read("a")
  os.remove(path)
  t.eq(text:find(sub, 1, true), nil, "the sub-key")
  t.eq(text:find("other0account0key", 1, true), nil, "the api_key field")
  h = json.decode(text)
  local e = h.log.entries
  t.eq(#e, 4)
  t.eq(e[2].request.postData.text, "api_key=****0key")
  t.eq(e[2].request.postData.params[1].value, "****0key")
  t.eq(e[2].response.content.text, '{"success":1,"sub_key":"****wxyz"}')
  t.eq(e[3].response.content.encoding, "base64")
  t.eq(har.content_text(e[3].response.content), '{"owner":"****wxyz","bin":"\255"}')
  t.eq(e[4].response.status, 0)
  t.eq(e[4].response._error, "Connection refused")
end)

t.done()
