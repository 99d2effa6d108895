-- cdnctl.front.help: help() for people, from the table of operations, and
-- the command line's `cdnctl help [COMMAND | BINDING]` and `cdnctl version`.

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

-- `cdnctl version` (and --version): the version, the commit the binary was
-- built from (host.commit, empty for a build without git) and Lua's. -> exit status
function M.version(args)
  if args[1] == "--help" or args[1] == "-h" then
    print("usage: cdnctl version   (or cdnctl --version)\n  the version and the commit cdnctl was built from")
    return 0
  end
  if args[1] then
    io.stderr:write("cdnctl version: unexpected argument '", args[1], "'\n")
    return 2
  end
  local host = require "cdnctl.host"
  local commit = (host.commit or "") ~= "" and ("commit " .. host.commit) or "unknown commit"
  print("cdnctl " .. host.version .. " (" .. commit .. ", " .. _VERSION .. ")")
  return 0
end

local HELP_USAGE = [[usage: cdnctl help [COMMAND | BINDING | SCRIPT | WORD]
  cdnctl help             the command line's help (cdnctl --help)
  cdnctl help COMMAND     a command's help (cdnctl COMMAND --help): ]]

-- The names `cdnctl help` knows besides the commands: bindings (full and
-- short) and the documented functions, and the ready scripts.
local function help_names(commands)
  local names = {}
  for _, c in ipairs(commands) do names[#names + 1] = c.name end
  for _, e in ipairs(entries()) do
    names[#names + 1] = e.name
    if e.short then names[#names + 1] = e.short end
  end
  for _, n in ipairs(require("cdnctl.front.run").names()) do names[#names + 1] = n end
  return names
end

-- M.command(args, options): `cdnctl help ARGS`. A command (options.COMMANDS)
-- or a ready script is handed back as the argv to run instead (`help call`
-- is `call --help`, `help report` is `run report --help`); a binding's or a
-- documented function's help prints here; else a search of the bindings, or
-- did-you-mean. -> argv (a table) | exit status
function M.command(args, options)
  local what = args[1]
  if what == nil then return { [0] = "cdnctl", "--help" } end
  if what == "--help" or what == "-h" then
    local names = {}
    for _, c in ipairs(options.COMMANDS) do names[#names + 1] = c.name end
    print(HELP_USAGE .. table.concat(names, ", ") .. "\n  cdnctl help BINDING     a binding's help "
      .. "(cdnctl help shortpixel.read_domain)\n  cdnctl help SCRIPT      a ready script's help "
      .. "(cdnctl run SCRIPT --help)\n  cdnctl help WORD        the bindings that mention WORD")
    return 0
  end
  if options.command(what) then
    local argv = { [0] = "cdnctl", table.unpack(args) }
    argv[#argv + 1] = "--help"
    return argv
  end
  for _, e in ipairs(entries()) do
    if what == e.name or what == e.short then print(e.text); return 0 end
  end
  if not what:find("[^%w_-]") and require("cdnctl.front.run").find(what) then
    return { [0] = "cdnctl", "run", what, "--help" }
  end
  local c = require("cdnctl.suggest").closest(what, help_names(options.COMMANDS))
  if c then
    io.stderr:write("cdnctl help: no command, binding or ready script '", what, "'; did you mean '", c, "'?\n")
    return 2
  end
  local found, lw = {}, what:lower()
  for _, e in ipairs(entries()) do
    if e.words:lower():find(lw, 1, true) then found[#found + 1] = e.line end
  end
  if #found == 0 then
    io.stderr:write("cdnctl help: nothing matches '", what, "' (cdnctl help lists the commands, ",
      "cdnctl call --list the bindings)\n")
    return 2
  end
  print("help: " .. #found .. " match \"" .. what .. "\":\n" .. table.concat(found, "\n"))
  return 0
end

return M
