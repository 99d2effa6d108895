-- cdnctl.suggest: "did you mean ...?" for names people misspell: bindings,
-- options, CLI flags, operations of `cdnctl call`, config fields.
--   suggest.closest("add_domian", {"add_domain", "read_domain"}) -> "add_domain"
--   suggest.explain(message) -> the message with a hint for a call of a
--     misspelt binding ("attempt to call a nil value (field 'add_domian')")
--     or a misspelt global ("attempt to index a nil value (global 'shortpxel')")

local M = {}

-- Damerau-Levenshtein distance (optimal string alignment), case-insensitive.
function M.distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  if math.abs(la - lb) > 3 then return math.huge end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

-- The candidate closest to name, if close enough to be a misspelling
-- (at most a third of the name's length, and at least one edit allowed).
-- A candidate that differs in case only is the closest of all (-V: -v).
function M.closest(name, candidates)
  if type(name) ~= "string" or name == "" then return nil end
  local best, best_d = nil, math.max(1, #name // 3) + 1
  for _, c in ipairs(candidates) do
    local dist = M.distance(name, c)
    if dist == 0 and c ~= name then dist = 0.5 end
    if dist < best_d and dist > 0 then best, best_d = c, dist end
  end
  return best
end

-- " (did you mean 'x'?)" or "".
function M.hint(name, candidates, prefix)
  local c = M.closest(name, candidates)
  return c and (" (did you mean '" .. (prefix or "") .. c .. "'?)") or ""
end

-- Every binding, as "service.name", and the cdnctl functions.
local function callables()
  local out = {}
  for _, op in ipairs(require("cdnctl.ops").list) do out[#out + 1] = op.full end
  for _, f in ipairs { "shortpixel.hosts", "cdnctl.parallel", "cdnctl.retry", "cdnctl.meta", "cdnctl.sleep",
                       "cdnctl.number", "cdnctl.exit", "cdnctl.debug" } do
    out[#out + 1] = f
  end
  return out
end

-- A message about a nil global (shortpxel.add_domain(...), hlep()) gets a
-- hint when a global of that name's spelling exists: "did you mean
-- shortpixel?". -> the message, the hint after its first line
local function explain_global(msg, name)
  local names = {}
  for k in pairs(_G) do
    if type(k) == "string" then names[#names + 1] = k end
  end
  table.sort(names)
  local c = M.closest(name, names)
  if not c then return msg end
  local first, rest = msg:match("^([^\n]*)(.*)$")
  return first .. " (did you mean " .. c .. "?)" .. rest
end

-- A message about calling a nil field gets a hint when the field is close
-- to a binding's name: shortpixel.add_domian(...) -> "did you mean
-- shortpixel.add_domain?". The tables themselves stay plain: `if easyio.x`
-- keeps working.
function M.explain(msg)
  if type(msg) ~= "string" then return msg end
  local global = msg:match("attempt to %a+ a nil value %(global '([%w_]+)'%)")
  if global then return explain_global(msg, global) end
  local field = msg:match("attempt to call a nil value %(field '([%w_]+)'%)")
            or msg:match("attempt to call a nil value %(method '([%w_]+)'%)")
  if not field then return msg end
  local names, full = {}, {}
  for _, f in ipairs(callables()) do
    local short = f:match("%.([%w_]+)$")
    names[#names + 1] = short
    full[short] = full[short] or f
  end
  local c = M.closest(field, names)
  if not c then return msg end
  local first, rest = msg:match("^([^\n]*)(.*)$")
  return first .. " (did you mean " .. full[c] .. "?)" .. rest
end

return M
