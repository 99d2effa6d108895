-- cdnctl.kit.failures: what a run over many rows does with its failures.
--   local groups = failures.groups()
--   groups:add(reason, name); groups:lines(where) -> the lines for people,
--     one per reason, the most frequent first ("1,750 x site limit reached:
--     a.com, b.com, ... (all in results.csv)")
--   local brake = failures.brake { limit = 5, keep_going = opts.keep_going }
--   brake:check(op, account) -> true | false, message (not sent: said why)
--   brake:record(op, account, err) after each answer (err nil: a success)
-- The brake reads repetition, not words: the refusal texts of the real
-- services are mostly unknown, so `limit` refusals in a row with the same
-- message for one operation and one account stop that operation for that
-- account; a success in between starts the count again. Failures of the
-- network (kind transport, interrupted) are not refusals. Both are values
-- a script owns; the module keeps nothing.

local M = {}

-- 1750 -> "1,750"
local function thousands(n)
  local s = tostring(n)
  local head = #s % 3
  local parts = { head > 0 and s:sub(1, head) or nil }
  for i = head + 1, #s, 3 do parts[#parts + 1] = s:sub(i, i + 2) end
  return table.concat(parts, ",")
end
M.thousands = thousands

local Groups = {}
Groups.__index = Groups

-- failures.groups([shown]) -> groups naming at most `shown` (default 5)
-- rows per reason.
function M.groups(shown)
  return setmetatable({ by = {}, order = {}, shown = shown or 5 }, Groups)
end

-- Count one failure of row `name` for `reason` (its first line).
function Groups:add(reason, name)
  reason = tostring(reason):match("^[^\n]*")
  local g = self.by[reason]
  if not g then
    g = { reason = reason, count = 0, names = {}, first = #self.order + 1 }
    self.by[reason] = g
    self.order[#self.order + 1] = g
  end
  g.count = g.count + 1
  if #g.names < self.shown then g.names[#g.names + 1] = tostring(name) end
end

-- The number of failures counted.
function Groups:total()
  local n = 0
  for _, g in ipairs(self.order) do n = n + g.count end
  return n
end

-- groups:lines(where) -> {line...}: one per reason, most frequent first
-- (then in the order first seen), naming the first rows; where (the
-- results file) is named when not all rows fit.
function Groups:lines(where)
  local list = table.move(self.order, 1, #self.order, 1, {})
  table.sort(list, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.first < b.first
  end)
  local out = {}
  for i, g in ipairs(list) do
    local names = table.concat(g.names, ", ")
    if g.count > #g.names then names = names .. ", ..." .. (where and (" (all in " .. where .. ")") or "") end
    out[i] = string.format("  %s x %s: %s", thousands(g.count), g.reason, names)
  end
  return out
end

local Brake = {}
Brake.__index = Brake

-- failures.brake{limit = 5, keep_going = false} -> a brake
function M.brake(o)
  o = o or {}
  return setmetatable({ limit = o.limit or 5, keep_going = o.keep_going, runs = {}, said = {} }, Brake)
end

local function slot(op, account) return tostring(op) .. "\0" .. tostring(account or "") end

-- brake:check(op, account) -> true | false, message. The message is the
-- one every row not sent gets; brake.announce holds the first time it was
-- given for that operation and account (a line to say once), else nil.
function Brake:check(op, account)
  local r = self.runs[slot(op, account)]
  if self.keep_going or not r or r.count < self.limit then self.announce = nil; return true end
  local msg = string.format("not sent: %s was refused %d times in a row for this key (%s); "
    .. "--keep-going sends them all", op, r.count, r.message)
  local k = slot(op, account)
  self.announce = not self.said[k] and msg or nil
  self.said[k] = true
  return false, msg
end

-- brake:record(op, account, err): an answer of op for account; err nil is
-- a success, a table or text a refusal (network failures count as neither).
function Brake:record(op, account, err)
  local k = slot(op, account)
  if err == nil then self.runs[k] = nil; return end
  if type(err) == "table" and (err.kind == "transport" or err.kind == "interrupted") then return end
  local message = type(err) == "table" and tostring(err.message or err) or tostring(err)
  local r = self.runs[k]
  if r and r.message == message then r.count = r.count + 1
  else self.runs[k] = { message = message, count = 1 } end
end

return M
