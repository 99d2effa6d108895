-- cdnctl.front.pretty: values as people read them. Keys sorted (integers first,
-- in order), nested tables indented, strings quoted, integers as integers,
-- floats as floats, cycles marked, long arrays and deep nesting cut.

local M = {}

M.defaults = { max_items = 50, max_depth = 6, indent = "  ", width = 72 }

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function key_order(a, b)
  local ta, tb = math.type(a) == "integer", math.type(b) == "integer"
  if ta and tb then return a < b end
  if ta ~= tb then return ta end
  local sa, sb = type(a) == "string", type(b) == "string"
  if sa and sb then return a < b end
  if sa ~= sb then return sa end
  return tostring(a) < tostring(b)
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if math.type(v) == "integer" then return tostring(v) end
  if math.type(v) == "float" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    local s = string.format("%.14g", v)
    if not s:find("[%.eE]") then s = s .. ".0" end
    return s
  end
  if t == "userdata" and v == require("cdnctl.json").null then return "null" end
  return tostring(v)
end

-- M.format(v [, opts]) -> string
function M.format(v, opts)
  opts = opts or M.defaults
  local max_items, max_depth, ind = opts.max_items or 50, opts.max_depth or 6, opts.indent or "  "
  local seen = {}
  local function fmt(x, depth)
    if type(x) ~= "table" then return scalar(x) end
    if seen[x] then return "<cycle>" end
    local mt = getmetatable(x)
    if mt and mt.__tostring and not mt.__pretty then return tostring(x) end
    if next(x) == nil then return "{}" end
    if depth >= max_depth then return "{...}" end
    seen[x] = true
    local keys = {}
    for k in pairs(x) do keys[#keys + 1] = k end
    table.sort(keys, key_order)
    local n = #x
    local parts, shown = {}, 0
    for _, k in ipairs(keys) do
      shown = shown + 1
      if shown > max_items then
        parts[#parts + 1] = "... " .. (#keys - max_items) .. " more"
        break
      end
      local val = fmt(x[k], depth + 1)
      if math.type(k) == "integer" and k >= 1 and k <= n then
        parts[#parts + 1] = val
      elseif is_identifier(k) then
        parts[#parts + 1] = k .. " = " .. val
      else
        parts[#parts + 1] = "[" .. scalar(k) .. "] = " .. val
      end
    end
    seen[x] = nil
    local flat = "{" .. table.concat(parts, ", ") .. "}"
    if #flat <= (opts.width or 72) - depth * #ind and not flat:find("\n") then return flat end
    local pad = ind:rep(depth + 1)
    return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. "\n" .. ind:rep(depth) .. "}"
  end
  return fmt(v, 0)
end

return M
