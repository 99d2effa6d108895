-- cdnctl.sandbox: the offline emulator of both APIs. server.c calls
-- new(config_json) once, on the server's own thread and Lua state, and then
-- the returned handler once per complete request:
--   handler{method, uri, body, headers} -> {status, body, headers, delay, drop}
-- This file does what is not an API rule: routing, the state and its file,
-- the admin endpoints (/_sandbox/...), the log, latency and faults. The
-- rules themselves are in shortpixel.lua and easyio.lua.

local json = require "cdnctl.json"
local codec = require "cdnctl.codec"
local redact = require "cdnctl.redact"
local accounts = require "cdnctl.sandbox.accounts"
local store = require "cdnctl.sandbox.store"
local sp = require "cdnctl.sandbox.shortpixel"
local ez = require "cdnctl.sandbox.easyio"

local M = {}

M.DEFAULT_PENDING = 300     -- seconds a new Easy IO site stays pending (EWWW: "5-10 minutes")
M.STATE_VERSION = 1

local JSON_HEADERS = { ["Content-Type"] = "application/json" } -- shared: server.c only reads it

local function answer(status, body, extra)
  local h = JSON_HEADERS
  if extra then
    h = { ["Content-Type"] = "application/json" }
    for k, v in pairs(extra) do h[k] = v end
  end
  return { status = status, body = type(body) == "string" and body or json.encode(body), headers = h }
end

-- A fresh state with the configured accounts (demo ones first).
local function fresh_state(cfg)
  local st = {
    version = M.STATE_VERSION, clock_offset = 0,
    shortpixel = { users = {}, domains = {} },
    easyio = { accounts = {}, sub_keys = {}, sites = {}, next_site_id = 16 }, -- the page's examples use ids 16-18
  }
  for _, a in ipairs(cfg.accounts.shortpixel) do st.shortpixel.users[a.key] = sp.new_user(a.email) end
  for _, a in ipairs(cfg.accounts.easyio) do
    st.easyio.accounts[a.key] = ez.new_account(a.licensed)
    for i, sub in ipairs(a.sub_keys or {}) do
      local sk = ez.new_sub_key(a.key)
      sk.label, sk.allowed, sk.site_limit, sk.created = "demo client", 2000, 2, i
      st.easyio.sub_keys[sub] = sk
    end
  end
  return st
end

-- Accounts named in the configuration that a loaded state lacks are added.
local function ensure_accounts(st, cfg)
  local base = fresh_state(cfg)
  for k, u in pairs(base.shortpixel.users) do st.shortpixel.users[k] = st.shortpixel.users[k] or u end
  for k, a in pairs(base.easyio.accounts) do st.easyio.accounts[k] = st.easyio.accounts[k] or a end
  for k, s in pairs(base.easyio.sub_keys) do
    if not st.easyio.sub_keys[k] and st.easyio.accounts[s.parent] then st.easyio.sub_keys[k] = s end
  end
end

-- The sandbox's clock stays where os.date can show it: 1970 to 9999.
M.CLOCK_MAX = 253402300799

-- Whether a clock offset keeps the sandbox's time in range.
local function clock_ok(offset)
  local t = math.tointeger(offset) and os.time() + offset
  return t ~= nil and t >= 0 and t <= M.CLOCK_MAX
end

-- -> true | nil, why
local function valid_state(st)
  local shaped = type(st) == "table" and st.version == M.STATE_VERSION and type(st.shortpixel) == "table"
    and type(st.shortpixel.users) == "table" and type(st.shortpixel.domains) == "table"
    and type(st.easyio) == "table" and type(st.easyio.accounts) == "table"
    and type(st.easyio.sub_keys) == "table" and type(st.easyio.sites) == "table"
    and math.type(st.easyio.next_site_id) == "integer"
  if not shaped then return nil, "wrong shape or version" end
  if not clock_ok(st.clock_offset or 0) then return nil, "its clock_offset puts the clock outside 1970-9999" end
  return true
end

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

-- Masks every key the sandbox knows (accounts, sub-keys) in a text.
local function mask_known(st, text)
  local keys = {}
  for k in pairs(st.shortpixel.users) do keys[#keys + 1] = k end
  for k in pairs(st.easyio.accounts) do keys[#keys + 1] = k end
  for k in pairs(st.easyio.sub_keys) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return #a > #b end)
  for _, k in ipairs(keys) do
    if #k >= 4 then text = redact.mask(text, k) end
  end
  return text
end

-- Splits "/a/b%2Fc?x=1" into decoded segments and the raw query.
local function split_uri(uri)
  local path, query = uri:match("^([^?]*)%??(.*)$")
  local segs = {}
  for raw in path:gmatch("[^/]+") do
    local s = raw
    if raw:find("%", 1, true) then
      local e
      s, e = codec.unescape(raw)
      if not s then return nil, "bad percent-encoding in the path: " .. e end
    end
    if s:find("[\128-\255]") and not utf8.len(s) then return nil, "the path is not UTF-8" end
    segs[#segs + 1] = s
  end
  return segs, query, path
end

-- The fields of a multipart/form-data body (what PHP's curl sends for an
-- array of POST fields: ShortPixel's SDK asks api-status this way).
-- -> {name = value} | nil, message
local function parse_multipart(body, ctype)
  local boundary = ctype:match('boundary="([^"]+)"') or ctype:match("boundary=([^;%s]+)")
  if not boundary then return nil, "multipart body without a boundary" end
  local fields, delim = {}, "--" .. boundary
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "multipart body without its boundary" end
  while true do
    pos = pos + #delim
    if body:sub(pos, pos + 1) == "--" then return fields end
    local head_end = body:find("\r\n\r\n", pos, true)
    local next_delim = body:find("\r\n" .. delim, pos, true)
    if not head_end or not next_delim or head_end > next_delim then return nil, "malformed multipart body" end
    local name = body:sub(pos, head_end):match('[Cc]ontent%-[Dd]isposition:[^\r\n]-name="([^"]*)"')
    if name then fields[name] = body:sub(head_end + 4, next_delim - 1) end
    pos = next_delim + 2
  end
end

-- api-status's key: from a form or multipart body (as ShortPixel's own
-- clients send it), else from the query (their fallback).
-- -> key | nil, nil (none) | nil, message (malformed)
local function status_key(req, query)
  local ctype = (req.headers["content-type"] or ""):lower()
  local form, e
  if req.method == "POST" and ctype:find("multipart/form-data", 1, true) then
    form, e = parse_multipart(req.body, req.headers["content-type"])
  elseif req.method == "POST" and req.body ~= "" then
    form, e = codec.parse_form(req.body)
  end
  if e then return nil, e end
  if not (form and form.key) then
    form, e = codec.parse_form(query or "")
    if not form then return nil, e end
  end
  if form.key and not utf8.len(form.key) then return nil, "the key is not UTF-8" end
  return form.key
end

function M.new(config_text)
  local cfg = configure(config_text)
  collectgarbage("generational") -- every request makes short-lived tables only
  local rng_seed = math.tointeger(cfg.seed) or os.time()
  math.randomseed(rng_seed)

  local sb = { pending = cfg.pending }
  local dirty = false
  -- A request's wall time and the names it drew: what the journal records
  -- beside the request so that replaying it does exactly the same.
  local wall, drawn, replaying

  -- The state: from the file (snapshot and journal) when there is one, else fresh.
  local saved, st, entries
  if cfg.state then
    saved, st, entries = store.open(cfg.state, valid_state)
    if not saved then error("sandbox: " .. st, 0) end
  end
  st = st or fresh_state(cfg)
  ensure_accounts(st, cfg)
  sb.state = st

  function sb.now() return (wall or os.time()) + (sb.state.clock_offset or 0) end
  function sb.today(delta_days)
    return os.date("!%Y-%m-%d", sb.now() + (delta_days or 0) * 86400)
  end
  function sb.changed() dirty = true end
  function sb.random_name(n)
    if replaying then return table.remove(replaying, 1) or "" end
    local abc = "abcdefghijklmnopqrstuvwxyz0123456789"
    local t = {}
    for i = 1, n do
      local c = math.random(1, #abc)
      t[i] = abc:sub(c, c)
    end
    local name = table.concat(t)
    if drawn then drawn[#drawn + 1] = name end
    return name
  end

  local logf
  if cfg.log then
    local err
    logf, err = io.open(cfg.log, "a")
    if not logf then error("sandbox: cannot open the log: " .. tostring(err), 0) end
    logf:setvbuf("line")
  end

  -- Faults: one draw per API request, from the seeded generator.
  local function draw_fault()
    if #cfg.faults == 0 then return nil end
    local r, acc = math.random(), 0
    for _, f in ipairs(cfg.faults) do
      acc = acc + f.p
      if r < acc then return f.kind end
    end
  end
  local function draw_delay()
    local lat = cfg.latency
    if not lat then return nil end
    local ms = lat.min == lat.max and lat.min or lat.min + math.random() * (lat.max - lat.min)
    return ms / 1000
  end

  -- Admin endpoints: not part of either API; for tests and rehearsals.
  local admin = {}
  function admin.state()
    return answer(200, mask_known(sb.state, json.encode(sb.state)))
  end
  function admin.reset()
    sb.state = fresh_state(cfg)
    sb.changed()
    return answer(200, { reset = true })
  end
  -- {advance = seconds}: moves the sandbox's clock (pending sites, "some
  -- time ago"), as long as it stays between 1970 and 9999.
  function admin.clock(_, body)
    local s = math.tointeger(body.advance)
    if not s then return answer(400, { error = "advance: a whole number of seconds is needed" }) end
    local offset = (sb.state.clock_offset or 0) + s
    if s < -M.CLOCK_MAX or s > M.CLOCK_MAX or not clock_ok(offset) then
      return answer(400, { error = "advance: the clock must stay between 1970 and 9999" })
    end
    sb.state.clock_offset = offset
    sb.changed()
    return answer(200, { now = os.date("!%Y-%m-%dT%H:%M:%SZ", sb.now()) })
  end

  -- A whole number in [0, max] or nil (absent). -> value | nil, message
  local function count_field(body, name, max)
    local v = body[name]
    if v == nil then return nil end
    local n = math.tointeger(v)
    if not n or n < 0 or n > max then return nil, name .. ": a whole number from 0 to " .. max .. " is needed" end
    return n
  end

  -- {domain =, reachable =, credits_used =, credits_quota =, exhausted_days =}:
  -- every field is checked before anything changes.
  function admin.domain(_, body)
    local d = type(body.domain) == "string" and sb.state.shortpixel.domains[body.domain]
    if not d then return answer(404, { error = "domain: not in the sandbox" }) end
    if body.reachable ~= nil and type(body.reachable) ~= "boolean" then
      return answer(400, { error = "reachable: true or false is needed" })
    end
    local v = {}
    for name, max in pairs { credits_quota = 2^53, credits_used = 2^53, exhausted_days = 36500 } do
      local n, e = count_field(body, name, math.tointeger(max))
      if e then return answer(400, { error = e }) end
      v[name] = n
    end
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
      rec.exhausted_at = sb.now() - (v.exhausted_days or 0) * 86400
    end
    sb.changed()
    return answer(200, { domain = body.domain, Status = sp.status_of(sb, d) })
  end
  -- GET /_sandbox/cdn/HOST/PATH: a CDN fetch of an image, to make usage grow.
  -- HOST is a ShortPixel domain or an Easy IO alias. The size and the saving
  -- are derived from the path, so the same fetch always counts the same.
  function admin.cdn(_, segs)
    local host, path = segs[3], table.concat(segs, "/", 4)
    if not host or path == "" then return answer(404, { error = "use /_sandbox/cdn/HOST/PATH" }) end
    local h = 0
    for i = 1, #path do h = (h * 31 + path:byte(i)) % 2147483647 end
    local size = 20000 + h % 180000
    local saved = size * (30 + h % 50) // 100
    local d = sb.state.shortpixel.domains[host]
    if d then
      local credit = sp.serve(sb, d, path, size, saved * 100 >= size * 5)
      return answer(200, { host = host, bytes = size, credit = credit })
    end
    local s = ez.site_by_alias(sb, host)
    if s then
      ez.serve(sb, s, size, saved)
      return answer(200, { host = host, bytes = size - saved, saved = saved })
    end
    return answer(404, { error = "no domain or site " .. host .. " in the sandbox" })
  end

  local function route_admin(req, segs)
    local name = segs[2]
    if name == "cdn" then
      if req.method ~= "GET" then return answer(405, { error = "GET only" }) end
      return admin.cdn(req, segs)
    end
    local fn = name and admin[name]
    if not fn or #segs ~= 2 then return answer(404, { error = "unknown sandbox endpoint" }) end
    if name == "state" then
      if req.method ~= "GET" then return answer(405, { error = "GET only" }) end
      return fn(req)
    end
    if req.method ~= "POST" then return answer(405, { error = "POST only" }) end
    local body = {}
    if req.body ~= "" then
      body = json.decode(req.body)
      if type(body) ~= "table" then return answer(400, { error = "the body must be a JSON object" }) end
    end
    return fn(req, body)
  end

  -- ShortPixel: path segments are the arguments. -> answer, what to log as
  -- the path (a string, or the route, whose key segment log_path masks only
  -- when there is a log: no work on the hot path without one)
  local function route_shortpixel(req, segs, query, path)
    local status_path = path == "/v2/api-status.php"
    local r = sp.routes[segs[1]]
    if not status_path and not r then return nil end
    if req.method ~= "GET" and req.method ~= "POST" and req.method ~= "HEAD" then
      return answer(405, { Status = -405, Message = "Method not allowed." }), status_path and path or r
    end
    if status_path then
      local key, e = status_key(req, query)
      if e then return answer(400, { Status = { Code = "-400", Message = e } }) end
      return answer(200, sp.api_status(sb, key)), "/v2/api-status.php"
    end
    local nargs = #segs - 1
    local body = nargs >= r.min and nargs <= r.max and r.handler(sb, table.unpack(segs, 2))
    if not body then return answer(404, { Status = -404, Message = "Not found." }), r end
    return answer(200, body), r
  end

  -- Easy IO: POST, a user-agent, form data, an api_key.
  local function route_easyio(req, path)
    local r = ez.routes[path]
    if not r then return nil end
    if req.method ~= "POST" then return answer(405, ez.err("requests must use the POST method")) end
    if (req.headers["user-agent"] or "") == "" then return answer(400, ez.err("a user-agent is required")) end
    local ctype = (req.headers["content-type"] or ""):lower()
    if req.body ~= "" and not ctype:find("application/x-www-form-urlencoded", 1, true) then
      return answer(415, ez.err("the body must be application/x-www-form-urlencoded"))
    end
    local form, e = codec.parse_form(req.body)
    if not form then return answer(400, ez.err("malformed form body: " .. e)) end
    for k, v in pairs(form) do
      if not utf8.len(k) or not utf8.len(v) then return answer(400, ez.err("the form body is not UTF-8")) end
    end
    local who
    if r.key ~= false then
      if form.api_key == nil or form.api_key == "" then return answer(200, ez.err(ez.ERR.no_key)), form end
      who = ez.who(sb, form.api_key)
      if not who then return answer(200, ez.err(ez.ERR.bad_key)), form end
    end
    return answer(200, r.handler(sb, who, form)), form
  end

  -- The path as logged: a ShortPixel route's key segment masked.
  local function log_path(path, segs)
    if type(path) == "string" then return path end
    local masked = {}
    for i, s in ipairs(segs) do masked[i] = (i - 1 == path.key_at) and redact.short(s) or s end
    return "/" .. table.concat(masked, "/")
  end

  local pending_logs = {} -- log lines of changes not yet in the journal
  local function log(req, path, form, resp, fault, t0, segs)
    if not logf then return end
    path = log_path(path, segs)
    local fields
    if type(form) == "table" then
      fields = {}
      for k, v in pairs(form) do
        fields[k] = (k == "api_key" or k == "sub_key" or k == "key") and redact.short(v) or v
      end
    end
    local rec = {
      time = os.date("!%Y-%m-%dT%H:%M:%SZ"), method = req.method, path = path, fields = fields,
      status = resp and resp.status, fault = fault, ms = t0 and math.floor((os.clock() - t0) * 1e6) / 1000,
    }
    -- a change's line waits for flush(): its status is known once the journal holds it
    if resp and resp.durable then pending_logs[#pending_logs + 1] = rec; return end
    logf:write(mask_known(sb.state, json.encode(rec)), "\n")
  end

  -- Carries a request out against the state (live, or replayed from the
  -- journal). -> answer | nil, what to log as the path, the Easy IO form
  local function carry_out(req, segs, query, path)
    if segs[1] == "_sandbox" then return route_admin(req, segs), path end
    local resp, logged = route_shortpixel(req, segs, query, path)
    if resp and logged == nil then logged = path end -- the query (a key) left out
    if resp then return resp, logged end
    local form
    resp, form = route_easyio(req, path)
    return resp, path, form
  end

  -- A change is answered only once the journal holds it: its entry is
  -- queued and its answer marked durable; server.c holds the answer back
  -- until flush() below has written the queue (several changes, one sync).
  -- failed: the request raised half-way (answered 500); its entry is kept so
  -- that a replay changes what it changed, and replay ignores its error.
  local function commit(req, resp, failed)
    if not dirty then return resp end
    dirty = false
    if not saved then return resp end
    saved:queue {
      t = wall, m = req.method, u = store.pack(req.uri), b = store.pack(req.body),
      h = { ["content-type"] = req.headers["content-type"], ["user-agent"] = req.headers["user-agent"] },
      r = drawn[1] and drawn or nil, x = failed or nil,
    }
    resp.durable = true
    return resp
  end

  local function handle(req)
    local t0 = logf and os.clock()
    wall, drawn, dirty = os.time(), saved and {}, false
    local segs, query, path = split_uri(req.uri or "")
    if not segs then
      local resp = answer(400, { error = query })
      log(req, "(malformed)", nil, resp, nil, t0)
      return resp
    end
    if segs[1] == "_sandbox" then
      local resp = commit(req, carry_out(req, segs, query, path))
      log(req, path, nil, resp, nil, t0)
      return resp
    end
    local fault = draw_fault()
    local delay = draw_delay()
    if fault == "reset" then
      log(req, "(reset before handling)", nil, nil, fault, t0)
      return { drop = true, delay = delay }
    elseif fault and fault ~= "lost" then
      local code = math.tointeger(tonumber(fault)) or 500
      local resp = answer(code, { error = "sandbox fault: HTTP " .. code },
        code == 429 and { ["Retry-After"] = "1" } or nil)
      resp.delay = delay
      log(req, "(fault " .. code .. ")", nil, resp, fault, t0)
      return resp
    end
    local resp, logged, form = carry_out(req, segs, query, path)
    if not resp then
      resp = answer(404, { error = "not found" })
      logged = "(unknown path)"
    end
    resp = commit(req, resp)
    resp.delay = delay
    if fault == "lost" then resp.drop = true end -- carried out, then the answer is lost
    log(req, logged, form, resp, fault, t0, segs)
    return resp
  end

  local function handler(req)
    local ok, resp = pcall(handle, req)
    if not ok then
      io.stderr:write("cdnctl sandbox: ", mask_known(sb.state, tostring(resp)), "\n")
      resp = commit(req, answer(500, { error = "sandbox internal error" }), true)
    end
    wall, drawn = nil, nil
    return resp
  end

  -- The journal's entries since the snapshot, carried out again in order
  -- with their recorded time and names; then the state is compacted. Any
  -- failure refuses to start: what was acknowledged must be there.
  local function replay()
    for i, e in ipairs(entries) do
      local req = { method = e.m, uri = store.unpack(e.u) or "", body = store.unpack(e.b) or "",
                    headers = type(e.h) == "table" and e.h or {} }
      wall, replaying = math.tointeger(e.t), type(e.r) == "table" and e.r or {}
      local segs, query, path = split_uri(req.uri)
      local ok, err = pcall(function() if segs then carry_out(req, segs, query, path) end end)
      wall, replaying, dirty = nil, nil, false
      if not ok and not e.x then
        error("sandbox: state journal " .. saved.jpath .. ": entry " .. i .. " cannot be replayed: "
          .. mask_known(sb.state, tostring(err)), 0)
      end
    end
    local ok, err = saved:start(sb.state)
    if not ok then error("sandbox: cannot write the state: " .. err, 0) end
  end
  if saved then replay() end

  -- Saves the whole state (when there is a file) and closes the log.
  -- -> true | nil, message
  local function stop()
    if logf then logf:close(); logf = nil end
    if not saved then return true end
    local ok, err = saved:stop(sb.state)
    if not ok then return nil, "cannot save the state: " .. err end
    return true
  end

  -- Writes the changes queued since the last call (server.c calls it after
  -- each round of requests, before their answers go out). -> true | false,
  -- the body of the 503 that replaces their answers (the failure logged)
  local function flush()
    local ok, err = true, nil
    if saved then ok, err = saved:flush() end
    if not ok then
      io.stderr:write("cdnctl sandbox: cannot save the state (", err, "): ", #pending_logs > 0 and #pending_logs or "the",
        " changes answered 503\n")
    end
    for _, rec in ipairs(logf and pending_logs or {}) do
      if not ok then rec.status = 503 end
      logf:write(mask_known(sb.state, json.encode(rec)), "\n")
    end
    pending_logs = {}
    if ok then return true end
    return false, json.encode { error = "sandbox: the change could not be saved: " .. err }
  end

  return handler, stop, flush
end

-- Parses "--faults 500:0.05,429:0.02,reset:0.01,lost:0.01" -> list | nil, message
function M.parse_faults(spec)
  local out, total = {}, 0
  for item in (spec .. ","):gmatch("([^,]*),") do
    local kind, p = item:match("^%s*([%w]+):([%d.]+)%s*$")
    p = tonumber(p)
    if not kind or not p then return nil, "--faults: '" .. item .. "' is not KIND:PROBABILITY" end
    if not (kind == "reset" or kind == "lost" or (kind:match("^%d%d%d$") and tonumber(kind) >= 400)) then
      return nil, "--faults: unknown fault '" .. kind .. "' (an HTTP status 4xx/5xx, reset or lost)"
    end
    if p < 0 or p > 1 then return nil, "--faults: probability of " .. kind .. " must be between 0 and 1" end
    total = total + p
    out[#out + 1] = { kind = kind, p = p }
  end
  if total > 1 then return nil, "--faults: probabilities add up to more than 1" end
  return out
end

-- Parses "--latency 20" or "10-40" (milliseconds) -> {min, max} | nil, message
function M.parse_latency(spec)
  local a, b = spec:match("^(%d+)%-(%d+)$")
  if not a then a = spec:match("^(%d+)$"); b = a end
  a, b = tonumber(a), tonumber(b)
  if not a or a > b or b > 600000 then return nil, "--latency: MS or MIN-MAX in milliseconds (0..600000) expected" end
  return { min = a, max = b }
end

return M
