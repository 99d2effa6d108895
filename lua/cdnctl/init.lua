-- cdnctl: the library behind the globals `cdnctl`, `shortpixel` and
-- `easyio`. The bindings are built from the table of operations (cdnctl.ops).

local client = require "cdnctl.client"
local sched = require "cdnctl.sched"
local json = require "cdnctl.json"
local http = require "cdnctl.http"
local host = require "cdnctl.host"
local check = require "cdnctl.check"
local settings = require "cdnctl.settings"
local masking = require "cdnctl.masking"

-- The functions that need no settings; M.new(s) adds the rest.
local M = {}
local BASE = {
  version = host.version,
  sleep = sched.sleep,
  json = json,
  null = json.null,
  ops = require "cdnctl.ops",
  check = check,
  write_unmasked = masking.write_unmasked,
}

-- cdnctl.debug([level]) -> level: trace every request on stderr (true or 1);
-- 2 adds libcurl's own verbose output, masked like everything else.
-- (Called in tail position from the library's closures: level 2 is the caller.)
local function debug(s, level)
  if level ~= nil then
    if not settings.change(s, { debug = level }) then
      error("bad argument #1 to 'debug' (boolean or integer expected)", 2)
    end
    return http.debug(level)
  end
  return http.debug()
end

-- cdnctl.retry{attempts=, base=, cap=, retry_after_cap=, timeout=, budget=,
-- retry_cost=, timeout_cost=, refund=} -> the policy (README, "Retries").
-- Each value is finite and in its range, or nothing is changed
-- (settings.change, the one function that changes settings at run time).
local function set_retry(s, t)
  if t ~= nil then
    local ok, err = settings.change(s, { policy = t })
    if not ok then error("bad argument #1 to 'retry' (" .. err .. ")", 2) end
  end
  local copy = {}
  for k, v in pairs(s.policy) do copy[k] = v end
  return copy
end

-- cdnctl.parallel: sched.parallel, without progress lines under --quiet.
local function parallel(s, items, fn, opts)
  if s.quiet and (opts == nil or type(opts) == "table") then
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.progress = false
    opts = o
  end
  return sched.parallel(items, fn, opts)
end

-- M.new(s) -> the library bound to the settings value s (cdnctl.settings):
-- the table a script sees as `cdnctl`, with `shortpixel` and `easyio`.
function M.new(s)
  local mods = client.modules(s)
  local lib = { settings = s, shortpixel = mods.shortpixel, easyio = mods.easyio }
  for k, v in pairs(BASE) do lib[k] = v end
  lib.debug = function(level) return debug(s, level) end
  lib.retry = function(t) return set_retry(s, t) end
  lib.parallel = function(items, fn, opts) return parallel(s, items, fn, opts) end
  -- cdnctl.meta(result) -> {op, attempts, retries, time, reconciled} of a binding's result
  lib.meta = function(result) return s.meta[result] end
  lib.hosts = mods.shortpixel.hosts
  return lib
end

-- cdnctl.number(v) -> integer | float | nil: a number, or a decimal string
-- as the services send counters ("289806.00000000000"), as a Lua integer
-- when it is whole and a float otherwise; nil (never an error) for anything
-- else: nil, JSON null, "", "0x10", "1e3", tables.
function BASE.number(v)
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
function BASE.exit(status)
  if status == nil then status = 0 end
  local n = type(status) == "number" and math.tointeger(status)
  if not n or n < 0 or n > 255 then
    error("bad argument #1 to 'exit' (integer in [0, 255] expected, got " .. tostring(status) .. ")", 2)
  end
  status = n
  error(setmetatable({ exit_status = status }, { __tostring = function() return "exit " .. status end }), 0)
end

-- `require "cdnctl"` is itself a library, on the settings of the
-- environment (settings.from_environment): what a stock Lua 5.4 that loads
-- cdnctl.so expects. The command line does not use it: it builds its own
-- with M.new on the settings it made from its options.
do
  for k, v in pairs(M.new(settings.from_environment {})) do M[k] = v end
end

-- M.install_globals(lib): the documented globals cdnctl, shortpixel,
-- easyio, help, for the library lib (M.new). Masking what is written is
-- the front end's to install (cdnctl.masking.install), once.
function M.install_globals(lib)
  rawset(_G, "cdnctl", lib)
  rawset(_G, "shortpixel", lib.shortpixel)
  rawset(_G, "easyio", lib.easyio)
  rawset(_G, "help", require("cdnctl.front.help").help)
end

return M
