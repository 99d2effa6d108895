-- cdnctl.shape: the shape of a JSON answer, and where two answers differ in
-- shape. The contract tests (tests/contract/) hold the sandbox to the
-- fixtures of what production answers, and `cdnctl sandbox --compare` holds
-- it to a recorded HAR file, both with this one rule:
--   - every member the expected value shows exists in the actual one, with
--     the same JSON type (null, boolean, number, string, list, object),
--     recursively;
--   - a JSON null matches any type (the service sends null where it has
--     nothing);
--   - an empty list and an empty object are the same thing ([] and {}:
--     PHP writes one for the other);
--   - a map keyed by data (dates, sub-keys, PHP lists written as objects
--     {"0": ..., "1": ...}) is compared by its values' shape, not its keys;
--   - list elements are compared with the expected list's first element.
-- Numbers are one JSON type: 2 and 2.5 have the same shape; "2" does not.

local json = require "cdnctl.json"

local M = {}

-- A key that is data rather than a field name.
local function data_key(k)
  if type(k) ~= "string" then return true end
  return k:find("^%d%d%d%d%-%d%d%-%d%d$") ~= nil -- a date
    or k:find("^%d+$") ~= nil                     -- a PHP list written as an object
    or k:find("****", 1, true) ~= nil              -- a masked key
    or (#k >= 16 and k:find("^[%w_.~-]+$") ~= nil and k:find("%d") ~= nil and k:find("%l") ~= nil
        and not k:find("^%u?%l+%u")) -- a key-like token, not CamelCase (FreeCredits)
end

-- The JSON type of a decoded value: "null", "boolean", "number", "string",
-- "empty" ([] or {}), "list", "map" (keyed by data) or "object".
function M.type(v)
  if v == nil or v == json.null then return "null" end
  local t = type(v)
  if t == "boolean" or t == "number" or t == "string" then return t end
  if v == json.empty_array then return "empty" end
  if t ~= "table" then return t end
  if next(v) == nil then return "empty" end
  local n = #v
  local count, all_data = 0, true
  for k in pairs(v) do
    count = count + 1
    if all_data and not data_key(k) then all_data = false end
  end
  if n > 0 and count == n then return "list" end
  if all_data then return "map" end
  return "object"
end

local function any_value(t)
  if t[1] ~= nil then return t[1] end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for k, v in pairs(t) do if tostring(k) == keys[1] then return v end end
end

local function join(path, k)
  if type(k) == "number" then return path .. "[" .. k .. "]" end
  return path == "" and k or (path .. "." .. k)
end

-- Lists and maps are the same kind of thing for the rule: a collection.
local COLLECTION = { list = true, map = true, empty = true }

local function walk(want, got, path, opts, out)
  local tw, tg = M.type(want), M.type(got)
  if tw == "null" or tg == "null" then return end
  if tw ~= tg and not (COLLECTION[tw] and COLLECTION[tg]) then
    if not (tw == "empty" and tg == "object") and not (tw == "object" and tg == "empty") then
      out[#out + 1] = { path = path == "" and "(answer)" or path, what = "type", want = tw, got = tg }
      return
    end
    if tg == "empty" and next(want) ~= nil then
      -- an object with members expected, an empty one came
      for k in pairs(want) do
        out[#out + 1] = { path = join(path, k), what = "missing", want = M.type(want[k]) }
      end
    end
    return
  end
  if COLLECTION[tw] then
    if tw == "empty" or tg == "empty" then return end
    local sample = any_value(want)
    for k, v in pairs(got) do walk(sample, v, join(path, k), opts, out) end
    return
  end
  if tw ~= "object" then return end
  for k, v in pairs(want) do
    if got[k] == nil then
      if M.type(v) ~= "null" then out[#out + 1] = { path = join(path, k), what = "missing", want = M.type(v) } end
    else
      walk(v, got[k], join(path, k), opts, out)
    end
  end
  if opts.extra then
    for k, v in pairs(got) do
      if want[k] == nil then out[#out + 1] = { path = join(path, k), what = "extra", got = M.type(v) } end
    end
  end
end

-- M.diff(want, got [, opts]) -> list of {path, what = "type"|"missing"|"extra", want, got},
-- sorted by path. opts.extra: report members `got` has and `want` lacks.
function M.diff(want, got, opts)
  local out = {}
  walk(want, got, "", opts or {}, out)
  table.sort(out, function(a, b) return a.path < b.path end)
  return out
end

-- One line for a difference.
function M.describe(d)
  if d.what == "missing" then return d.path .. ": missing (" .. d.want .. " expected)" end
  if d.what == "extra" then return d.path .. ": extra member (" .. d.got .. ")" end
  return d.path .. ": " .. d.got .. " where " .. d.want .. " is expected"
end

return M
