-- cdnctl.sandbox: the offline emulator of both APIs. server.c calls
-- new(config_json) once, on the server's own thread and Lua state, and then
-- the returned handler once per complete request:
--   handler{method, uri, body, headers [, limit] [, late]}
--     -> {status, body, headers, delay, drop, durable} | {later = seconds}
-- limit: server.c refused the request ("body": over 1 MiB, "head": over
-- 8 KiB) and asks for the answer, in the shape of the path's service.
-- later: not carried out yet (the late fault); server.c calls the handler
-- again with the same request and late = true once the seconds have passed.
-- The pieces, one file each:
--   state.lua    the instance's state object (sb): data, clock, names, masking
--   router.lua   one router over every route (the shape is described there)
--   shortpixel.lua, easyio.lua, admin.lua   the routes and their handlers
--   faults.lua   --faults and --latency, a wrapper around the handler
--   log.lua      --log
--   store.lua    --state: the snapshot, the journal, the one commit
-- This file puts them together: the pipeline, stop and flush.

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

-- The route's answer; a path no route takes is a 404 (in the shape of its
-- service when the path is one of a service's).
function Sandbox:carry_out(req, route)
  if not route or not route.handler then return router.refusal(route, 404) end
  return router.run(self.sb, req, route)
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

-- The handler: a request carried out under the store's one commit
-- (store:carry: journaled when it wrote, undone when it raised), logged;
-- an error becomes a 500 in the shape of its service.
function Sandbox:handle(req)
  local t0, sb = self.log and os.clock(), self.sb
  sb:begin(os.time(), nil, {})
  local resp, route = self.store:carry(sb, req, self.respond_to)
  if not resp then
    io.stderr:write("cdnctl sandbox: ", sb:mask(tostring(route)), "\n")
    local found, service = router.find { uri = req.uri }
    route = found or (service and { service = service })
    resp = router.refusal(route, 500)
  end
  sb:finish()
  if self.log and not resp.later then self.log:write(sb, log.record(req, route, resp, t0), resp.durable ~= nil) end
  return resp
end

-- A journal's request carried out again (store:start's replay).
local function replay_one(sb, req)
  local route = router.find(req)
  if route and route.handler then router.run(sb, req, route) end
end

-- Saves the whole state (when there is a file) and closes the log.
-- -> true | nil, message
function Sandbox:stop()
  if self.log then self.log:close(); self.log = nil end
  local ok, err = self.store:stop(self.sb)
  if not ok then return nil, "cannot save the state: " .. err end
  return true
end

-- Makes the changes carried out since the last call durable (server.c
-- calls it after each round of requests, before their answers go out).
-- -> true | false, {[durable] = the 503 that replaces that answer}
function Sandbox:flush()
  local ok, err, answers = self.store:flush(self.sb, router.refusal)
  local n = self.log and self.log:release(self.sb, not ok) or 0
  if ok then return true end
  io.stderr:write("cdnctl sandbox: cannot save the state (", err, "): ", n > 0 and n or "the",
    " changes answered 503 and undone\n")
  return false, answers
end

-- new(config_text) -> handler, stop, flush, sb (the instance's state
-- object, for tests). Raises with one line when the configuration or the
-- state file is refused.
function M.new(config_text)
  local cfg = configure(config_text)
  collectgarbage("generational") -- every request makes short-lived tables only
  math.randomseed(math.tointeger(cfg.seed) or os.time())
  local saved, loaded = store.memory(), nil
  if cfg.state then
    saved, loaded = store.open(cfg.state, state.valid)
    if not saved then error("sandbox: " .. loaded, 0) end
  end
  local self = setmetatable({ sb = state.new(cfg, loaded), store = saved }, Sandbox)
  if cfg.state then
    local ok, err = saved:start(self.sb, function(req) replay_one(self.sb, req) end)
    if not ok then saved:close(); error("sandbox: " .. err, 0) end
  end
  self.log = log.open(cfg.log)
  self.pipeline = faults.wrap(cfg.faults, cfg.latency, cfg.late_ms,
    function(req, route) return self:carry_out(req, route) end, router.answer)
  self.respond_to = function(req) return self:respond(req) end
  return function(req) return self:handle(req) end,
         function() return self:stop() end,
         function() return self:flush() end,
         self.sb
end

return M
