-- cdnctl: the library behind the globals `cdnctl`, `shortpixel` and
-- `easyio`. The bindings are built from the table of operations (cdnctl.ops).

local client = require "cdnctl.client"
local sched = require "cdnctl.sched"
local json = require "cdnctl.json"
local http = require "cdnctl.http"
local host = require "cdnctl.host"
local check = require "cdnctl.check"

local mods = client.modules()

local M = {
  version = host.version,
  shortpixel = mods.shortpixel,
  easyio = mods.easyio,
  parallel = sched.parallel,
  sleep = sched.sleep,
  json = json,
  null = json.null,
  ops = require "cdnctl.ops",
}

-- cdnctl.debug([level]) -> level: trace every request on stderr (true or 1);
-- 2 adds libcurl's own verbose output, masked like everything else.
function M.debug(level)
  if level ~= nil then
    if type(level) ~= "boolean" and math.type(level) ~= "integer" then
      error("bad argument #1 to 'debug' (boolean or integer expected)", 2)
    end
    return http.debug(level)
  end
  return http.debug()
end

-- cdnctl.retry{attempts=, base=, cap=, retry_after_cap=, timeout=, budget=,
-- retry_cost=, timeout_cost=, refund=} -> the policy (README, "Retries").
-- Each value is finite and in its range, or nothing is changed.
local RETRY_RANGES = { base = { 0, 3600, "seconds" }, cap = { 0, 3600, "seconds" },
  retry_after_cap = { 0, 3600, "seconds" }, timeout = { 0.001, 86400, "seconds" },
  budget = { 0, 1e6, "tokens" }, retry_cost = { 0, 1e4, "tokens" }, timeout_cost = { 0, 1e4, "tokens" },
  refund = { 0, 1e4, "tokens" } }
function M.retry(t)
  if t ~= nil then
    if type(t) ~= "table" then error("bad argument #1 to 'retry' (table expected)", 2) end
    for k, v in pairs(t) do
      local range = RETRY_RANGES[k]
      if client.policy[k] == nil then error("bad argument #1 to 'retry' (unknown setting '" .. tostring(k) .. "')", 2) end
      if k == "attempts" then
        if math.type(v) ~= "integer" or v < 1 then error("bad argument #1 to 'retry' (attempts must be a positive integer)", 2) end
      elseif type(v) ~= "number" or not (v >= range[1] and v <= range[2]) then
        error(string.format("bad argument #1 to 'retry' (%s must be a number of %s in [%s, %s], got %s)",
          k, range[3], range[1], range[2], tostring(v)), 2)
      end
    end
    for k, v in pairs(t) do client.policy[k] = v end
  end
  local copy = {}
  for k, v in pairs(client.policy) do copy[k] = v end
  return copy
end

-- cdnctl.meta(result) -> {op, attempts, retries, time, reconciled} of a binding's result
function M.meta(result)
  return client.meta[result]
end

-- cdnctl.hosts(domain) -> {apex, www}
M.hosts = mods.shortpixel.hosts

-- cdnctl.number(v) -> integer | float | nil: a number, or a decimal string
-- as the services send counters ("289806.00000000000"), as a Lua integer
-- when it is whole and a float otherwise; nil (never an error) for anything
-- else: nil, JSON null, "", "0x10", "1e3", tables.
function M.number(v)
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" then
    if v ~= v or v == math.huge or v == -math.huge then return nil end
    return math.tointeger(v) or v
  end
  if type(v) ~= "string" then return nil end
  local int, frac = v:match("^%s*([+-]?%d+)%.?(%d*)%s*$")
  if not int then return nil end
  if frac:find("^0*$") then
    local n = math.tointeger(tonumber(int))
    if n then return n end
  end
  return tonumber(int .. "." .. (frac == "" and "0" or frac))
end

-- cdnctl.exit(status): end the script with this exit status (0 to 255),
-- unwinding cleanly; inside cdnctl.parallel it ends the whole run at once.
function M.exit(status)
  if status == nil then status = 0 end
  local n = type(status) == "number" and math.tointeger(status)
  if not n or n < 0 or n > 255 then
    error("bad argument #1 to 'exit' (integer in [0, 255] expected, got " .. tostring(status) .. ")", 2)
  end
  status = n
  error(setmetatable({ exit_status = status }, { __tostring = function() return "exit " .. status end }), 0)
end

-- Install the documented globals: cdnctl, shortpixel, easyio, help.
-- Everything a script prints or writes to a file passes through redaction:
-- a key the process knows (environment, profile, opts.key) shows masked even
-- when a script prints it itself, in its output, results and journals.
local methods = getmetatable(io.stdout).__index
local raw_write = methods.write

-- cdnctl.write_unmasked(file, ...): file:write without masking, for the
-- rare output that must show a key in full (a sub-key just created, a
-- listing asked for with --show-keys). Returns what file:write returns.
function M.write_unmasked(f, ...)
  return raw_write(f, ...)
end

local function mask_output()
  local redact = require "cdnctl.redact"
  methods.write = function(f, ...)
    local n = select("#", ...)
    if n == 1 then
      local v = ...
      return raw_write(f, type(v) == "string" and redact.mask(v) or v)
    end
    local args = table.pack(...)
    for i = 1, n do
      if type(args[i]) == "string" then args[i] = redact.mask(args[i]) end
    end
    return raw_write(f, table.unpack(args, 1, n))
  end
  rawset(_G, "print", function(...)
    local n = select("#", ...)
    local parts = table.pack(...)
    for i = 1, n do parts[i] = tostring(parts[i]) end
    io.stdout:write(table.concat(parts, "\t", 1, n), "\n")
  end)
  io.write = function(...) return io.output():write(...) end
end

function M.install_globals()
  mask_output()
  rawset(_G, "cdnctl", M)
  rawset(_G, "shortpixel", M.shortpixel)
  rawset(_G, "easyio", M.easyio)
  rawset(_G, "help", require("cdnctl.front.help").help)
end

M.check = check
return M
