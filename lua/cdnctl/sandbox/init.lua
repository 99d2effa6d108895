-- cdnctl.sandbox: the offline emulator of both APIs. server.c calls
-- new(config_json) once, on the server's own thread and Lua state, and then
-- the returned handler once per complete request:
--   handler{method, uri, body, headers [, limit]} -> {status, body, headers, delay, drop, durable}
-- limit: server.c refused the request ("body": over 1 MiB, "head": over
-- 8 KiB) and asks for the answer, in the shape of the path's service.
-- The pieces, one file each:
--   state.lua    the instance's state object (sb): data, clock, names, masking
--   router.lua   one router over every route (the shape is described there)
--   shortpixel.lua, easyio.lua, admin.lua   the routes and their handlers
--   faults.lua   --faults and --latency, a wrapper around the handler
--   log.lua      --log
--   store.lua    --state: the snapshot and the journal
-- This file puts them together: the pipeline, the journal's commits and
-- replay, stop and flush.

local json = require "cdnctl.json"
local accounts = require "cdnctl.sandbox.accounts"
local store = require "cdnctl.sandbox.store"
local state = require "cdnctl.sandbox.state"
local router = require "cdnctl.sandbox.router"
local faults = require "cdnctl.sandbox.faults"
local log = require "cdnctl.sandbox.log"

local M = {}

M.DEFAULT_PENDING = 300     -- seconds a new Easy IO site stays pending (EWWW: "5-10 minutes")
M.STATE_VERSION = state.VERSION
M.CLOCK_MAX = state.CLOCK_MAX
M.parse_faults = faults.parse_faults
M.parse_latency = faults.parse_latency

-- The configuration as server.c hands it over (JSON text), with defaults.
local function configure(text)
  local cfg = json.decode(text or "{}")
  if type(cfg) ~= "table" then error("sandbox: the configuration is not a JSON object", 0) end
  cfg.accounts = cfg.accounts or {}
  local spa, eza = {}, {}
  for _, a in ipairs(accounts.demo.shortpixel) do spa[#spa + 1] = a end
  for _, a in ipairs(accounts.demo.easyio) do eza[#eza + 1] = a end
  for _, a in ipairs(cfg.accounts.shortpixel or {}) do spa[#spa + 1] = a end
  for _, a in ipairs(cfg.accounts.easyio or {}) do eza[#eza + 1] = a end
  cfg.accounts = { shortpixel = spa, easyio = eza }
  cfg.pending = cfg.pending or M.DEFAULT_PENDING
  cfg.faults = cfg.faults or {}
  return cfg
end

-- One sandbox: the state object (sb), the store (nil without --state), the
-- log (nil without --log), the wrapped pipeline.
local Sandbox = {}
Sandbox.__index = Sandbox

-- A change is answered only once the journal holds it: its entry is
-- queued and its answer marked durable (a number that flush's failure
-- answers are indexed by); server.c holds the answer back until flush()
-- has written the queue (several changes, one sync). failed: the request
-- raised half-way (answered 500); its entry is kept so that a replay
-- changes what it changed, and replay ignores its error.
function Sandbox:commit(req, route, resp, failed)
  local sb = self.sb
  if not sb.dirty then return resp end
  sb.dirty = false
  if not self.store then return resp end
  self.store:queue {
    t = sb.wall, m = req.method, u = store.pack(req.uri), b = store.pack(req.body),
    h = { ["content-type"] = req.headers["content-type"], ["user-agent"] = req.headers["user-agent"] },
    r = sb.drawn[1] and sb.drawn or nil, x = failed or nil,
  }
  self.last = self.last + 1
  self.unsaved[self.last] = route or false
  resp.durable = self.last
  return resp
end

-- The route's answer, committed; a path no route takes is a 404 (in the
-- shape of its service when the path is one of a service's).
function Sandbox:carry_out(req, route)
  if not route or not route.handler then return router.refusal(route, 404) end
  return self:commit(req, route, router.run(self.sb, req, route))
end

-- One request, from server.c's table to its answer. -> answer, route
function Sandbox:respond(req)
  local route, service, malformed = router.find(req)
  if malformed then
    req.log_as = "(malformed)"
    return router.answer(400, { error = malformed })
  end
  route = route or (service and { service = service })
  local limit = req.limit and router.LIMITS[req.limit]
  if limit then return router.refusal(route, limit), route end
  return self.pipeline(req, route), route
end

-- The handler: a request answered, logged, and any error turned into a
-- 500 in the shape of its service (committed: what it changed is kept).
function Sandbox:handle(req)
  local t0, sb = self.log and os.clock(), self.sb
  sb:begin(os.time(), nil, self.store and {})
  local ok, resp, route = pcall(self.respond, self, req)
  if not ok then
    io.stderr:write("cdnctl sandbox: ", sb:mask(tostring(resp)), "\n")
    local found, service = router.find { uri = req.uri }
    route = found or (service and { service = service })
    resp = self:commit(req, found, router.refusal(route, 500), true)
  end
  sb:finish()
  if self.log then self.log:write(sb, log.record(req, route, resp, t0), resp.durable ~= nil) end
  return resp
end

-- The journal's entries since the snapshot, carried out again in order
-- with their recorded time and names; then the state is compacted. Any
-- failure refuses to start: what was acknowledged must be there.
function Sandbox:replay(entries)
  local sb = self.sb
  for i, e in ipairs(entries) do
    local req = { method = e.m, uri = store.unpack(e.u) or "", body = store.unpack(e.b) or "",
                  headers = type(e.h) == "table" and e.h or {} }
    sb:begin(math.tointeger(e.t), type(e.r) == "table" and e.r or {}, nil)
    local ok, err = pcall(function()
      local route = router.find(req)
      if route then router.run(sb, req, route) end
    end)
    sb:finish()
    if not ok and not e.x then
      error("sandbox: state journal " .. self.store.jpath .. ": entry " .. i .. " cannot be replayed: "
        .. sb:mask(tostring(err)), 0)
    end
  end
  local ok, err = self.store:start(sb.state)
  if not ok then error("sandbox: cannot write the state: " .. err, 0) end
end

-- Saves the whole state (when there is a file) and closes the log.
-- -> true | nil, message
function Sandbox:stop()
  if self.log then self.log:close(); self.log = nil end
  if not self.store then return true end
  local ok, err = self.store:stop(self.sb.state)
  if not ok then return nil, "cannot save the state: " .. err end
  return true
end

-- Writes the changes queued since the last call (server.c calls it after
-- each round of requests, before their answers go out). -> true | false,
-- {[durable] = the 503 that replaces that answer, in its service's shape}
function Sandbox:flush()
  local ok, err = true, nil
  if self.store then ok, err = self.store:flush() end
  local n = self.log and self.log:release(self.sb, not ok) or 0
  local unsaved = self.unsaved
  self.unsaved = {}
  if ok then return true end
  io.stderr:write("cdnctl sandbox: cannot save the state (", err, "): ", n > 0 and n or "the",
    " changes answered 503\n")
  local answers, message = {}, "sandbox: the change could not be saved: " .. err
  for id, route in pairs(unsaved) do answers[id] = router.refusal(route or nil, 503, message) end
  return false, answers
end

-- new(config_text) -> handler, stop, flush, sb (the instance's state
-- object, for tests). Raises with one line when the configuration or the
-- state file is refused.
function M.new(config_text)
  local cfg = configure(config_text)
  collectgarbage("generational") -- every request makes short-lived tables only
  math.randomseed(math.tointeger(cfg.seed) or os.time())
  local saved, loaded, entries
  if cfg.state then
    saved, loaded, entries = store.open(cfg.state, state.valid)
    if not saved then error("sandbox: " .. loaded, 0) end
  end
  local self = setmetatable({ sb = state.new(cfg, loaded), store = saved, log = log.open(cfg.log),
                              unsaved = {}, last = 0 }, Sandbox)
  self.pipeline = faults.wrap(cfg.faults, cfg.latency,
    function(req, route) return self:carry_out(req, route) end, router.answer)
  if saved then self:replay(entries) end
  return function(req) return self:handle(req) end,
         function() return self:stop() end,
         function() return self:flush() end,
         self.sb
end

return M
