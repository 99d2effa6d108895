-- tests/lib/late_server.lua: a slow Easy IO for the tests of creates. It
-- holds each create's answer `hold` seconds (longer than the client waits,
-- so the client gives up) and carries the create out `late` seconds after
-- it arrived, as a server busy with its database would: until then neither
-- show.php shows it. A create of a site URL already there, when carried
-- out, does nothing (its held answer says "duplicate site url"). With
-- show_delay, each show.php answer is held that many seconds too (a slow
-- read, for the checks that must leave it time).
--   local late = require("late_server").start { late = 2, hold = 10 [, show_delay = 0.5] }
--   late.url, late.lib (a library pointed at it), late:count() -> {create_key = n, create_site = n}
--   late:stop()
-- As a process of its own (tests/cli): prints its base URL on the first
-- line, serves until SIGINT/SIGTERM:
--   cdnctl -e "package.path=..." tests/lib/late_server.lua LATE HOLD [SHOW_DELAY]
local server = require "cdnctl.server"
local json = require "cdnctl.json"

local SOURCE = [==[
local json = require "cdnctl.json"
local http = require "cdnctl.http"
local M = {}
function M.new(config)
  local cfg = json.decode(config)
  local late, hold, show_delay = cfg.late or 2, cfg.hold or 10, cfg.show_delay
  local keys, sites, pending, count, n = { "sub-key-existing-0001" }, {}, {}, { create_key = 0, create_site = 0 }, 0
  local function answer(body, delay)
    return { status = 200, body = json.encode(body), headers = { ["Content-Type"] = "application/json" }, delay = delay }
  end
  local function form(body)
    local f = {}
    for k, v in (body or ""):gmatch("([^&=]+)=([^&]*)") do
      f[k] = v:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    end
    return f
  end
  local function site_of(url)
    for _, s in ipairs(sites) do if s.site_url == url then return s end end
  end
  -- carry out what is due
  local function settle()
    local now, keep = http.now(), {}
    for _, p in ipairs(pending) do
      if p.at > now then keep[#keep + 1] = p
      elseif p.key then keys[#keys + 1] = p.key
      elseif not site_of(p.site_url) then sites[#sites + 1] = p.site end
    end
    pending = keep
  end
  local function handler(req)
    settle()
    local uri, f = req.uri, form(req.body)
    if uri == "/_late/count" then return answer(count) end
    if uri == "/api_key/show.php" then return answer({ keys = #keys > 0 and keys or json.empty_array }, show_delay) end
    if uri == "/exactdn/show.php" then
      local out = {}
      for _, s in ipairs(sites) do if not f.site_url or s.site_url == f.site_url then out[#out + 1] = s end end
      return answer({ sites = #out > 0 and out or json.empty_array }, show_delay)
    end
    n = n + 1
    if uri == "/api_key/create.php" then
      count.create_key = count.create_key + 1
      local k = string.format("late-sub-key-%08d", n)
      pending[#pending + 1] = { at = http.now() + late, key = k }
      return answer({ success = 1, sub_key = k }, hold)
    end
    if uri == "/exactdn/create.php" then
      count.create_site = count.create_site + 1
      if site_of(f.site_url) then return answer({ error = "duplicate site url" }, hold) end
      local site = { site_id = tostring(100 + n), site_url = f.site_url, alias = string.format("elate%06d.exactdn.com", n), live = "1" }
      pending[#pending + 1] = { at = http.now() + late, site_url = f.site_url, site = site }
      return answer({ id = 100 + n, site_url = f.site_url, alias = site.alias, dev = 0, status = "success" }, hold)
    end
    return { status = 404, body = '{"error": "no such page"}' }
  end
  return handler, function() end
end
return M
]==]

local Late = {}
Late.__index = Late

function Late:count()
  local sched = require "cdnctl.sched"
  local r = assert(sched.request { method = "GET", url = self.url .. "/_late/count" })
  return json.decode(r.body)
end

function Late:stop() self.srv:stop() end

local M = { SOURCE = SOURCE, EZ_KEY = "EZKEYlate0000000000001" }

-- M.start{late =, hold =, policy =} -> a late server, with .lib pointed at it
function M.start(t)
  local srv = assert(server.start { host = "127.0.0.1", port = 0, source = SOURCE,
    config = json.encode { late = t.late, hold = t.hold, show_delay = t.show_delay } })
  local url = "http://127.0.0.1:" .. srv:port()
  local s = require("cdnctl.settings").new { sandbox = { urls = { sp = url, api = url, ez = url },
    keys = { shortpixel = "SPKEYlate000000000001", easyio = M.EZ_KEY } }, policy = t.policy }
  return setmetatable({ srv = srv, url = url, lib = require("cdnctl").new(s) }, Late)
end

-- Run as a process (arg[1], arg[2]: late and hold seconds).
if arg and arg[0] and arg[0]:find("late_server%.lua$") then
  local srv = assert(server.start { host = "127.0.0.1", port = 0, source = SOURCE,
    config = json.encode { late = tonumber(arg[1]) or 2, hold = tonumber(arg[2]) or 10, show_delay = tonumber(arg[3]) } })
  io.stdout:write("http://127.0.0.1:", srv:port(), "\n")
  io.stdout:flush()
  server.wait_signal()
  srv:stop()
end

return M
