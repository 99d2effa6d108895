-- The sandbox's --state keeps exactly what it acknowledged (store.lua):
-- every write a handler makes is seen without the handler saying so; a
-- request that raises changes nothing; a group of changes whose journal
-- entries cannot be written is undone whole, newest write first, and each
-- of its answers becomes a 503 that says "not done"; what a later flush
-- saves survives a restart. The journal's failure is simulated by
-- replacing cdnctl.Journal's append for the length of one flush.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"
local sp = require "cdnctl.sandbox.shortpixel"

local SP, EZ = "spDemoAgency00000001", "ez-demo-account-0001"
local dir = os.tmpname()
os.remove(dir)
assert(require("cdnctl.fs").mkdir_p(dir))
local path = dir .. "/state.json"

local function open()
  local handler, stop, flush, sb = sandbox.new(json.encode { pending = 0, seed = 1, state = path })
  local function call(method, uri, body)
    local r = handler { method = method, uri = uri, body = body or "",
      headers = { ["user-agent"] = "test", ["content-type"] = "application/x-www-form-urlencoded" } }
    return r, json.decode(r.body)
  end
  return { call = call, stop = stop, flush = flush, sb = sb }
end

local append = debug.getregistry()["cdnctl.Journal"].__index
local function failing_flush(s)
  local real = append.append
  append.append = function() return nil, "cannot write the journal: No space left on device" end
  local ok, answers = s.flush()
  append.append = real
  return ok, answers
end

local function domains(s)
  local _, st = s.call("GET", "/_sandbox/state")
  return st.shortpixel.domains
end

local s = open()

t.test("a change is seen and its answer held for the flush without the handler saying so", function()
  local r = s.call("GET", "/add-domain/kept.example.com/" .. SP)
  t.ok(math.tointeger(r.durable), "the answer waits for the flush")
  t.eq(s.flush(), true)
  local again = s.call("GET", "/read-domain/kept.example.com")
  t.eq(again.durable, nil, "a read with no change waiting is answered at once")
end)

t.test("a group that cannot be saved is undone, newest write first, each answer a 503 'not done'", function()
  local a = s.call("GET", "/add-domain/undone.example.com")
  local b = s.call("GET", "/add-domain/undone.example.com/" .. SP)
  local c = s.call("GET", "/revoke-domain/undone.example.com/" .. SP)
  local d = s.call("GET", "/add-domain/kept.example.com/spDemoOther000000002") -- refused: changes nothing, held
  local e = s.call("POST", "/exactdn/create.php", "api_key=" .. EZ .. "&site_url=https://undone.example.org/")
  local f = s.call("POST", "/_sandbox/clock", '{"advance": 86400}')
  local ok, answers = failing_flush(s)
  t.eq(ok, false)
  for _, r in ipairs { a, b, c, d, e, f } do
    local x = answers[r.durable]
    t.eq(x and x.status, 503, "every held answer becomes a 503")
    t.ok(x.body:find("not done", 1, true), x.body)
  end
  t.ok(answers[b.durable].body:find('"Status":-503', 1, true), "in the service's shape: " .. answers[b.durable].body)
  local st = domains(s)
  t.eq(st["undone.example.com"], nil, "the domain the group added is gone")
  t.eq(st["kept.example.com"].owner, "****0001", "what an earlier flush saved stays")
  local _, sites = s.call("POST", "/exactdn/show.php", "api_key=" .. EZ)
  t.eq(#sites.sites, 0, "the site is gone")
  t.eq(s.sb.state.clock_offset, 0, "the clock is back")
  local _, retry = s.call("POST", "/exactdn/create.php", "api_key=" .. EZ .. "&site_url=https://undone.example.org/")
  t.eq(retry.status, "success", "the retry creates the site (not 'duplicate site url')")
  local _, count = s.call("POST", "/exactdn/show.php", "api_key=" .. EZ)
  t.eq(count.live_sites, 1, "the live count was rebuilt, not left counting the undone site")
  t.eq(s.flush(), true)
end)

t.test("a request that raises changes nothing and is answered 500", function()
  local route = sp.routes["/add-domain"]
  local real = route.handler
  route.handler = function(sb, name)
    sb.state.shortpixel.domains[name] = { added = "2026-01-01" }
    error("half-way")
  end
  local r = s.call("GET", "/add-domain/raised.example.com/" .. SP)
  route.handler = real
  t.eq(r.status, 500)
  t.eq(domains(s)["raised.example.com"], nil)
end)

t.test("what was saved is there after a restart, what was undone is not", function()
  t.eq(s.stop(), true)
  local s2 = open()
  local st = domains(s2)
  t.ok(st["kept.example.com"], "kept")
  t.eq(st["undone.example.com"], nil)
  local _, sites = s2.call("POST", "/exactdn/show.php", "api_key=" .. EZ)
  t.eq(#sites.sites, 1)
  t.eq(sites.sites[1].site_url, "https://undone.example.org/")
  t.eq(s2.stop(), true)
end)

os.remove(path)
os.remove(path .. ".journal")
os.remove(dir)
t.done()
