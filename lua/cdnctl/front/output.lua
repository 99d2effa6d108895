-- cdnctl.front.output: results for machines and people: JSON (compact or
-- indented, keys sorted so output is stable), the pretty table form, CSV.

local json = require "cdnctl.json"
local pretty = require "cdnctl.front.pretty"
local csv = require "cdnctl.kit.csv"

local M = {}

local function is_array(t)
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- M.json(v [, indent]) -> text with sorted keys and '/' unescaped (as
-- json.encode writes it); indent "  " for people.
function M.json(v, indent)
  if not indent then return json.encode(v) end
  local out = {}
  local nl = indent and "\n" or ""
  local colon = indent and ": " or ":"
  local function emit(x, depth)
    if type(x) ~= "table" then out[#out + 1] = json.encode(x); return end
    if depth > 100 then error("output: tables nested too deeply") end
    local pad = indent and indent:rep(depth + 1) or ""
    local close = indent and indent:rep(depth) or ""
    if next(x) == nil then out[#out + 1] = json.encode(x); return end -- {}, or [] for a decoded empty array
    if is_array(x) then
      out[#out + 1] = "[" .. nl
      for i = 1, #x do
        out[#out + 1] = pad
        emit(x[i], depth + 1)
        if i < #x then out[#out + 1] = "," end
        out[#out + 1] = nl
      end
      out[#out + 1] = close .. "]"
    else
      out[#out + 1] = "{" .. nl
      local ks = sorted_keys(x)
      for i, k in ipairs(ks) do
        out[#out + 1] = pad .. json.encode(tostring(k)) .. colon
        emit(x[k], depth + 1)
        if i < #ks then out[#out + 1] = "," end
        out[#out + 1] = nl
      end
      out[#out + 1] = close .. "}"
    end
  end
  emit(v, 0)
  return table.concat(out)
end

-- A value as one cell: nested values as compact JSON, a field that is
-- missing or null as nothing.
local function cell(v)
  if type(v) == "table" then return M.json(v) end
  if v == nil or v == json.null then return "" end
  return tostring(v)
end

-- A list of objects in v (v itself, or its sites or keys list) -> the list
-- and its columns (the union of the objects' fields: ids, URLs and names
-- first, the rest sorted), or nil when v holds no such list.
local FIRST = { id = 1, site_id = 1, site_url = 2, sub_key = 2, alias = 3, label = 3 }
local function object_list(v)
  if type(v) == "table" and not is_array(v) then
    for _, k in ipairs({ "sites", "keys" }) do
      if type(v[k]) == "table" and is_array(v[k]) and type(v[k][1]) == "table" then v = v[k]; break end
    end
  end
  if not (type(v) == "table" and is_array(v) and type(v[1]) == "table") then return nil end
  local cols, seen = {}, {}
  for _, row in ipairs(v) do
    for k in pairs(row) do
      if not seen[k] then seen[k] = true; cols[#cols + 1] = tostring(k) end
    end
  end
  table.sort(cols, function(a, b)
    local ra, rb = FIRST[a] or 9, FIRST[b] or 9
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return v, cols
end

-- The cells of a result, for csv and table: a list of objects (v itself,
-- or its sites or keys list) one row each under the union of their fields;
-- anything else one row per field (keys sorted) under pair_header.
-- -> header, rows (arrays of cell texts, in the header's order)
local function grid(v, pair_header)
  local list, cols = object_list(v)
  local rows = {}
  if list then
    for i, row in ipairs(list) do
      local r = {}
      for c, k in ipairs(cols) do r[c] = cell(row[k]) end
      rows[i] = r
    end
    return cols, rows
  end
  if type(v) == "table" then
    for _, k in ipairs(sorted_keys(v)) do rows[#rows + 1] = { tostring(k), cell(v[k]) } end
  else
    rows[1] = { "value", cell(v) }
  end
  return pair_header, rows
end

-- M.csv(v) -> CSV text: a list of objects (or an answer's sites or keys)
-- becomes one row each; anything else becomes key,value rows.
function M.csv(v)
  local header, rows = grid(v, { "key", "value" })
  for i, r in ipairs(rows) do
    local named = {}
    for c, name in ipairs(header) do named[name] = r[c] end
    rows[i] = named
  end
  return csv.format(rows, header)
end

-- The Lua literal of a result (the prompt's form).
function M.lua(v)
  return pretty.format(v) .. "\n"
end

-- Columns, as `aws --output table` prints them: a list of objects (or an
-- answer whose list is under sites or keys) one row each, the union of their
-- fields as the columns; any other object as FIELD and VALUE rows. Nested
-- values show as compact JSON.
local function columns(header, rows)
  local w = {}
  for c, h in ipairs(header) do
    w[c] = utf8.len(h) or #h
    for _, r in ipairs(rows) do w[c] = math.max(w[c], utf8.len(r[c]) or #r[c]) end
  end
  local out = {}
  local function line(r)
    local cells = {}
    for c = 1, #header do
      cells[c] = c == #header and r[c] or (r[c] .. string.rep(" ", w[c] - (utf8.len(r[c]) or #r[c])))
    end
    out[#out + 1] = table.concat(cells, "  ")
  end
  local up = {}
  for c, h in ipairs(header) do up[c] = h:upper() end
  line(up)
  for _, r in ipairs(rows) do line(r) end
  return table.concat(out, "\n") .. "\n"
end

-- M.table(v) -> the columns of grid(v), line ends in cells as spaces.
function M.table(v)
  local header, rows = grid(v, { "field", "value" })
  for _, r in ipairs(rows) do
    for c = 1, #r do r[c] = r[c]:gsub("[\r\n]", " ") end
  end
  return columns(header, rows)
end

return M
