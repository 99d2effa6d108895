-- A --state file whose tables are written as [] (json.decode gives those
-- json.array_mt) is tracked like any other: a change to such a table is
-- journaled (its answer held for the flush) and survives a restart, and
-- undone when it cannot be saved. The journal's failure is simulated as in
-- sandbox_store.lua, by replacing cdnctl.Journal's append for one flush.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"

local EZ = "ez-demo-account-0001"
local dir = os.tmpname()
os.remove(dir)
assert(require("cdnctl.fs").mkdir_p(dir))
local path = dir .. "/state.json"

-- A fresh state as --state writes it, with its empty tables written as [].
do
  local handler, stop = sandbox.new(json.encode { pending = 0, seed = 1, state = path })
  handler { method = "GET", uri = "/_sandbox/state", body = "", headers = {} }
  assert(stop())
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local n
  text, n = text:gsub('"sites":{}', '"sites":[]')
  assert(n == 1, "the state file has an empty sites table")
  f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function open()
  local handler, stop, flush = sandbox.new(json.encode { pending = 0, seed = 1, state = path })
  local function call(uri, body)
    local r = handler { method = "POST", uri = uri, body = body,
      headers = { ["user-agent"] = "test", ["content-type"] = "application/x-www-form-urlencoded" } }
    return r, json.decode(r.body)
  end
  return { call = call, stop = stop, flush = flush }
end

local append = debug.getregistry()["cdnctl.Journal"].__index
local function failing_flush(s)
  local real = append.append
  append.append = function() return nil, "cannot write the journal: No space left on device" end
  local ok = s.flush()
  append.append = real
  return ok
end

t.test("a change to a table the file wrote as [] is undone when it cannot be saved", function()
  local s = open()
  local r = s.call("/exactdn/create.php", "api_key=" .. EZ .. "&site_url=https://undo.example.com/")
  t.eq(r.status, 200)
  t.eq(failing_flush(s), false)
  local _, shown = s.call("/exactdn/show.php", "api_key=" .. EZ .. "&site_url=https://undo.example.com/")
  t.eq(shown.site_id, nil, "the refused site is not in the state")
  local _, all = s.call("/exactdn/show.php", "api_key=" .. EZ)
  t.eq(#all.sites, 0, "no site is left")
  assert(s.stop())
end)

t.test("a change to a table the file wrote as [] is journaled and kept", function()
  local s = open()
  local r, b = s.call("/exactdn/create.php", "api_key=" .. EZ .. "&site_url=https://arr.example.com/")
  t.eq(r.status, 200)
  t.ok(math.tointeger(r.durable), "the answer waits for the flush (the write was seen)")
  t.eq(s.flush(), true)
  assert(s.stop())
  s = open()
  local _, shown = s.call("/exactdn/show.php", "api_key=" .. EZ .. "&site_url=https://arr.example.com/")
  t.eq(shown.site_id, b.site_id, "the site is there after a restart")
  assert(s.stop())
end)

os.remove(path); os.remove(path .. ".journal"); os.remove(path .. ".journal.pid"); os.remove(dir)
t.done()
