-- cdnctl.sandbox.faults: --faults and --latency, as a wrapper around the
-- sandbox's handler. One draw of each per API request, from the seeded
-- generator, the fault first; /_sandbox/ (a service with faults = false)
-- is left alone. A fault is one of:
--   an HTTP status (4xx, 5xx)  answered instead of carrying the request out
--                              ({"error": "sandbox fault: HTTP n"}; 429
--                              with Retry-After: 1)
--   reset   the connection closed before anything is carried out
--   lost    carried out, then the answer is lost (the connection closed)

local M = {}

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

-- M.wrap(faults, latency, inner, answer) -> function(req, route) -> answer:
-- inner(req, route) with faults and latency drawn around it. The fault
-- drawn is left in req.fault, what the log shows as the path in req.log_as.
function M.wrap(faults, latency, inner, answer)
  if #faults == 0 and not latency then return inner end
  return function(req, route)
    if route and route.service.faults == false then return inner(req, route) end
    local fault = draw_fault(faults)
    local delay = draw_delay(latency)
    req.fault = fault
    if fault == "reset" then
      req.log_as = "(reset before handling)"
      return { drop = true, delay = delay }
    elseif fault and fault ~= "lost" then
      local code = math.tointeger(tonumber(fault)) or 500
      local resp = answer(code, { error = "sandbox fault: HTTP " .. code },
        code == 429 and { ["Retry-After"] = "1" } or nil)
      resp.delay = delay
      req.log_as = "(fault " .. code .. ")"
      return resp
    end
    local resp = inner(req, route)
    resp.delay = delay
    if fault == "lost" then resp.drop = true end -- carried out, then the answer is lost
    return resp
  end
end

return M
