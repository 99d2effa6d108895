-- The fast paths of a binding's own work give what the whole work gives.
-- Each fast path skips work for the common input and falls back to the
-- whole work otherwise; here both run over many generated inputs (a fixed
-- seed: a failure is reproducible) and must agree exactly, value and
-- message: check.domain against check.full_domain, percent.escape against
-- gsub, config.transport_ok_on (remembered per base URL) against
-- config.transport_ok, the key checked once per source against another
-- key, and client.build_request's URL against the gsub over the path
-- template that it replaced.
local t = require "t"
local check = require "cdnctl.check"
local percent = require "cdnctl.percent"
local config = require "cdnctl.config"
local settings = require "cdnctl.settings"
local client = require "cdnctl.client"
local request = require "cdnctl.request"
local ops = require "cdnctl.ops"

math.randomseed(15)
local function pick(list) return list[math.random(#list)] end

-- Bytes where the rules change: the name alphabet and its edges, upper
-- case, the refused characters, bytes for IDNA.
local BYTES = { "a", "z", "m", "0", "9", "_", "-", ".", ".", "A", "Z", ":", "/", "@", "%", " ", "?", "#",
  "\t", "\0", "\127", "\195", "\188", "~", "+", "*" }

-- A name made of labels (of 1 to 64 bytes, some with a hyphen inside),
-- half the time with one byte of BYTES put in or swapped for one (which may
-- break a rule or not), sometimes as a URL, with a final dot or upper case.
local function generated_name()
  local labels = {}
  for i = 1, pick { 1, 2, 2, 3, 4 } do
    local len = pick { 1, 2, 3, 5, 8, 8, 20, 30, 62, 63, 64 }
    local chars = {}
    for k = 1, len do chars[k] = pick { "a", "x", "0", "7", "_" } end
    if len > 2 and math.random() < 0.3 then chars[math.random(2, len - 1)] = "-" end
    labels[i] = table.concat(chars)
  end
  local name = table.concat(labels, ".")
  if math.random() < 0.5 then
    local at = math.random(1, #name + 1)
    name = name:sub(1, at - 1) .. pick(BYTES) .. name:sub(at + math.random(0, 1))
  end
  if math.random() < 0.05 then name = "https://" .. name .. "/path" end
  if math.random() < 0.05 then name = name .. "." end
  if math.random() < 0.05 then name = name:upper() end
  return name
end

-- A short string of any of BYTES.
local function generated_bytes()
  local chars = {}
  for k = 1, math.random(0, 12) do chars[k] = pick(BYTES) end
  return table.concat(chars)
end

local function agree(what, a, b)
  t.same(table.pack(a()), table.pack(b()), what)
end

t.test("check.domain gives what the whole check gives, for 20,000 generated names", function()
  local fast = 0
  for _ = 1, 20000 do
    local v = math.random() < 0.8 and generated_name() or generated_bytes()
    if check.clean_hostname(v) then fast = fast + 1 end
    agree(("%q"):format(v), function() return check.domain(v, "d") end, function() return check.full_domain(v, "d") end)
  end
  -- both ways are well exercised
  t.ok(fast > 2000 and fast < 18000, "the fast path was taken " .. fast .. " times in 20,000")
end)

t.test("check.domain's fast path takes names at its edges as the whole check does", function()
  local edges = { "a.b", "_.x", "a-b.c", "xn--bcher-kva.de", string.rep("a", 61) .. ".b", string.rep("a", 62) .. ".b",
    "a..b", ".a.b", "a.b.", "-a.b", "a-.b", "a.-b", "a.b-", "ab", "a", "", "a.B", "a.b\0", "a b.c", "a.b/", "a:1.b" }
  for _, v in ipairs(edges) do
    agree(("%q"):format(v), function() return check.domain(v) end, function() return check.full_domain(v) end)
  end
  t.eq(check.domain(42), nil)
  agree("a number", function() return check.domain(42) end, function() return check.full_domain(42) end)
end)

t.test("percent.escape gives what the gsub gives, for 20,000 generated strings", function()
  for _ = 1, 20000 do
    local v = math.random() < 0.5 and generated_name() or generated_bytes()
    local want = v:gsub("[^A-Za-z0-9%-._~]", function(c) return ("%%%02X"):format(c:byte()) end)
    t.eq(percent.escape(v), want, ("%q"):format(v))
  end
end)

-- Base URLs and what follows them: the shapes the rule tells apart.
local BASES = { "https://no-cdn.shortpixel.ai", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:9",
  "http://example.com", "http://127.0.0.1.evil.example", "ftp://127.0.0.1", "http://u@127.0.0.1", "http:",
  "http:/", "example.com", "HTTP://LOCALHOST", "http://127.0.0.1?x", "http://", "https://", "http://10.0.0.1#f" }
local RESTS = { "/add-domain/a.com/KEY", "/", "//evil.example/x", "", "x/y", "?q", "@evil.example/", ":80/x" }

t.test("config.transport_ok_on gives what transport_ok gives, call after call, with and without --allow-http", function()
  for _, allow in ipairs { false, true, false } do
    local s = settings.new { allow_http = allow }
    for _ = 1, 3000 do
      local base = pick(BASES)
      local url = (math.random() < 0.9 and base or pick(BASES)) .. pick(RESTS)
      agree(base .. " + " .. url, function() return config.transport_ok_on(s, base, url) end,
        function() return config.transport_ok(s, url) end)
    end
  end
end)

t.test("a settings value's remembered transport verdicts follow s.allow_http", function()
  local s = settings.new()
  local base = "http://example.com"
  t.eq(config.transport_ok_on(s, base, base .. "/x"), false)
  s.allow_http = true
  t.eq(config.transport_ok_on(s, base, base .. "/x"), true)
  s.allow_http = false
  t.eq(config.transport_ok_on(s, base, base .. "/x"), false)
end)

-- No request is sent here: the base URL is refused by the loopback rule,
-- which comes after the key's check.
t.test("a key that passed check.key once spares the check of that key only", function()
  local s = settings.new { sandbox = { urls = { sp = "http://example.com" }, keys = { shortpixel = "spDemoAgency00000001" } } }
  local op = ops.by_name["shortpixel.add_domain"]
  local refused = "refusing to send an API key over plain http to example.com (use https, or --allow-http for a host you trust)"
  for _ = 1, 2 do
    local r, err = client.call(s, op, { domain = "a.com" }, {})
    t.eq(r, nil)
    t.eq(err.message, refused)
    r, err = client.call(s, op, { domain = "a.com" }, { key = "bad/key" })
    t.eq(r, nil)
    t.eq(err.message, "key (from opts.key): contains '/', which an API key cannot contain")
  end
end)

-- The URL as the path template's gsub built it before (client.lua).
local function reference_url(s, op, values, key, opts)
  local url = op.path:gsub("{(%w+)(%*?)}", function(name, star)
    if ops.base_urls[name] then return config.url(s, name) end
    if name == "key" then return key and percent.escape(key) or "" end
    if star == "*" then return op.rest[name](values[name], opts) end -- the rest of the path, as it is
    return percent.escape(tostring(values[name]))
  end)
  if op.key_in == "path" and not key then url = url:gsub("/$", "") end
  local names = {}
  for name in pairs(op.path_options or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    if opts[name] then url = url .. op.path_options[name] end
  end
  return url
end

t.test("request.build's URL is the template's gsub, for every operation", function()
  local s = settings.new { sandbox = { urls = { sp = "http://127.0.0.1:9/sp", api = "https://api.example", ez = "http://[::1]:7" } } }
  local values = { domain = "x-1.example.com", site_id = 17, sub_key = "ab~c", site_url = "https://x.com/a b/",
                   url = "https://img.example.com/a,b:c/photo.jpg" }
  for _, op in ipairs(ops.list) do
    for _, key in ipairs { "spDemoAgency00000001", "a.b-c_d~e", false } do
      for _, opts in ipairs { {}, { refresh = true } } do
        local k = key or nil
        local r = { s = s, op = op, values = values, key = k, opts = opts }
        t.eq(request.build(r) and r.req.url or r.req.url, reference_url(s, op, values, k, opts), op.full)
      end
    end
  end
end)

t.done()
