-- A report's requests cost the same however many sites and domains the
-- sandbox holds: read-domain, show.php with a site_url, savings.php by alias
-- (standard or custom), read-domain-cdn-usage and api-status never walk the
-- whole state. Checked without timing: once the state is built, the tables
-- of all sites and all domains refuse to be walked (a __pairs that raises),
-- and every answer is still right.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"

local SP, EZ = "spDemoAgency00000001", "ez-demo-account-0001"
local handler, _, _, sb = sandbox.new(json.encode { pending = 0, seed = 1 })

local function call(method, uri, body)
  local r = handler { method = method, uri = uri, body = body or "",
    headers = { ["user-agent"] = "test", ["content-type"] = "application/x-www-form-urlencoded" } }
  return r.status, json.decode(r.body)
end
local function ez(path, form) return call("POST", "/exactdn/" .. path, "api_key=" .. EZ .. "&" .. form) end

local N = 200 -- under the demo account's 250 sites
local alias = {}
for i = 1, N do
  call("GET", "/add-domain/d" .. i .. ".example.com/" .. SP)
  local _, r = ez("create.php", "site_url=https://s" .. i .. ".example.com/")
  alias[i] = r.alias
end
local _, cn = ez("cname.php", "site_id=20&custom_cname=cdn.example.net")
t.eq(cn.alias, "cdn.example.net", "custom hostname set")

-- From here on, walking all sites or all domains raises.
local _, state = call("GET", "/_sandbox/state")
t.eq(type(state), "table")
local function no_walk(name)
  return { __pairs = function() error("walked all " .. name, 0) end }
end
-- The sandbox's own state table, through the instance new() gives.
t.ok(sb and sb.state, "found the sandbox instance")
setmetatable(sb.state.easyio.sites, no_walk("sites"))
setmetatable(sb.state.shortpixel.domains, no_walk("domains"))

t.test("read-domain reads one domain", function()
  local st, r = call("GET", "/read-domain/d7.example.com")
  t.eq(st, 200); t.eq(r.HasAccount, true)
end)

t.test("read-domain-cdn-usage and api-status read one user", function()
  local st, r = call("GET", "/read-domain-cdn-usage/d7.example.com/" .. SP)
  t.eq(st, 200); t.eq(type(r.Email), "string")
  local st2, r2 = call("POST", "/v2/api-status.php", "key=" .. SP)
  t.eq(st2, 200); t.eq(r2.Status.Code, "2")
end)

t.test("savings.php by a standard alias finds its site without walking all sites", function()
  local st, r = ez("savings.php", "alias=" .. alias[123])
  t.eq(st, 200); t.eq(r.error, nil); t.eq(r.original, 0)
end)

t.test("savings.php by a custom hostname, and by the standard alias of that site", function()
  local _, r = ez("savings.php", "alias=cdn.example.net")
  t.eq(r.error, nil)
  local _, r2 = ez("savings.php", "alias=" .. alias[5])
  t.eq(r2.error, nil)
end)

t.test("savings.php of an unknown alias: invalid alias, without walking all sites", function()
  local _, r = ez("savings.php", "alias=enothere00000.exactdn.com")
  t.eq(r.error, "invalid alias")
end)

t.test("a CDN fetch through an alias counts on that site", function()
  local st = call("GET", "/_sandbox/cdn/" .. alias[9] .. "/img/a.jpg")
  t.eq(st, 200)
  local _, r = ez("savings.php", "alias=" .. alias[9])
  t.ok(r.original > 0, "original grew")
end)

t.test("show.php with a site_url finds that site without walking all sites", function()
  local st, r = ez("show.php", "site_url=https://s42.example.com")
  t.eq(st, 200); t.eq(#r.sites, 1); t.eq(r.sites[1].site_url, "https://s42.example.com/")
  t.eq(r.live_sites, N)
end)

t.test("create.php checks the site limit without walking all sites", function()
  local _, r = ez("create.php", "site_url=https://new.example.org/")
  t.eq(r.status, "success")
  local _, r2 = ez("show.php", "site_url=https://new.example.org/")
  t.eq(r2.live_sites, N + 1)
end)

t.test("remove.php keeps the counts and the alias index right", function()
  local _, r = ez("remove.php", "site_id=17")
  t.eq(r.success, true)
  local _, r2 = ez("savings.php", "alias=" .. alias[2])
  t.eq(r2.error, "invalid alias")
  local _, r3 = ez("show.php", "site_url=https://new.example.org/")
  t.eq(r3.live_sites, N)
end)

t.done()
