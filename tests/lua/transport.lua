-- The loopback rule (config.transport_ok): a key travels over https, or over
-- plain http to loopback only; anything else is refused before a request
-- exists. Plain function calls, no HTTP; --allow-http is not given here.
local t = require "t"
local config = require "cdnctl.config"
local S = require("cdnctl.settings").new() -- settings of this test's own: no --allow-http

local ALLOWED = {
  "https://no-cdn.shortpixel.ai/read-domain/a.com",
  "HTTPS://API.EXAMPLE.COM",
  "http://127.0.0.1:8080/x",
  "http://127.255.3.9/",
  "http://localhost/",
  "http://LOCALHOST:1/",
  "http://[::1]:9000/exactdn/show.php",
  "HTTP://127.0.0.1",
}
for _, url in ipairs(ALLOWED) do
  t.test("a key may go to " .. url, function() t.eq(config.transport_ok(S, url), true) end)
end

-- {URL, the refusal}
local REFUSED = {
  { "http://example.com/x", "refusing to send an API key over plain http to example.com (use https, or --allow-http for a host you trust)" },
  { "http://127.0.0.1.evil.example/", "refusing to send an API key over plain http to 127.0.0.1.evil.example (use https, or --allow-http for a host you trust)" },
  { "http://localhost.evil.example/", "refusing to send an API key over plain http to localhost.evil.example (use https, or --allow-http for a host you trust)" },
  { "http://127.1/", "refusing to send an API key over plain http to 127.1 (use https, or --allow-http for a host you trust)" },
  { "http://127.0.0.256/", "refusing to send an API key over plain http to 127.0.0.256 (use https, or --allow-http for a host you trust)" },
  { "http://[::2]/", "refusing to send an API key over plain http to ::2 (use https, or --allow-http for a host you trust)" },
  { "http://10.0.0.1/", "refusing to send an API key over plain http to 10.0.0.1 (use https, or --allow-http for a host you trust)" },
  { "ftp://127.0.0.1/", "refusing to send an API key with ftp://: http(s) only" },
  { "http://127.0.0.1@example.com/", "refusing to send an API key: the URL has user information ('@'): http://..." },
  { "https://user:pw@example.com/", "refusing to send an API key: the URL has user information ('@'): https://..." },
  { "http:///x", "refusing to send an API key: the URL has no host" },
  { "example.com/x", "refusing to send an API key: not an http(s) URL: example.com/x" },
}
for _, c in ipairs(REFUSED) do
  t.test("no key goes to " .. c[1], function()
    local ok, why = config.transport_ok(S, c[1])
    t.eq(ok, false)
    t.eq(why, c[2])
  end)
end

t.done()
