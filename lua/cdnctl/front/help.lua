-- cdnctl.front.help: help() for people, from the table of operations.

local ops = require "cdnctl.ops"

local M = {}

local function signature(op)
  local args = {}
  for _, a in ipairs(op.args) do
    local name = a.label or a.name
    args[#args + 1] = a.optional and ("[" .. name .. "]") or name
  end
  args[#args + 1] = "[opts]"
  return op.full .. "(" .. table.concat(args, ", ") .. ")"
end
M.signature = signature

local function endpoint(op)
  local p = op.path:gsub("{sp}", "https://no-cdn.shortpixel.ai"):gsub("{api}", "https://api.shortpixel.com")
    :gsub("{ez}", "https://optimize.exactlywww.com"):gsub("{(%w+)%*?}", string.upper)
  return op.method .. " " .. p
end
M.endpoint = endpoint

-- The full help text of one operation.
function M.text(op)
  local lines = { signature(op), "  " .. op.doc, "  endpoint: " .. endpoint(op) }
  if op.method == "POST" then
    local fields = {}
    local kf = op.key_field or "api_key"
    if op.key_in ~= "none" then fields[#fields + 1] = op.key_in == "form_optional" and ("[" .. kf .. "]") or kf end
    for _, a in ipairs(op.args) do
      if a.fields then
        local fs = {}
        for k in pairs(a.fields) do fs[#fs + 1] = k end
        table.sort(fs)
        fields[#fields + 1] = "[" .. table.concat(fs, ", ") .. "]"
      else
        fields[#fields + 1] = a.optional and ("[" .. a.name .. "]") or a.name
      end
    end
    lines[#lines + 1] = "  form fields: " .. table.concat(fields, ", ")
  end
  local o = {}
  for k in pairs(ops.common_options) do o[#o + 1] = k end
  for k in pairs(op.options or {}) do o[#o + 1] = k end
  table.sort(o)
  lines[#lines + 1] = "  options: " .. table.concat(o, ", ")
  lines[#lines + 1] = "  returns: " .. op.returns .. " | nil, err"
  if op.destructive then
    lines[#lines + 1] = "  destructive: " .. op.destructive .. " (cdnctl call asks first on a terminal; --yes skips the question)"
  end
  for _, r in ipairs(op.rules or {}) do lines[#lines + 1] = "  rule: " .. r end
  return table.concat(lines, "\n")
end

-- The value a documented name stands for (cdnctl.json.encode -> the function).
local function resolve(name)
  local v = _G
  for part in name:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function fn_text(d)
  local lines = { d.signature }
  for _, l in ipairs(d.doc) do lines[#lines + 1] = "  " .. l end
  return table.concat(lines, "\n")
end

-- Everything help() knows: {name, text, words (for searching)}.
local function entries()
  local out = {}
  for _, op in ipairs(ops.list) do
    out[#out + 1] = { name = op.full, short = op.name, value = resolve(op.full), text = M.text(op),
      words = table.concat({ op.full, op.doc, table.concat(op.rules or {}, " ") }, " "), line = string.format("  %-52s %s", signature(op), op.doc) }
  end
  for _, d in ipairs(require "cdnctl.front.fndoc") do
    local text = fn_text(d)
    out[#out + 1] = { name = d.name, value = resolve(d.name), text = text, words = text,
      line = string.format("  %-52s %s", d.signature:match("^[^%-]*"):gsub("%s+$", ""), d.doc[1]) }
  end
  return out
end

local function list_all()
  local out = { "Bindings (help(shortpixel.add_domain) or help \"add_domain\" for one; help \"word\" searches):" }
  local service
  for _, op in ipairs(ops.list) do
    if op.service ~= service then
      service = op.service
      out[#out + 1] = ""
      out[#out + 1] = service .. ":"
    end
    out[#out + 1] = string.format("  %-52s %s", signature(op), op.doc)
  end
  out[#out + 1] = ""
  out[#out + 1] = "Also:"
  for _, d in ipairs(require "cdnctl.front.fndoc") do out[#out + 1] = "  " .. d.signature end
  print(table.concat(out, "\n"))
end

-- help() lists everything; help(fn) or help "name" explains one; help "word"
-- lists what mentions the word in its name or description.
function M.help(what)
  if what == nil then return list_all() end
  local all = entries()
  for _, e in ipairs(all) do
    if (type(what) ~= "string" and what == e.value) or what == e.name or what == e.short then
      print(e.text)
      return
    end
  end
  if type(what) ~= "string" then
    print("no help for this " .. type(what) .. "; help() lists the bindings")
    return
  end
  local found, lw = {}, what:lower()
  for _, e in ipairs(all) do
    if e.words:lower():find(lw, 1, true) then found[#found + 1] = e.line end
  end
  if #found > 0 then
    print("help: " .. #found .. " match \"" .. what .. "\" (help \"name\" for one):\n" .. table.concat(found, "\n"))
    return
  end
  local names = {}
  for _, e in ipairs(all) do names[#names + 1] = e.short or e.name end
  local c = require("cdnctl.suggest").closest(what, names)
  if c then
    for _, e in ipairs(all) do if e.short == c or e.name == c then c = e.name; break end end
    print('nothing matches "' .. what .. '"; did you mean ' .. c .. "?")
  else
    print('nothing matches "' .. what .. '"; help() lists the bindings')
  end
end

return M
