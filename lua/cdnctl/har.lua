-- cdnctl.har: `--har FILE` (or CDNCTL_HAR=FILE). Records every HTTP exchange
-- of a run, each attempt included, as HAR 1.2 (the HTTP Archive format of
-- browsers' developer tools), with every key masked: the registered ones
-- (cdnctl.redact), the call's own, the api_key/key/sub_key form and query
-- fields, and the Easy IO sub-keys that answers hand out or list, all shown
-- as "****" plus at most their last four characters.
--
-- The file is kept a complete HAR after every exchange: a regular file gets
-- each entry followed by the closing trailer, and the next entry is written
-- over that trailer (the file only grows, so a kill -9 leaves a valid file
-- up to the last exchange). A stream (/dev/stdout, a FIFO) cannot seek: its
-- entries are written as they come and the trailer at M.close(); a stream
-- cut short is repaired by appending "]}}".
--
-- A recorder (M.open) belongs to the run's settings value (settings.har,
-- set by the front end at start): client.lua calls M.record(s.har, ...)
-- after each attempt, a no-op when nothing is recording (nil) or the
-- recording has stopped. The module itself keeps nothing.

local json = require "cdnctl.json"
local redact = require "cdnctl.redact"
local percent = require "cdnctl.percent"
local fs = require "cdnctl.fs"
local host = require "cdnctl.host"

local M = {}

M.TRAILER = '\n],"pages":[],"version":"1.2"}}\n'
-- Fields (form or query) that carry a key, whatever their value looks like.
M.KEY_FIELDS = { api_key = true, key = true, sub_key = true }

-- A recorder: {out (the checked cdnctl.Output), file (nil until the first
-- exchange), kind = "file"|"stream", path, pos (where the trailer starts),
-- n (entries written), done (closed, abandoned or stopped)}.

-- M.open(path) -> recorder | nil, message. Checks path by the output rules
-- (fs.check_output, mode 0600 for every file: a HAR shows what was sent),
-- before any work: a directory, socket, block device, a FIFO nobody reads
-- or a missing folder is refused here. Nothing is written yet: the file is
-- replaced by an empty HAR at the first exchange (or at M.close), so that
-- the scripts can first refuse a --har that is their input or one of their
-- outputs (script.outputs asks M.output()).
function M.open(path)
  if path == "-" then path = "/dev/stdout" end -- `-` is standard output, as for every output
  local out, err = fs.check_output(path, 384, true) -- 0600
  if not out then return nil, err end
  local stream = out.kind ~= "new" and out.kind ~= "regular"
  return { out = out, kind = stream and "stream" or "file", path = path, n = 0 }
end

-- Whether r is a recorder still recording.
local function live(r) return r ~= nil and not r.done end

-- M.output(r) -> the recording's checked output (a cdnctl.Output) or nil.
function M.output(r)
  return live(r) and r.out or nil
end

-- Starts the file: an empty HAR (and for a file, the trailer) replaces it.
-- Its keys are sorted as json.encode sorts them (creator, entries, pages,
-- version), so the trailer holds what follows the entries.
local function start(r)
  local head = '{"log":{"creator":' .. json.encode { name = "cdnctl", version = host.version } .. ',"entries":['
  local f, err = r.out:open(head .. (r.kind == "file" and M.TRAILER or ""))
  if not f then error(err, 0) end
  f:setvbuf("full")
  r.file, r.pos = f, #head -- write_entry seeks to pos in a file
end

-- M.abandon(r): stops a recording that never started, writing nothing (its
-- path was refused: the input or another output of the run).
function M.abandon(r)
  if live(r) and not r.file then
    r.out:close()
    r.done = true
  end
end

-- M.close(r): the trailer of a stream, then the file closed (an empty HAR
-- when nothing was recorded). Idempotent; nil is no recorder.
function M.close(r)
  if not live(r) then return end
  r.done = true
  if not r.file then
    local ok, err = pcall(start, r)
    if not ok then io.stderr:write("cdnctl: --har: ", tostring(err), "\n"); r.out:close(); return end
  end
  if r.kind == "stream" then r.file:write(M.TRAILER) end
  r.file:close()
end

-- Every registered key masked in s (the secrets an exchange shows are
-- registered by learn() first; redact.mask is byte-safe).
local function mask(s)
  if s == nil or s == "" then return s end
  return redact.mask(s)
end

local function masked_key(v)
  if v == "" or v:find("^%*%*%*%*") then return v end
  return redact.short(v)
end

-- "a=1&b=2" -> list of {name, value} (decoded) and the same text with key
-- fields masked ("****abcd" needs no percent-encoding) and the rest masked.
local function mask_pairs(text)
  local out, params = {}, {}
  for pair in (text .. "&"):gmatch("([^&]*)&") do
    if pair ~= "" then
      local rname, eq, rvalue = pair:match("^([^=]*)(=?)(.*)$")
      local name = percent.unescape(rname, true) or rname
      local value = percent.unescape(rvalue, true) or rvalue
      if M.KEY_FIELDS[name] then
        value = masked_key(value)
        rvalue = value
      else
        value, rvalue = mask(value), mask(rvalue)
      end
      out[#out + 1] = rname .. eq .. rvalue
      params[#params + 1] = { name = name, value = value }
    end
  end
  return table.concat(out, "&"), params
end

-- Register the secrets of one exchange with redact (so that they are masked
-- here and in everything printed after, as the bindings' sub-keys are): the
-- call's key, the key fields of the form, and sub-keys in the answer
-- (sub_key, the keys list, the keys of api_key/show.php's maps).
local function learn(req, resp)
  local function add(k) if #k >= 4 then redact.add(k) end end
  if type(req.secret) == "string" then add(req.secret) end
  local function add_fields(text)
    for name, value in pairs(percent.parse_form(text) or {}) do
      if M.KEY_FIELDS[name] then add(value) end
    end
  end
  if req.body then add_fields(req.body) end
  local query = req.url:match("%?([^#]*)")
  if query then add_fields(query) end
  local body = resp and json.decode(resp.body)
  if type(body) ~= "table" then return end
  if type(body.sub_key) == "string" then add(body.sub_key) end
  for _, k in ipairs(type(body.keys) == "table" and body.keys or {}) do
    if type(k) == "string" then add(k) end
  end
  if req.url:find("/api_key/", 1, true) then
    for _, v in pairs(body) do
      if type(v) == "table" then
        for k in pairs(v) do
          if type(k) == "string" and #k >= 16 and k:find("^[%w_-]+$") then add(k) end
        end
      end
    end
  end
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
  return (s:gsub("..?.?", function(c)
    local a, b, d = c:byte(1, 3)
    local n = a * 65536 + (b or 0) * 256 + (d or 0)
    local out = {}
    for i = 1, 4 do
      local six = (n >> (6 * (4 - i))) & 63
      out[i] = B64:sub(six + 1, six + 1)
    end
    if not b then out[3] = "=" end
    if not d then out[4] = "=" end
    return table.concat(out)
  end))
end

function M.unbase64(s)
  s = s:gsub("[^%w+/]", "")
  return (s:gsub("..?.?.?", function(c)
    local n, bits = 0, 0
    for i = 1, #c do
      n = n * 64 + (B64:find(c:sub(i, i), 1, true) - 1)
      bits = bits + 6
    end
    local bytes = bits // 8
    n = n >> (bits - 8 * bytes)
    local out = {}
    for i = bytes, 1, -1 do out[i] = string.char(n & 255); n = n >> 8 end
    return table.concat(out)
  end))
end

-- The text of a HAR content object (base64 decoded), or nil.
function M.content_text(content)
  if type(content) ~= "table" or type(content.text) ~= "string" then return nil end
  if content.encoding == "base64" then return M.unbase64(content.text) end
  return content.text
end

-- "2026-11-26T10:25:33.123Z" for a unix time.
local function iso(t)
  local sec = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%03dZ", math.floor((t - sec) * 1000))
end

local function ms(us) return math.floor(us) / 1000 end

-- HAR timings (milliseconds; -1 for what did not happen) from curl's
-- cumulative microseconds, and the entry's total time (their sum; ssl is
-- part of connect).
local function har_timings(tm)
  tm = tm or {}
  local dns, conn, app = tm.namelookup or 0, tm.connect or 0, tm.appconnect or 0
  local pre, start, total = tm.pretransfer or 0, tm.starttransfer or 0, tm.total or 0
  local connected = math.max(conn, app)
  local t = { blocked = -1, dns = -1, connect = -1, ssl = -1 }
  if conn > 0 then t.dns, t.connect = ms(dns), ms(connected - dns) end -- 0: a reused connection
  if app > 0 then t.ssl = ms(app - conn) end
  t.send = ms(math.max(pre - connected, 0))
  if start > 0 then
    t.wait, t.receive = ms(start - pre), ms(total - start)
  else
    t.wait, t.receive = ms(math.max(total - math.max(pre, connected), 0)), 0
  end
  local sum = 0
  for _, k in ipairs({ "dns", "connect", "send", "wait", "receive" }) do
    if t[k] > 0 then sum = sum + t[k] end
  end
  return t, math.floor(sum * 1000 + 0.5) / 1000
end

-- HAR's name/value list of "Name: value" strings, values masked.
local function header_list(lines)
  local out = {}
  for _, line in ipairs(lines) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name and value ~= "" then out[#out + 1] = { name = name, value = mask(value) } end
  end
  return out
end

local function content_of(text, mime)
  local c = { size = #text, mimeType = mime or "" }
  if utf8.len(text) then c.text = text else c.text, c.encoding = M.base64(text), "base64" end
  return c
end

local function har_request(req)
  local url = mask(req.url)
  local base, query = url:match("^([^?#]*)%??([^#]*)")
  local params = {}
  if query ~= "" then
    query, params = mask_pairs(query)
    url = base .. "?" .. query
  end
  local lines = {}
  for _, h in ipairs(req.headers or {}) do lines[#lines + 1] = h end
  lines[#lines + 1] = "User-Agent: cdnctl/" .. host.version -- libcurl's, set in http.c
  local r = { method = req.method or (req.body and "POST" or "GET"), url = url, httpVersion = "HTTP/1.1",
              cookies = json.empty_array, headers = header_list(lines), queryString = params,
              headersSize = -1, bodySize = req.body and #req.body or 0 }
  if #r.queryString == 0 then r.queryString = json.empty_array end
  if #r.headers == 0 then r.headers = json.empty_array end
  if req.body then
    local mime = (req.body ~= "" and "application/x-www-form-urlencoded") or ""
    for _, h in ipairs(req.headers or {}) do mime = h:match("^[Cc]ontent%-[Tt]ype:%s*(.*)$") or mime end
    local text, fields = mask_pairs(req.body)
    r.postData = { mimeType = mime, text = text, params = #fields > 0 and fields or json.empty_array }
  end
  return r
end

local function har_response(resp, terr)
  if not resp then
    return { status = 0, statusText = "", httpVersion = "", cookies = json.empty_array, headers = json.empty_array,
             content = { size = 0, mimeType = "x-unknown" }, redirectURL = "", headersSize = -1, bodySize = -1,
             _error = mask(terr and terr.message or "transport failure") }
  end
  local names, lines = {}, {}
  for k in pairs(resp.headers or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do lines[#lines + 1] = k .. ": " .. resp.headers[k] end
  local headers = header_list(lines)
  return { status = resp.status, statusText = "", httpVersion = resp.http_version or "HTTP/1.1",
           cookies = json.empty_array, headers = #headers > 0 and headers or json.empty_array,
           content = content_of(mask(resp.body or ""), resp.headers and resp.headers["content-type"]),
           redirectURL = mask(resp.headers and resp.headers["location"] or ""), headersSize = -1,
           bodySize = #(resp.body or "") }
end

-- Write one entry (JSON text) where the trailer was, then the trailer again.
local function write_entry(r, text)
  if not r.file then start(r) end
  local f = r.file
  if r.kind == "file" then assert(f:seek("set", r.pos)) end
  assert(f:write(r.n > 0 and ",\n" or "\n", text))
  if r.kind == "file" then
    r.pos = assert(f:seek())
    assert(f:write(M.TRAILER))
  end
  assert(f:flush())
  r.n = r.n + 1
end

-- The sends of one attempt that libcurl made before its last (info.sends:
-- the reused connection died without an answer, and libcurl sent the
-- request again): an entry each, so that the record holds every request
-- the server may have received.
local RESENT = { message = "no answer: the reused connection died; libcurl sent it again" }
local function record_resends(r, req, info)
  for _ = 2, math.tointeger(info.sends) or 1 do
    write_entry(r, json.encode { startedDateTime = iso(info.started_at or os.time()), time = 0,
      request = har_request(req), response = har_response(nil, RESENT), cache = {},
      timings = { send = 0, wait = 0, receive = 0 } })
  end
end

local function record(r, req, resp, terr)
  learn(req, resp)
  local info = resp or terr or {}
  record_resends(r, req, info)
  local timings, total = har_timings(info.timings)
  local entry = {
    startedDateTime = iso(info.started_at or os.time()), time = total,
    request = har_request(req), response = har_response(resp, terr),
    cache = {}, timings = timings,
  }
  write_entry(r, json.encode(entry))
end

-- M.record(r, req, resp, transport_err): one attempt of sched.request(req),
-- as it returned, in recorder r. Nothing when r is nil or stopped; a
-- failure to write is reported once on stderr and ends the recording, never
-- the call.
function M.record(r, req, resp, terr)
  if not live(r) then return end
  local ok, err = pcall(record, r, req, resp, terr)
  if not ok then
    io.stderr:write("cdnctl: --har: cannot record to ", r.path, ": ", tostring(err), "; recording stopped\n")
    if r.file then pcall(r.file.close, r.file) end
    r.out:close()
    r.done = true
  end
end

return M
