-- cdnctl.sandbox.admin: the sandbox's own endpoints under /_sandbox/, for
-- tests and rehearsals (docs/sandbox.md, "For rehearsals and tests"). Not
-- part of either API: faults and latency leave them alone. Routes in
-- router.lua's shape; handlers take (sb, body) for a POST (the JSON
-- object) or (sb, segments...) for a GET, and return body[, status].

local json = require "cdnctl.json"
local codec = require "cdnctl.codec"
local state = require "cdnctl.sandbox.state"
local sp = require "cdnctl.sandbox.shortpixel"
local ez = require "cdnctl.sandbox.easyio"

local M = {}

local function refuse(message) return { error = message } end

-- The tables of the state named by a key, each record in its own copy.
local KEYED = { { "shortpixel", "users" }, { "easyio", "accounts" }, { "easyio", "sub_keys" } }

-- A key-named table renamed: each member by the key's fingerprint (the first
-- 16 hex digits of its SHA-256, as journals name a key: script.fingerprint),
-- each record with key = the key (masked with the rest of the text). Two
-- keys that end in the same four characters stay two members.
local function by_fingerprint(map)
  local out = {}
  for k, rec in pairs(map) do
    local copy = { key = k }
    for f, v in pairs(rec) do copy[f] = v end
    out[codec.sha256_hex(k):sub(1, 16)] = copy
  end
  return out
end

-- GET /_sandbox/state: the whole state, accounts and sub-keys named by
-- fingerprint, every key masked. The state itself is left as it is (plain
-- gives the live tables when there is no --state file).
local function show_state(sb)
  local st = sb:plain(sb.state)
  local view = {}
  for k, v in pairs(st) do view[k] = v end
  for _, service in ipairs { "shortpixel", "easyio" } do
    local copy = {}
    for k, v in pairs(st[service]) do copy[k] = v end
    view[service] = copy
  end
  for _, at in ipairs(KEYED) do view[at[1]][at[2]] = by_fingerprint(st[at[1]][at[2]]) end
  return sb:mask(json.encode(view))
end

-- POST /_sandbox/reset: back to the configured accounts and nothing else.
local function reset(sb)
  sb:reset()
  return { reset = true }
end

-- POST /_sandbox/clock {advance = seconds}: moves the sandbox's clock
-- (pending sites, "some time ago"), as long as it stays in 1970-9999.
local function clock(sb, body)
  local s = math.tointeger(body.advance)
  if not s then return refuse("advance: a whole number of seconds is needed"), 400 end
  local offset = (sb.state.clock_offset or 0) + s
  if s < -state.CLOCK_MAX or s > state.CLOCK_MAX or not state.clock_ok(offset) then
    return refuse("advance: the clock must stay between 1970 and 9999"), 400
  end
  sb.state.clock_offset = offset
  return { now = os.date("!%Y-%m-%dT%H:%M:%SZ", sb:now()) }
end

-- A whole number in [0, max] or nil (absent). -> value | nil, message
local function count_field(body, name, max)
  local v = body[name]
  if v == nil then return nil end
  local n = math.tointeger(v)
  if not n or n < 0 or n > max then return nil, name .. ": a whole number from 0 to " .. max .. " is needed" end
  return n
end

-- The counts /_sandbox/domain may set, each checked. -> {name = n} | nil, message
local function domain_counts(body)
  local v = {}
  for name, max in pairs { credits_quota = 2^53, credits_used = 2^53, exhausted_days = 36500 } do
    local n, e = count_field(body, name, math.tointeger(max))
    if e then return nil, e end
    v[name] = n
  end
  return v
end

-- POST /_sandbox/domain {domain, reachable, credits_used, credits_quota,
-- exhausted_days}: every field is checked before anything changes.
local function domain(sb, body)
  local d = type(body.domain) == "string" and sb.state.shortpixel.domains[body.domain]
  if not d then return refuse("domain: not in the sandbox"), 404 end
  if body.reachable ~= nil and type(body.reachable) ~= "boolean" then
    return refuse("reachable: true or false is needed"), 400
  end
  local v, e = domain_counts(body)
  if not v then return refuse(e), 400 end
  if body.reachable ~= nil then
    d.reachable = body.reachable
    sp.recount_unreachable(sb, d.owner)
  end
  local u = d.owner and sb.state.shortpixel.users[d.owner]
  if v.credits_quota and u then u.quota, u.quota_one_time = v.credits_quota, 0 end
  if v.credits_used then
    local n = v.credits_used
    if u then u.used, u.used_one_time = math.min(n, u.quota), math.max(0, n - u.quota) else d.free_used = n end
    local rec = u or d
    rec.exhausted_at = sb:now() - (v.exhausted_days or 0) * 86400
  end
  return { domain = body.domain, Status = sp.status_of(sb, d) }
end

-- GET /_sandbox/cdn/HOST/PATH: a CDN fetch of an image, to make usage grow.
-- HOST is a ShortPixel domain or an Easy IO alias. The size and the saving
-- are derived from the path, so the same fetch always counts the same.
local function cdn(sb, host, ...)
  local path = table.concat({ ... }, "/")
  if not host or path == "" then return refuse("use /_sandbox/cdn/HOST/PATH"), 404 end
  local h = 0
  for i = 1, #path do h = (h * 31 + path:byte(i)) % 2147483647 end
  local size = 20000 + h % 180000
  local saved = size * (30 + h % 50) // 100
  local d = sb.state.shortpixel.domains[host]
  if d then
    local credit = sp.serve(sb, d, path, size, saved * 100 >= size * 5)
    return { host = host, bytes = size, credit = credit }
  end
  local s = ez.site_by_alias(sb, host)
  if s then
    ez.serve(sb, s, size, saved)
    return { host = host, bytes = size - saved, saved = saved }
  end
  return refuse("no domain or site " .. host .. " in the sandbox"), 404
end

-- A POST's body: empty, or a JSON object. -> {body} | nil, 400, message
local function read(_, req)
  if req.method ~= "POST" then return req.args end
  if req.body == "" then return { {} } end
  local body = json.decode(req.body)
  if type(body) ~= "table" then return nil, 400, "the body must be a JSON object" end
  return { body }
end

-- The service shape (router.lua): {"error": message}; no faults, no latency.
M.service = {
  name = "admin",
  methods = { POST = true },
  say = { [404] = "unknown sandbox endpoint" },
  refuse = function(_, message) return refuse(message) end,
  read = read,
  faults = false,
}

local S, GET = M.service, { GET = true }
M.routes = {
  ["/_sandbox/state"] = { service = S, handler = show_state, methods = GET },
  ["/_sandbox/reset"] = { service = S, handler = reset },
  ["/_sandbox/clock"] = { service = S, handler = clock },
  ["/_sandbox/domain"] = { service = S, handler = domain },
  ["/_sandbox/cdn"] = { service = S, handler = cdn, methods = GET, args = { 0, math.huge } },
}

return M
