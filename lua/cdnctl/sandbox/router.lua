-- cdnctl.sandbox.router: one router over the routes of both APIs and of
-- /_sandbox/, all in one shape. A route sits in its rule module's `routes`
-- table (shortpixel.lua, easyio.lua, admin.lua), keyed by its path of one
-- or two segments ("/add-domain", "/exactdn/show.php", "/_sandbox/clock"):
--   service  how its service reads requests and refuses them (below)
--   handler  function(sb, ...) -> body [, status]: body a table (sent as
--            JSON) or a JSON text, status 200 unless given; nil: a 404
--   args     {min, max}: how many path segments after the route's own it
--            takes, passed to read (default {0, 0})
--   methods  the methods it takes, when not its service's ({GET = true})
--   read, refuse   the route's own, when not its service's (api-status)
--   key_at   which argument is a key (masked in the log)
--   key      false: no api_key needed (Easy IO's savings.php)
-- A service: {name, methods, say = {[status] = message}, refuse(status,
-- message) -> body, read(sb, req, route) -> handler arguments (a list, n
-- when it holds nils) | nil, status, message, faults = false (no faults
-- or latency: /_sandbox/)}. read may set req.fields (what the log shows).
-- A request is answered in the shape of the service its path belongs to,
-- refusals included (limits, 404, 405, 500, 503).

local json = require "cdnctl.json"
local percent = require "cdnctl.percent"
local sp = require "cdnctl.sandbox.shortpixel"
local ez = require "cdnctl.sandbox.easyio"
local admin = require "cdnctl.sandbox.admin"

local M = {}

local JSON_HEADERS = { ["Content-Type"] = "application/json" } -- shared: server.c only reads it

-- An answer as server.c takes it: {status, body, headers}; a table body
-- in PHP's style (json.encode_php: '/' escaped), as the services write it.
function M.answer(status, body, extra)
  local h = JSON_HEADERS
  if extra then
    h = { ["Content-Type"] = "application/json" }
    for k, v in pairs(extra) do h[k] = v end
  end
  return { status = status, body = type(body) == "string" and body or json.encode_php(body), headers = h }
end

-- Messages of refusals outside any service, and a service's defaults.
local GENERIC = { [400] = "bad request", [404] = "not found", [413] = "request body too large",
                  [431] = "request head too large", [500] = "sandbox internal error" }
-- server.c's limits (req.limit) and their HTTP status.
M.LIMITS = { body = 413, head = 431 }

-- The lookup: first segment -> {route = one-segment route, sub = {second
-- segment -> route}, service = the service its paths belong to}.
local INDEX = {}
for _, rules in ipairs { sp.routes, ez.routes, admin.routes } do
  for path, route in pairs(rules) do
    local a, b = path:match("^/([^/]+)/?([^/]*)$")
    local e = INDEX[a] or { sub = {}, service = route.service }
    INDEX[a] = e
    if b == "" then e.route = route else e.sub[b] = route end
  end
end

-- Splits "/a/b%2Fc?x=1" into decoded segments, the raw query and the path.
-- -> segments, query, path | nil, message
function M.split(uri)
  local path, query = uri:match("^([^?]*)%??(.*)$")
  local segs = {}
  for raw in path:gmatch("[^/]+") do
    local s = raw
    if raw:find("%", 1, true) then
      local e
      s, e = percent.unescape(raw)
      if not s then return nil, "bad percent-encoding in the path: " .. e end
    end
    if s:find("[\128-\255]") and not utf8.len(s) then return nil, "the path is not UTF-8" end
    segs[#segs + 1] = s
  end
  return segs, query, path
end

-- The route of a request: sets req.segs, req.query, req.path and req.args
-- (the segments after the route's own, with n). -> route | nil, service
-- (a path of that service's that no route takes) | nil, nil, malformed
function M.find(req)
  local segs, query, path = M.split(req.uri or "")
  if not segs then return nil, nil, query end
  req.segs, req.query, req.path = segs, query, path
  local e = INDEX[segs[1]]
  if not e then return nil end
  local route, from = e.sub[segs[2] or ""], 3
  if not route then route, from = e.route, 2 end
  if not route then return nil, e.service end
  local args = { n = math.max(0, #segs - from + 1) }
  for i = from, #segs do args[i - from + 1] = segs[i] end
  req.args = args
  return route
end

-- A refusal in the shape of the route's service (route may be {service =
-- S} alone, or nil: then {"error": message}).
function M.refusal(route, status, message)
  if not route then return M.answer(status, { error = message or GENERIC[status] }) end
  local svc = route.service
  if not message and status == 405 and not svc.say[405] then
    local only = {}
    for m in pairs(route.methods or svc.methods) do only[#only + 1] = m end
    table.sort(only)
    message = table.concat(only, " or ") .. " only"
  end
  message = message or svc.say[status] or GENERIC[status]
  return M.answer(status, (route.refuse or svc.refuse)(status, message))
end

local NO_ARGS = { 0, 0 }

-- Carries a request out on its route: method, arguments, the service's (or
-- the route's) reading, the handler; the body it returns may hold the
-- state's own tables (sb:plain copies them out). -> answer
function M.run(sb, req, route)
  local svc = route.service
  if not (route.methods or svc.methods)[req.method] then return M.refusal(route, 405) end
  local n, range = req.args.n, route.args or NO_ARGS
  if n < range[1] or n > range[2] then return M.refusal(route, 404) end
  local args, status, message = (route.read or svc.read)(sb, req, route)
  if not args then return M.refusal(route, status, message) end
  local body, code = route.handler(sb, table.unpack(args, 1, args.n or #args))
  if body == nil then return M.refusal(route, 404) end
  return M.answer(code or 200, type(body) == "table" and sb:plain(body) or body)
end

return M
