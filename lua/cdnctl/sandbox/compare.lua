-- cdnctl.sandbox.compare: `cdnctl sandbox --compare FILE.har`. Replays the
-- requests of a recording (cdnctl --har, from production) in order against
-- a fresh in-process sandbox and prints, per exchange, where the sandbox's
-- answer differs in shape from the recorded one, by the contract tests'
-- rule (cdnctl.shape: recorded = expected, the sandbox's = actual, extra
-- members reported too), and where the status code differs.
--
-- The positions the operation table (ops.lua) marks as a key ({key} in a
-- path template; key, api_key, sub_key in a query or a form) hold keys
-- whether or not they look masked: on the replay they become the demo keys
-- (as does any "****" path segment), and the report shows them masked
-- ("****" and the last 4), as --log does, and masks their values wherever
-- else they appear. Values the recording's answers created (sub-keys, site
-- ids, aliases) become the ones the replay's answers created. A recorded success that the sandbox refuses
-- is "state, not comparable" (it lacks what production had) and does not
-- count; recorded 429s, 5xx and transport failures are skipped.
-- Exit: 0 no shape differs, 1 one does, 2 the file is unreadable or not HAR.

local server = require "cdnctl.server"
local sched = require "cdnctl.sched"
local json = require "cdnctl.json"
local percent = require "cdnctl.percent"
local shape = require "cdnctl.shape"
local har = require "cdnctl.har"
local accounts = require "cdnctl.sandbox.accounts"
local redact = require "cdnctl.redact"
local ops = require "cdnctl.ops"

local M = {}

-- Answer members whose values the service chose: a replay's differ, and
-- later requests of the recording use the recorded ones.
M.CREATED = { id = true, site_id = true, alias = true, sub_key = true }
-- Request headers libcurl sets itself on the replay.
local OWN_HEADERS = { ["user-agent"] = true, host = true, ["content-length"] = true, expect = true,
                      ["accept-encoding"] = true, connection = true }

-- For each operation whose key travels in its path: the template's first
-- fixed segment (its name) -> how many segments after it the key is.
local function key_offsets()
  local at = {}
  for _, op in ipairs(ops.list) do
    local segs = {}
    for seg in op.path:gmatch("[^/]+") do segs[#segs + 1] = seg end
    local first, key
    for i = 2, #segs do -- segs[1] is the base URL ({sp})
      if not first and not segs[i]:find("^{") then first = i end
      if segs[i] == "{key}" then key = i end
    end
    if op.key_in == "path" and first and key then at[segs[first]] = key - first end
  end
  return at
end
M.KEY_OFFSETS = key_offsets()

-- M.key_segment(segs) -> which of a path's segments (decoded) is a key by
-- the operation table, or nil: the first segment that names an operation
-- with a key in its path, plus that key's offset (a base URL's own path in
-- front counts for nothing).
function M.key_segment(segs)
  for i, seg in ipairs(segs) do
    local off = M.KEY_OFFSETS[seg]
    if off then return segs[i + off] and i + off or nil end
  end
end

-- The path and query of a URL (what follows its host).
local function path_of(url)
  return url:match("^%a[%w+.-]*://[^/?#]*(.*)$") or url
end

-- The decoded segments of a path, and the raw ones.
local function segments(path)
  local raw, decoded = {}, {}
  for seg in path:gmatch("[^/]+") do
    raw[#raw + 1] = seg
    decoded[#decoded + 1] = percent.unescape(seg) or seg
  end
  return decoded, raw
end

-- The entries of a HAR file, or nil, message.
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local h = json.decode(text or "")
  local log = type(h) == "table" and h.log
  if type(log) ~= "table" or type(log.entries) ~= "table" or (next(log.entries) and #log.entries == 0) then
    return nil, path .. ": not a HAR file (no log.entries list)"
  end
  for i, e in ipairs(log.entries) do
    if type(e) ~= "table" or type(e.request) ~= "table" or type(e.response) ~= "table"
      or type(e.request.url) ~= "string" or math.type(e.response.status) ~= "integer" then
      return nil, path .. ": not a HAR file (entry " .. i .. " has no request url or response status)"
    end
  end
  return log.entries
end

-- A value of the recording as the replay must send it. A masked api_key is
-- the demo account, unless the recording showed it as a sub-key that the
-- replay did not create: then the demo sub-key (sub-keys see less).
local function replay_value(ctx, name, value)
  if ctx.map[value] then return ctx.map[value] end
  if value ~= "" and har.KEY_FIELDS[name] and name ~= "sub_key" then
    if name ~= "api_key" then return ctx.sp_key end
    if ctx.subkeys[value] and not ctx.accounts[value] then return ctx.ez_sub end
    return ctx.ez_key
  end
  return value
end

-- "a=1&b=2" with each value replaced as replay_value says.
local function replay_pairs(ctx, text)
  local out = {}
  for pair in (text .. "&"):gmatch("([^&]*)&") do
    if pair ~= "" then
      local rname, eq, rvalue = pair:match("^([^=]*)(=?)(.*)$")
      local name = percent.unescape(rname, true) or rname
      local value = percent.unescape(rvalue, true) or rvalue
      local new = replay_value(ctx, name, value)
      out[#out + 1] = rname .. eq .. (new == value and rvalue or percent.escape(new))
    end
  end
  return table.concat(out, "&")
end

-- The recorded URL on the sandbox: its path and query, keys and created
-- values replaced (a path's key segment, or any masked one, is a ShortPixel
-- key).
local function replay_url(ctx, url)
  local rest = path_of(url)
  local path, query = rest:match("^([^?#]*)%??([^#]*)")
  local key_at, n = M.key_segment((segments(path))), 0
  path = path:gsub("[^/]+", function(seg)
    n = n + 1
    local v = percent.unescape(seg) or seg
    if ctx.map[v] then return percent.escape(ctx.map[v]) end
    if n == key_at or v:find("^%*%*%*%*") then return ctx.sp_key end
  end)
  if query ~= "" then path = path .. "?" .. replay_pairs(ctx, query) end
  return ctx.base .. path, rest
end

local function replay_request(ctx, r)
  local headers, form = {}, false
  for _, h in ipairs(type(r.headers) == "table" and r.headers or {}) do
    if type(h.name) == "string" and type(h.value) == "string" and not OWN_HEADERS[h.name:lower()] then
      headers[#headers + 1] = h.name .. ": " .. h.value
      if h.name:lower() == "content-type" then form = h.value:find("x-www-form-urlencoded", 1, true) ~= nil end
    end
  end
  local body = type(r.postData) == "table" and har.content_text(r.postData) or nil
  if body and form then body = replay_pairs(ctx, body) end
  local url = replay_url(ctx, r.url)
  return { method = r.method, url = url, headers = headers, body = body, timeout = 30 }
end

-- Whether an answer is a success: 2xx, no Easy IO error member, no negative
-- ShortPixel Status (a number, or api-status's {Code}).
function M.success(status, body)
  if status < 200 or status >= 300 then return false end
  if type(body) ~= "table" then return true end
  if body.error ~= nil and body.error ~= json.null then return false end
  local st = body.Status
  if type(st) == "table" then st = st.Code end
  return not (tonumber(st) and tonumber(st) < 0)
end

local function refusal_message(status, body)
  if type(body) == "table" then
    local m = body.error or body.Message or (type(body.Status) == "table" and body.Status.Message)
    if type(m) == "string" then return m end
  end
  return "HTTP " .. status
end

-- Remember what the replay created in place of what the recording did.
local function learn(ctx, want, got)
  if type(want) ~= "table" or type(got) ~= "table" then return end
  for k in pairs(M.CREATED) do
    local w, g = want[k], got[k]
    if (type(w) == "string" or math.type(w) == "integer") and (type(g) == "string" or math.type(g) == "integer") then
      if tostring(w) ~= tostring(g) and not ctx.map[tostring(w)] then ctx.map[tostring(w)] = tostring(g) end
    end
  end
end

-- What the recording says about its masked keys: sub-keys its answers
-- named, accounts (keys that could list or create sub-keys).
local function learn_recorded(ctx, e, want)
  if type(want) ~= "table" then return end
  if type(want.sub_key) == "string" then ctx.subkeys[want.sub_key] = true end
  for _, k in ipairs(type(want.keys) == "table" and want.keys or {}) do
    if type(k) == "string" then ctx.subkeys[k] = true end
  end
  local form = type(e.request.postData) == "table" and har.content_text(e.request.postData)
  local key = form and (percent.parse_form(form) or {}).api_key
  if key and e.request.url:find("/api_key/", 1, true) and M.success(e.response.status, want) then
    ctx.accounts[key] = true
  end
end

-- Why a recorded exchange is not replayed, or nil.
local function skip_reason(e)
  local st = e.response.status
  if st == 0 or e.response._error then return "recorded transport failure" end
  if st == 429 or st >= 500 then return "recorded " .. st end
  local m = e.request.method
  if m ~= "GET" and m ~= "POST" then return "method " .. tostring(m) .. " is not replayed" end
end

-- Replay one exchange -> verdict ("same"|"differ"|"state"|"skip"), detail lines.
local function compare_one(ctx, e)
  local why = skip_reason(e)
  if why then return "skip", why end
  local resp, terr = sched.request(replay_request(ctx, e.request))
  if not resp then return "differ", { "the sandbox did not answer: " .. tostring(terr.message) } end
  local wtext = har.content_text(e.response.content) or ""
  local want, got = json.decode(wtext), json.decode(resp.body)
  local wst, gst = e.response.status, resp.status
  learn(ctx, want, got)
  learn_recorded(ctx, e, want)
  if M.success(wst, want) and not M.success(gst, got) then
    return "state", "state, not comparable (the fresh sandbox refused: " .. refusal_message(gst, got) .. ")"
  end
  local lines = {}
  if wst ~= gst then lines[#lines + 1] = ("status: %d recorded, %d from the sandbox"):format(wst, gst) end
  if want ~= nil and got ~= nil then
    for _, d in ipairs(shape.diff(want, got, { extra = true })) do lines[#lines + 1] = shape.describe(d) end
  elseif (want == nil) ~= (got == nil) then
    lines[#lines + 1] = want == nil and "answer: JSON from the sandbox, not JSON recorded"
      or "answer: JSON recorded, not JSON from the sandbox"
  end
  return #lines == 0 and "same" or "differ", lines
end

-- A key as the report shows it: "****" and its last 4 (a masked one as it is).
local function masked(v)
  if v:find("^%*%*%*%*") then return v end
  return redact.short(v)
end

-- "a=1&b=2" with the values of key fields masked.
local function masked_pairs(text)
  return (text:gsub("[^&]+", function(pair)
    local rname, eq, rvalue = pair:match("^([^=]*)(=?)(.*)$")
    local value = percent.unescape(rvalue, true) or rvalue
    if har.KEY_FIELDS[percent.unescape(rname, true) or rname] and value ~= "" then
      return rname .. eq .. masked(value)
    end
  end))
end

-- The recorded path and query as the report shows them: the path's key
-- segment and the query's key fields masked, by position.
local function shown_path(url)
  local path, q, query, rest = path_of(url):match("^([^?#]*)(%??)([^#]*)(.*)$")
  local key_at, n = M.key_segment((segments(path))), 0
  path = path:gsub("[^/]+", function(seg)
    n = n + 1
    if n == key_at then return masked(percent.unescape(seg) or seg) end
  end)
  local shown = path .. q .. masked_pairs(query) .. rest
  return shown ~= "" and shown or "/"
end

-- The values at a recorded request's key positions that are not masked
-- (its path's key segment, key fields in its query or its body), added to
-- the set keys: the report masks them wherever they appear.
local function recorded_keys(e, keys)
  local path, query = path_of(e.request.url):match("^([^?#]*)%??([^#]*)")
  local decoded = segments(path)
  local at = M.key_segment(decoded)
  local found = { at and decoded[at] }
  local body = type(e.request.postData) == "table" and har.content_text(e.request.postData) or ""
  for _, text in ipairs { query, body } do
    for rname, rvalue in (text .. "&"):gmatch("([^&=]*)=([^&]*)&") do
      if har.KEY_FIELDS[percent.unescape(rname, true) or rname] then
        found[#found + 1] = percent.unescape(rvalue, true) or rvalue
      end
    end
  end
  for _, k in ipairs(found) do
    if #k >= 4 and not k:find("^%*%*%*%*") then keys[k] = true end
  end
end

-- A line with the replay's own values (its sub-keys in a map's path) shown
-- as the recording's, and the demo keys and the recording's keys masked.
local function as_recorded(ctx, line)
  for rec, rep in pairs(ctx.map) do
    line = line:gsub(rep:gsub("%W", "%%%0"), (rec:gsub("%%", "%%%%")))
  end
  for _, k in ipairs({ ctx.sp_key, ctx.ez_key, ctx.ez_sub }) do line = redact.mask(line, k) end
  for k in pairs(ctx.keys) do line = redact.mask(line, k) end
  return line
end

local function report(ctx, i, e, verdict, detail)
  local head = ("#%d %s %s: "):format(i, tostring(e.request.method), shown_path(e.request.url))
  if verdict == "same" then
    io.stdout:write(head, "same shape\n")
  elseif verdict == "differ" then
    io.stdout:write(head, #detail, #detail == 1 and " difference\n" or " differences\n")
    for _, l in ipairs(detail) do io.stdout:write("  ", as_recorded(ctx, l), "\n") end
  elseif verdict == "state" then
    io.stdout:write(head, as_recorded(ctx, detail), "\n")
  else
    io.stdout:write(head, "skipped (", detail, ")\n")
  end
end

-- M.main(cfg): cfg as cli.parse gives it, with cfg.compare the file.
function M.main(cfg)
  local entries, err = M.load(cfg.compare)
  if not entries then
    io.stderr:write("cdnctl sandbox: --compare: ", tostring(err), "\n")
    return 2
  end
  local opts = {}
  for k, v in pairs(cfg) do if k ~= "compare" and k ~= "state" then opts[k] = v end end
  opts.pending = opts.pending or 0 -- a replay runs in seconds what production ran in minutes
  local srv, serr = server.start { host = "127.0.0.1", port = 0, config = json.encode(opts) }
  if not srv then
    io.stderr:write("cdnctl sandbox: ", tostring(serr), "\n")
    return 1
  end
  local ez = accounts.demo.easyio[1]
  local ctx = { base = "http://127.0.0.1:" .. srv:port(), map = {}, subkeys = {}, accounts = {},
                sp_key = accounts.demo.shortpixel[1].key, ez_key = ez.key, ez_sub = ez.sub_keys[1], keys = {} }
  for _, e in ipairs(entries) do recorded_keys(e, ctx.keys) end
  local count = { same = 0, differ = 0, state = 0, skip = 0 }
  for i, e in ipairs(entries) do
    local verdict, detail = compare_one(ctx, e)
    count[verdict] = count[verdict] + 1
    report(ctx, i, e, verdict, detail)
  end
  srv:stop()
  io.stdout:write(("%d exchanges: %d same shape, %d differ, %d state (not comparable), %d skipped\n")
    :format(#entries, count.same, count.differ, count.state, count.skip))
  return count.differ > 0 and 1 or 0
end

return M
