-- tests/lib/fixture.lua: a programmable HTTP server on loopback for tests
-- that must see exactly what cdnctl sends, or make it read odd answers.
--   local fx = require("fixture").start()   -- fx.shortpixel, fx.easyio, fx.lib point at it
--   fx:queue{status = 500, body = '{"error":"x"}'}  -- next answers, in order
--   fx:last()  -> the last request {method, uri, body, headers}
--   fx:count() -> requests seen;  fx:stop()
local server = require "cdnctl.server"
local json = require "cdnctl.json"
local sched = require "cdnctl.sched"
local settings = require "cdnctl.settings"

local SOURCE = [==[
local json = require "cdnctl.json"
local M = {}
function M.new()
  local log, queue = {}, {}
  local function default_answer(req)
    local p = req.uri
    local body
    if p:find("^/v2/api%-status%.php") then
      body = { Status = { Code = "2", Message = "Success" }, APICallsQuota = 250 }
    elseif p:find("^/read%-domain/") then
      body = { Status = 2, Message = "All OK" }
    elseif p:find("^/read%-domain%-cdn%-usage/") then
      body = { Email = "a@example.com", UsedCDN = {} }
    elseif p:find("^/api_key/show%.php") then
      body = { keys = { "sub-key-000000000001" }, limits = { ["sub-key-000000000001"] = "2000" },
               site_limit = { ["sub-key-000000000001"] = "2" }, labels = { ["sub-key-000000000001"] = "old label" } }
    elseif p:find("^/exactdn/") or p:find("^/api_key/") then
      body = { success = 1 }
    else
      body = { Status = 2, Message = "Done" }
    end
    return { status = 200, body = json.encode(body), headers = { ["Content-Type"] = "application/json" } }
  end
  local function handler(req)
    if req.uri == "/_fixture/last" then return { status = 200, body = json.encode(log[#log] or {}) } end
    if req.uri == "/_fixture/count" then return { status = 200, body = tostring(#log) } end
    if req.uri == "/_fixture/log" then return { status = 200, body = json.encode(log) } end
    if req.uri == "/_fixture/queue" then
      for _, a in ipairs(json.decode(req.body)) do queue[#queue + 1] = a end
      return { status = 200, body = "{}" }
    end
    log[#log + 1] = req
    local a = table.remove(queue, 1)
    if a and a.repeat_all then queue[#queue + 1] = a end -- answer every request so
    if not a then return default_answer(req) end
    a.headers = a.headers or { ["Content-Type"] = "application/json" }
    return a
  end
  return handler, function() end
end
return M
]==]

local Fixture = {}
Fixture.__index = Fixture

local function ctl(self, path, body)
  local r, err = sched.request { method = body and "POST" or "GET", url = self.url .. path, body = body }
  assert(r, err and err.message)
  return r.body
end

function Fixture:queue(...)
  ctl(self, "/_fixture/queue", json.encode({ ... }))
end
function Fixture:last() return json.decode(ctl(self, "/_fixture/last")) end
function Fixture:log() return json.decode(ctl(self, "/_fixture/log")) end
function Fixture:count() return tonumber(ctl(self, "/_fixture/count")) end
function Fixture:stop()
  self.srv:stop()
end

-- fx:library([t]) -> a library (cdnctl.new) of its own settings value
-- (cdnctl.settings.new, no environment read) pointed at this fixture:
-- every base URL here (t.urls replaces some), the fixture's keys, t.policy.
function Fixture:library(t)
  t = t or {}
  local urls = { sp = self.url, api = self.url, ez = self.url }
  for k, v in pairs(t.urls or {}) do urls[k] = v end
  local s = settings.new { sandbox = { urls = urls, keys = t.keys or self.keys }, policy = t.policy }
  return require("cdnctl").new(s)
end

local M = { SOURCE = SOURCE }

-- M.start([keys [, t]]) -> fixture, with fx.lib = fx:library(t) and
-- fx.shortpixel, fx.easyio its bindings: a test calls those, never the
-- globals, so nothing is to be restored when it ends.
function M.start(keys, t)
  local srv = assert(server.start { host = "127.0.0.1", port = 0, source = SOURCE })
  local self = setmetatable({ srv = srv, url = "http://127.0.0.1:" .. srv:port(),
    keys = keys or { shortpixel = "SPKEYfixture000000001", easyio = "EZKEYfixture000000001" } }, Fixture)
  self.lib = self:library(t)
  self.shortpixel, self.easyio = self.lib.shortpixel, self.lib.easyio
  return self
end

return M
