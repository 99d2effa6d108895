-- cdnctl.sandbox.faults: --faults and --latency, as a wrapper around the
-- sandbox's handler. One draw of each per API request, from the seeded
-- generator, the fault first; /_sandbox/ (a service with faults = false)
-- is left alone. A fault is one of (docs/sandbox.md, "Faults"):
--   an HTTP status (4xx, 5xx)  answered instead of carrying the request out
--                              ({"error": "sandbox fault: HTTP n"}; 429
--                              with Retry-After: 1)
--   reset    the connection closed before anything is carried out
--   lost     carried out, then the answer is lost (the connection closed)
--   done500  carried out, then answered 500 as the status fault is
--   late     carried out --late-ms after it arrives (the answer's `later`:
--            server.c calls the handler again with req.late), answered then

local M = {}

-- The kinds besides HTTP statuses.
local KINDS = { reset = true, lost = true, done500 = true, late = true }
-- --late-ms's default, in milliseconds.
M.LATE_MS = 3000

-- Parses "--faults 500:0.05,429:0.02,reset:0.01,lost:0.01" -> list | nil, message
function M.parse_faults(spec)
  local out, total = {}, 0
  for item in (spec .. ","):gmatch("([^,]*),") do
    local kind, p = item:match("^%s*([%w]+):([%d.]+)%s*$")
    p = tonumber(p)
    if not kind or not p then return nil, "--faults: '" .. item .. "' is not KIND:PROBABILITY" end
    if not (KINDS[kind] or (kind:match("^%d%d%d$") and tonumber(kind) >= 400)) then
      return nil, "--faults: unknown fault '" .. kind .. "' (an HTTP status 4xx/5xx, reset, lost, done500 or late)"
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

-- The fault of one request, or nil.
local function draw_fault(faults)
  if #faults == 0 then return nil end
  local r, acc = math.random(), 0
  for _, f in ipairs(faults) do
    acc = acc + f.p
    if r < acc then return f.kind end
  end
end

-- The latency of one request in seconds, or nil.
local function draw_delay(lat)
  if not lat then return nil end
  local ms = lat.min == lat.max and lat.min or lat.min + math.random() * (lat.max - lat.min)
  return ms / 1000
end

-- The status fault's answer (done500's too).
local function status_answer(answer, code)
  return answer(code, { error = "sandbox fault: HTTP " .. code }, code == 429 and { ["Retry-After"] = "1" } or nil)
end

-- M.wrap(faults, latency, late_ms, inner, answer) -> function(req, route)
-- -> answer: inner(req, route) with faults and latency drawn around it.
-- The fault drawn is left in req.fault (what the log shows).
function M.wrap(faults, latency, late_ms, inner, answer)
  if #faults == 0 and not latency then return inner end
  local later = (late_ms or M.LATE_MS) / 1000
  return function(req, route)
    if route and route.service.faults == false then return inner(req, route) end
    if req.late then req.fault = "late"; return inner(req, route) end -- its time has come: no new draw
    local fault = draw_fault(faults)
    local delay = draw_delay(latency)
    req.fault = fault
    if fault == "late" then return { later = later } end
    if fault == "reset" then return { drop = true, delay = delay } end
    local code = math.tointeger(tonumber(fault))
    local resp
    if code then resp = status_answer(answer, code)
    else
      resp = inner(req, route)
      if fault == "done500" then resp = status_answer(answer, 500) end
    end
    resp.delay = delay
    if fault == "lost" then resp.drop = true end -- carried out, then the answer is lost
    return resp
  end
end

return M
