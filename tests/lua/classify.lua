-- How an answer is read (answer.classify): success, failure, whether a retry
-- is allowed and whether the request may have taken effect, from the status,
-- the headers and the body alone, as plain function calls (no HTTP).
local t = require "t"
local ops = require "cdnctl.ops"
local answer = require "cdnctl.answer"

local function resp(status, body, headers) return { status = status, body = body, headers = headers or {} } end
local function classify(name, r, values, terr)
  local op = ops.by_name[name]
  return answer.classify(op, values or {}, { url = "https://example.invalid/x" }, r, terr, nil)
end

t.test("a 2xx JSON object the operation accepts is the result", function()
  local r, err = classify("easyio.remove_site", resp(200, '{"success": true}'))
  t.same(r, { success = true })
  t.eq(err, nil)
end)

t.test("read_domain's Status gets its name; a bare integer answer is a Status", function()
  t.same(classify("shortpixel.read_domain", resp(200, '{"Status": -3}')), { Status = -3, status_name = "domain not reachable" })
  t.same(classify("shortpixel.read_domain", resp(200, '2')), { Status = 2, status_name = "ok" })
end)

-- {status, retryable, maybe done}: a 4xx (429 included) is the server
-- refusing, so not done; a 5xx (503 included) or any other status proves nothing
local HTTP = {
  { 400, false, false }, { 401, false, false }, { 404, false, false }, { 429, true, false },
  { 500, true, true }, { 502, true, true }, { 503, true, true }, { 504, true, true }, { 999, false, true },
  { 302, false, true },
}
for _, c in ipairs(HTTP) do
  t.test(("HTTP %d: a failure of kind http, retryable %s, maybe done %s"):format(c[1], c[2], c[3]), function()
    local r, err, retryable, ambiguous = classify("easyio.remove_site", resp(c[1], '{"error": "no"}', { ["retry-after"] = "7" }))
    t.eq(r, nil)
    t.eq(err.kind, "http")
    t.eq(err.http_status, c[1])
    t.eq(err.message, "HTTP " .. c[1] .. "; the answer says: no")
    t.eq(err.retry_after, "7")
    t.eq(retryable, c[2])
    t.eq(ambiguous, c[3])
  end)
end

t.test("an HTTP failure without a message in its body is named by its status", function()
  local _, err = classify("easyio.remove_site", resp(502, "<html>bad gateway</html>"))
  t.eq(err.message, "HTTP 502")
end)

t.test("an HTTP failure says its status first, then what the body said, and once", function()
  local _, err = classify("shortpixel.add_domain", resp(999, '{"Status": 2, "Message": "ok"}'))
  t.eq(tostring(err), "shortpixel.add_domain: HTTP 999; the answer says: ok (http)")
end)

t.test("a 2xx that is not the JSON object a create expects may have done the work", function()
  local _, err, retryable, maybe = classify("easyio.create_key", resp(200, "<br>Notice: x<br>{\"success\":1}"))
  t.eq(err.kind, "decode")
  t.eq(retryable, false)
  t.eq(maybe, true)
  local _, e2, _, m2 = classify("easyio.create_site", resp(200, "[]"))
  t.eq(e2.kind, "decode")
  t.eq(m2, true)
  local _, _, _, m3 = classify("easyio.create_site", resp(200, '{"error": "duplicate site url"}'))
  t.eq(m3, false, "a refusal in the service's words proves it was not done")
end)

t.test("a 2xx answer the reader refuses is kind api, never retried; a known refusal gets its code", function()
  local r, err, retryable = classify("easyio.create_site", resp(200, '{"error": "Duplicate site URL"}'))
  t.eq(r, nil)
  t.eq(err.kind, "api")
  t.eq(err.code, "duplicate")
  t.eq(retryable, false)
  local _, e2 = classify("shortpixel.add_domain", resp(200, '{"Status": -401, "Message": "Invalid API key"}'))
  t.eq(e2.kind, "api")
  t.eq(e2.code, -401)
  t.eq(e2.message, "Invalid API key")
end)

t.test("a 2xx answer that is no JSON is kind decode and says what came back", function()
  local _, err, retryable = classify("easyio.remove_site", resp(200, "<!DOCTYPE html><p>maintenance</p>", { ["content-type"] = "text/html" }))
  t.eq(err.kind, "decode")
  t.match(err.message, "^the answer is not JSON %(.*%): an HTML page %(text/html, HTTP 200%) starting '<!DOCTYPE html>")
  t.eq(retryable, false)
end)

t.test("JSON that is not an object is kind decode, unless the operation gives it a meaning", function()
  local _, err = classify("easyio.remove_site", resp(200, "[]"))
  t.eq(err.kind, "decode")
  t.eq(err.message, "the service answered [] where a JSON object was expected")
  local _, e2 = classify("shortpixel.read_domain_cdn_usage", resp(200, ""), { domain = "a.com" })
  t.eq(e2.kind, "api")
  t.eq(e2.code, "not_owner")
  t.eq(e2.message, "this key does not own a.com (or the key is not valid) (the service answered an empty body (HTTP 200), not a JSON object)")
end)

t.test("a list sent as a PHP object is read as a list", function()
  local r = classify("easyio.show_sites", resp(200, '{"sites": {"1": {"site_id": 2}, "0": {"site_id": 1}}}'))
  t.eq(r.sites[1].site_id, 1)
  t.eq(r.sites[2].site_id, 2)
end)

-- {curl's code, retryable, ambiguous}: nothing was sent when the name did
-- not resolve or the connection was refused; a bad certificate fails again.
local TRANSPORT = {
  { 6, true, false }, { 7, true, false }, { 28, true, true }, { 52, true, true }, { 56, true, true },
  { 60, false, true }, { 58, false, true }, { 91, false, true },
}
for _, c in ipairs(TRANSPORT) do
  t.test(("transport failure (curl %d): retryable %s, ambiguous %s"):format(c[1], c[2], c[3]), function()
    local r, err, retryable, ambiguous = classify("easyio.remove_site", nil, nil,
      { code = "curl", curl_code = c[1], message = "it failed" })
    t.eq(r, nil)
    t.eq(err.kind, "transport")
    t.eq(err.http_status, 0)
    t.eq(err.curl_code, c[1])
    t.eq(retryable, c[2])
    t.eq(ambiguous, c[3])
  end)
end

t.test("an answer too big or an interruption is never retried", function()
  local _, err, retryable = classify("easyio.remove_site", nil, nil, { code = "too_big", message = "too big" })
  t.eq(err.kind, "transport")
  t.eq(retryable, false)
  local _, e2, r2 = classify("easyio.remove_site", nil, nil, { code = "interrupted", message = "interrupted" })
  t.eq(e2.kind, "interrupted")
  t.eq(r2, false)
end)

t.test("a transport failure against a host known to have moved says where it went", function()
  local op = ops.by_name["easyio.remove_site"]
  local _, err = answer.classify(op, {}, { url = "https://optimize.exactlywww.com/exactdn/remove.php" }, nil,
    { code = "curl", curl_code = 6, message = "could not resolve" }, nil)
  t.match(err.message, "^could not resolve; EWWW's own plugin moved to https://api%.exactlywww%.net")
end)

t.done()
