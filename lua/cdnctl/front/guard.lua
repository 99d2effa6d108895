-- cdnctl.front.guard: the prompt's library, in which a destructive binding
-- (ops.lua marks it) asks first on the terminal, as `cdnctl call` does:
-- once per call, or once for a whole cdnctl.parallel run, naming how many
-- calls the run holds. Declined, the binding returns nil and an error of
-- kind "invalid" ("not confirmed") and sends nothing. The questions are on
-- while the settings' confirm is (the prompt sets it when stdin and stderr
-- are terminals); cdnctl.confirmations(false) turns them off through
-- settings.change. Scripts and -e code use the library unwrapped: they
-- never ask. What this decides is only whether to ask; the question and
-- its answer are cdnctl.kit.script's (target, confirm).

local ops = require "cdnctl.ops"
local settings = require "cdnctl.settings"
local errors = require "cdnctl.errors"

local M = {}

-- The values a call's arguments name, checked as the binding checks them
-- (cdnctl.front.dryrun.check) -> values | nil (bad input: the binding
-- refuses it itself, nothing is asked).
local function values_of(op, ...)
  local raw, opts = {}, {}
  local n = select("#", ...)
  for i, spec in ipairs(op.args) do
    if i <= n then raw[spec.name] = (select(i, ...)) end
  end
  local last = n > #op.args and select(#op.args + 1, ...) or nil
  if type(last) == "table" then opts = last end
  local okc, values = pcall(require("cdnctl.front.dryrun").check, op, raw, opts)
  return okc and values or nil, opts
end

-- The question for one call of op: what it does, then (read only now) the
-- site's or sub-key's details. -> what, detail | nil
local function question(op, ...)
  local values, opts = values_of(op, ...)
  if not values then return nil end
  require("cdnctl.config").note_secrets(values) -- a sub-key shows masked in the question
  return require("cdnctl.kit.script").target(op, values,
    { timeout = opts.timeout, attempts = opts.attempts, deadline = opts.deadline })
end

local function declined(op)
  return nil, errors.new { op = op.full, kind = "invalid", message = "not confirmed: nothing was sent" }
end

-- The binding f of op, asking first while s.confirm is on. run: the
-- session's {current = the cdnctl.parallel run in progress or nil}. In a
-- run, the calls that come while its question is open (reading a site's
-- details yields to them) wait for its answer.
local function guarded(s, op, f, run, sleep)
  return function(...)
    if not s.confirm then return f(...) end
    local r = run.current
    while r and r.asking do sleep(0.01) end
    if r and r.answer ~= nil then
      if r.answer then return f(...) end
      return declined(op)
    end
    local what, detail = question(op, ...)
    if not what then return f(...) end
    if r then
      r.asking = true
      local one = detail
      detail = function()
        return (one and one() or "") .. ", and so on for " .. (r.count and ("all " .. r.count) or "all the")
          .. " calls of this cdnctl.parallel run"
      end
    end
    local okq, yes = pcall(require("cdnctl.kit.script").confirm, what, false, detail)
    if r then r.asking, r.answer = nil, okq and yes or false end
    if not okq then error(yes, 0) end
    if not yes then return declined(op) end
    return f(...)
  end
end

-- A copy of a binding table (shortpixel, easyio) with its destructive
-- bindings guarded, its metatable (did-you-mean) kept.
local function wrap_service(s, service, bindings, run, sleep)
  local copy = {}
  for k, v in pairs(bindings) do
    local op = ops.by_name[service .. "." .. tostring(k)]
    copy[k] = (op and op.destructive and type(v) == "function") and guarded(s, op, v, run, sleep) or v
  end
  return setmetatable(copy, getmetatable(bindings))
end

-- M.wrap(lib) -> the prompt's library: lib's fields, the bindings guarded,
-- cdnctl.parallel noting its run (the count of its items, when a list),
-- cdnctl.confirmations([on]) -> on.
function M.wrap(lib)
  local s, run = lib.settings, {}
  local g = {}
  for k, v in pairs(lib) do g[k] = v end
  for _, service in ipairs(ops.service_order) do g[service] = wrap_service(s, service, lib[service], run, lib.sleep) end
  g.parallel = function(items, fn, opts)
    local outer = run.current
    run.current = { count = type(items) == "table" and #items or nil }
    local res = table.pack(pcall(lib.parallel, items, fn, opts))
    run.current = outer
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end
  g.confirmations = function(on)
    if on ~= nil then
      local ok, err = settings.change(s, { confirm = on })
      if not ok then error("bad argument #1 to 'confirmations' (" .. err .. ")", 2) end
    end
    return s.confirm
  end
  return g
end

return M
