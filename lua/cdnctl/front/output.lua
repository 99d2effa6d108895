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

-- The rows of an answer that lists sub-keys as `keys` (an array of
-- strings) with the other fields maps keyed by them (show_keys): one row
-- per sub-key, {sub_key = k, field = field[k]...}. -> rows | nil
local function keyed_rows(v)
  if type(v) ~= "table" or type(v.keys) ~= "table" or not is_array(v.keys) or type(v.keys[1]) ~= "string" then return nil end
  local maps = {}
  for k, m in pairs(v) do
    if k ~= "keys" and type(m) == "table" and not is_array(m) and m[v.keys[1]] ~= nil then maps[k] = m end
  end
  if next(maps) == nil then return nil end
  local rows = {}
  for i, key in ipairs(v.keys) do
    local row = { sub_key = key }
    for k, m in pairs(maps) do row[k] = m[key] end
    rows[i] = row
  end
  return rows
end

-- The columns of a list of objects: the union of their fields, ids, URLs
-- and names first, the rest sorted; with flat, those holding a nested
-- value in any row left out (asked for, --fields shows them as JSON).
local FIRST = { id = 1, site_id = 1, site_url = 2, sub_key = 2, alias = 3, label = 3, labels = 3 }
local function union_columns(list, flat)
  local cols, seen, nested = {}, {}, {}
  for _, row in ipairs(list) do
    for k, x in pairs(row) do
      if type(x) == "table" then nested[k] = true end
      if not seen[k] then seen[k] = true; cols[#cols + 1] = tostring(k) end
    end
  end
  local kept = {}
  for _, c in ipairs(cols) do if not (flat and nested[c]) then kept[#kept + 1] = c end end
  table.sort(kept, function(a, b)
    local ra, rb = FIRST[a] or 9, FIRST[b] or 9
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return kept, seen
end

-- A list of objects in v (v itself, its sites or keys list, or its
-- sub-keys as rows) -> the list, its default columns (view.columns, an
-- operation's default set, those of them present; else union_columns) and
-- the set of every field, or nil when v holds no such list.
local function object_list(v, view)
  local rows = keyed_rows(v)
  if rows then v = rows end
  if type(v) == "table" and not is_array(v) then
    for _, k in ipairs({ "sites", "keys" }) do
      if type(v[k]) == "table" and is_array(v[k]) and type(v[k][1]) == "table" then v = v[k]; break end
    end
  end
  if not (type(v) == "table" and is_array(v) and type(v[1]) == "table") then return nil end
  local cols, all = union_columns(v, view.flat)
  if view.columns then
    local chosen = {}
    for _, c in ipairs(view.columns) do if all[c] then chosen[#chosen + 1] = c end end
    if #chosen > 0 then cols = chosen end
  end
  return v, cols, all
end

-- The columns --fields names, each a field of the result. -> list | nil, message
local function chosen_fields(fields, all)
  local names = {}
  for k in pairs(all) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, f in ipairs(fields) do
    if not all[f] then
      return nil, "--fields: the result has no field '" .. f .. "'" .. require("cdnctl.suggest").hint(f, names)
        .. " (fields: " .. table.concat(names, ", ") .. ")"
    end
  end
  return fields
end

-- The cells of a result, for csv and table: a list of objects (v itself,
-- or its sites or keys list, or its sub-keys) one row each under its
-- columns; anything else one row per field (keys sorted) under
-- pair_header, or with view.fields one row under those columns. view:
-- {fields = {...} (--fields), columns = {...} (the operation's default),
-- flat = true (no nested values unless --fields names them)}.
-- -> header, rows (arrays of cell texts, in the header's order) | nil, message
local function grid(v, pair_header, view)
  local list, cols, all = object_list(v, view)
  if not list and view.fields and type(v) == "table" then list, all = { v }, v end
  if view.fields then
    local ferr
    cols, ferr = chosen_fields(view.fields, all or {})
    if not cols then return nil, ferr end
  end
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

-- M.csv(v [, view]) -> CSV text | nil, message: a list of objects (or an
-- answer's sites or keys) becomes one row each; anything else becomes
-- key,value rows (view: as grid's).
function M.csv(v, view)
  local header, rows = grid(v, { "key", "value" }, view or {})
  if not header then return nil, rows end
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

-- M.table(v [, view]) -> the columns of grid(v, view), line ends in cells
-- as spaces | nil, message.
function M.table(v, view)
  local header, rows = grid(v, { "field", "value" }, view or {})
  if not header then return nil, rows end
  for _, r in ipairs(rows) do
    for c = 1, #r do r[c] = r[c]:gsub("[\r\n]", " ") end
  end
  return columns(header, rows)
end

-- M.jq_filter(expr) -> the compiled filter | nil, message (libjq's, with
-- the expression): checked before anything is sent.
function M.jq_filter(expr)
  local f, err = require("cdnctl.jq").compile(expr)
  if not f then return nil, "--jq '" .. expr .. "': " .. err end
  return f
end

-- M.jq(v, filter, expr [, indent]) -> text | nil, message: the filter run
-- once on the whole result v (its stable JSON), each output on a line, a
-- string as its text (as gh --jq prints), anything else as JSON (keys
-- sorted; indented with indent). libjq computes with doubles: integers
-- above 2^53 lose precision inside a filter.
function M.jq(v, filter, expr, indent)
  local outs, err = filter:run(M.json(v), indent)
  if not outs then return nil, "--jq '" .. expr .. "': " .. err end
  local lines = {}
  for i, o in ipairs(outs) do
    lines[i] = o:sub(1, 1) == '"' and json.decode(o) or o
  end
  return #lines > 0 and (table.concat(lines, "\n") .. "\n") or ""
end

return M
