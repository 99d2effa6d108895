-- cdnctl.sandbox.log: --log FILE, one JSON line per request, every key
-- masked: a key in a ShortPixel path (the route's key_at), Easy IO's
-- api_key and sub_key fields, and any key the sandbox knows (sb:mask).
-- A change's line waits until the journal holds it (flush), so that it
-- shows the status the client got (200, or 503 when it could not be saved).

local json = require "cdnctl.json"
local redact = require "cdnctl.redact"

local M = {}
M.__index = M

-- M.open(path) -> log | nil (no path); raises when the file cannot be opened.
function M.open(path)
  if not path then return nil end
  local f, err = io.open(path, "a")
  if not f then error("sandbox: cannot open the log: " .. tostring(err), 0) end
  f:setvbuf("line")
  return setmetatable({ file = f, held = {} }, M)
end

-- The path as logged: its segments decoded, a route's key segment masked,
-- its slashes as sent (purge-cdn-cache's rest is a URL: "https://...");
-- what is not a route's path is said in parentheses.
local function logged_path(req, route)
  if req.log_as then return req.log_as end
  if not route or not route.handler or not req.args then return "(unknown path)" end
  if not route.key_at then return req.path end
  local n, key_seg = 0, #req.segs - req.args.n + route.key_at
  return (req.path:gsub("[^/]+", function()
    n = n + 1
    return n == key_seg and redact.short(req.segs[n]) or req.segs[n]
  end))
end

-- One request's line: the time, method, path, form fields (keys masked),
-- status, fault and the milliseconds it took to handle.
function M.record(req, route, resp, t0)
  local fields
  if type(req.fields) == "table" then
    fields = {}
    for k, v in pairs(req.fields) do
      fields[k] = (k == "api_key" or k == "sub_key" or k == "key") and redact.short(v) or v
    end
  end
  return {
    time = os.date("!%Y-%m-%dT%H:%M:%SZ"), method = req.method, path = logged_path(req, route), fields = fields,
    status = resp and resp.status, fault = req.fault, ms = math.floor((os.clock() - t0) * 1e6) / 1000,
  }
end

-- log:write(sb, rec): the line now, or at the next release when rec is a
-- change's (held).
function M:write(sb, rec, held)
  if held then self.held[#self.held + 1] = rec; return end
  self.file:write(sb:mask(json.encode(rec)), "\n")
end

-- log:release(sb, failed): the held lines, as 503 when saving failed.
-- -> how many there were
function M:release(sb, failed)
  local held = self.held
  self.held = {}
  for _, rec in ipairs(held) do
    if failed then rec.status = 503 end
    self.file:write(sb:mask(json.encode(rec)), "\n")
  end
  return #held
end

function M:close()
  self.file:close()
end

return M
