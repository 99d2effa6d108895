-- cdnctl.cli.call: one-shot commands generated from the table of operations.
--   cdnctl call OP [ARG...] [name=value...] [--output json|table|csv]
--   cdnctl call --list
-- Exit: 0 success, 1 the API or the network said no, 2 bad arguments.

local ops = require "cdnctl.ops"
local help = require "cdnctl.help"
local output = require "cdnctl.output"
local fs = require "cdnctl.fs"
local redact = require "cdnctl.redact"
local check = require "cdnctl.check"

local M = {}

-- Operations whose answer holds a new credential, shown in clear this once
-- (field name); everything else cdnctl prints masks sub-keys.
local SHOW_ONCE = { ["easyio.create_key"] = "sub_key" }

-- text masked of every registered secret but keep (the new key), which
-- stays in clear wherever it occurs.
local function mask_except(text, keep)
  local out, i = {}, 1
  while true do
    local a, b = text:find(keep, i, true)
    out[#out + 1] = redact.mask(text:sub(i, a and a - 1 or -1))
    if not a then break end
    out[#out + 1] = keep
    i = b + 1
  end
  return table.concat(out)
end

local function find_op(name)
  if ops.by_name[name] then return ops.by_name[name] end
  local found
  for _, op in ipairs(ops.list) do
    if op.name == name then
      if found then return nil, "'" .. name .. "' is ambiguous: use shortpixel." .. name .. " or easyio." .. name end
      found = op
    end
  end
  if not found then return nil, "unknown operation '" .. name .. "' (cdnctl call --list lists them)" end
  return found
end

-- "true"/"false" become booleans for flags and boolean options.
local function convert(v, kind)
  if kind == "boolean" or kind == "flag" then
    if v == "true" or v == "yes" then return true end
    if v == "false" or v == "no" then return false end
  end
  if kind == "integer" or kind == "number" then return tonumber(v) or v end
  return v
end

function M.list()
  for _, op in ipairs(ops.list) do
    io.stdout:write(string.format("%-60s %s\n", help.signature(op), op.doc))
  end
  return 0
end

-- M.main(args) where args are the words after "call".
function M.main(args, global)
  local out_format
  local words = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--list" then return M.list()
    elseif a == "--names" then -- for shell completion
      for _, op in ipairs(ops.list) do io.stdout:write(op.full, "\n") end
      return 0
    elseif a == "--output" or a == "-o" then
      out_format = args[i + 1]
      i = i + 2
    elseif a:match("^%-%-output=") then
      out_format = a:match("=(.*)")
      i = i + 1
    elseif a == "--help" or a == "-h" then
      io.stdout:write("usage: cdnctl call OP [ARG...] [name=value...] [--output json|table|csv]\n       cdnctl call --list\n")
      return 0
    else
      words[#words + 1] = a
      i = i + 1
    end
  end
  if out_format and out_format ~= "json" and out_format ~= "table" and out_format ~= "csv" then
    io.stderr:write("cdnctl call: --output must be json, table or csv, not '" .. tostring(out_format) .. "'\n")
    return 2
  end
  if #words == 0 then
    io.stderr:write("cdnctl call: an operation is needed (cdnctl call --list lists them)\n")
    return 2
  end
  local op, err = find_op(words[1])
  if not op then io.stderr:write("cdnctl call: ", err, "\n"); return 2 end

  -- positional arguments, name=value fields and options
  local positional, named = {}, {}
  for k = 2, #words do
    local name, value = words[k]:match("^([%a_][%w_]*)=(.*)$")
    if name then named[#named + 1] = { name, value } else positional[#positional + 1] = words[k] end
  end
  local argv, fields_spec = {}, nil
  local p = 1
  for _, spec in ipairs(op.args) do
    if spec.fields then
      fields_spec = spec
      argv[#argv + 1] = {}
    elseif positional[p] ~= nil then
      argv[#argv + 1] = positional[p]
      p = p + 1
    elseif not spec.optional then
      io.stderr:write(string.format("cdnctl call: %s needs %s (usage: %s)\n", op.full, spec.label or spec.name, help.signature(op)))
      return 2
    end
  end
  if positional[p] ~= nil then
    io.stderr:write(string.format("cdnctl call: %s: unexpected argument '%s' (usage: %s)\n", op.full, positional[p], help.signature(op)))
    return 2
  end
  local opts = {}
  for _, nv in ipairs(named) do
    local name, value = nv[1], nv[2]
    local fkind = fields_spec and fields_spec.fields[name]
    local okind = ops.common_options[name] or (op.options and op.options[name])
    if fkind then
      argv[#argv][name] = convert(value, fkind)
    elseif okind and name ~= "key" then
      opts[name] = convert(value, okind)
      if okind == "integer" then opts[name] = math.tointeger(opts[name]) or opts[name] end
    else
      io.stderr:write(string.format("cdnctl call: %s has no field or option '%s'%s\n", op.full, name,
        name == "key" and " (pass keys through the environment or a profile, not the command line)" or ""))
      return 2
    end
  end
  if next(opts) then argv[#argv + 1] = opts end

  local okcall, result, cerr = pcall(op.fn, table.unpack(argv))
  if not okcall then
    io.stderr:write("cdnctl call: ", tostring(result), "\n")
    return 2
  end
  if result == nil then
    io.stderr:write("cdnctl: ", tostring(cerr), "\n")
    return cerr and cerr.kind == "invalid" and 2 or 1
  end
  local fmt = out_format or "json"
  local text
  if fmt == "json" then text = output.json(result, fs.isatty(1) and "  " or nil) .. "\n"
  elseif fmt == "csv" then text = output.csv(result)
  else text = output.table(result) end
  local new_key = SHOW_ONCE[op.full] and result[SHOW_ONCE[op.full]]
  if type(new_key) == "string" and check.key(new_key) then
    require("cdnctl").write_unmasked(io.stdout, mask_except(text, new_key))
    io.stdout:flush()
    io.stderr:write("cdnctl: the new sub-key ", redact.short(new_key),
      " is shown this once, in clear, above: store it now; cdnctl masks it everywhere else\n")
    return 0
  end
  io.stdout:write(text)
  return 0
end

return M
