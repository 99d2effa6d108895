-- cdnctl.front.call: one-shot commands generated from the table of operations.
--   cdnctl call OP [ARG...] [name=value...] [--output json|table|csv|lua | --json] [--jq EXPR]
--               [--fields a,b,c] [--yes] [--dry-run]
--   cdnctl call --list
-- An operation the table marks destructive asks first on a terminal
-- (cdnctl.kit.script.confirm); --yes skips the question; without a terminal and
-- without --yes nothing is sent and the exit status is 2. --dry-run prints
-- the exact requests and sends nothing (cdnctl.front.dryrun).
-- Exit: 0 success, 1 the API or the network said no, 2 bad arguments or not
-- confirmed.

local ops = require "cdnctl.ops"
local help = require "cdnctl.front.help"
local output = require "cdnctl.front.output"
local fs = require "cdnctl.fs"
local redact = require "cdnctl.redact"
local check = require "cdnctl.check"
local config = require "cdnctl.config"
local script = require "cdnctl.kit.script"
local dryrun = require "cdnctl.front.dryrun"

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
  if not found then
    local names = {}
    for _, op in ipairs(ops.list) do names[#names + 1] = op.full end
    local hint = require("cdnctl.suggest").closest(name, names)
    return nil, "unknown operation '" .. name .. "'" .. (hint and (" (did you mean " .. hint .. "?)")
      or " (cdnctl call --list lists them)")
  end
  return found
end

-- A name=value word's value for its kind: booleans read by check.boolean
-- (true/false, 1/0, yes/no, on/off), numbers by tonumber; the rest as
-- given, for the binding's own check. -> value | nil, message
local function convert(name, v, kind)
  if kind == "boolean" or kind == "flag" then return check.boolean(v, name) end
  if kind == "integer" or kind == "number" then return tonumber(v) or v end
  return v
end

function M.list()
  for _, op in ipairs(ops.list) do
    local mark = op.destructive and (" [" .. op.destructive .. ": asks first]") or ""
    io.stdout:write(string.format("%-60s %s%s\n", help.signature(op), op.doc, mark))
  end
  return 0
end

local USAGE = "usage: cdnctl call OP [ARG...] [name=value...] [--output json|table|csv|lua | --json] [--jq EXPR]\n"
  .. "                   [--fields a,b,c] [--yes] [--dry-run]\n"
  .. "       cdnctl call --list\n"
  .. "       cdnctl call OP --help\n"

local HELP = USAGE .. [[

Calls one binding and prints its result. The words after OP are the
binding's arguments:
  positional ARGs   the binding's own arguments, in order (a domain, a site
                    id, a site URL, a sub-key), as help "OP" names them;
  name=value        a field of the binding's table argument (config-update's
                    webp, avif...; change_key's label, allowed, site_limit) or
                    an option every binding takes (timeout, attempts,
                    deadline) or one of its own (both, refresh, replace);
                    booleans as true/false, 1/0, yes/no or on/off. Keys never go on the command
                    line: the environment or a profile gives them.
Examples:
  cdnctl call shortpixel.read_domain example.com refresh=true
  cdnctl call easyio.update_site_config 17 webp=true avif=false
  cdnctl call shortpixel.purge_cdn_cache_bulk example.com both=true --yes
  cdnctl call --dry-run easyio.remove_site 17
Output: --output json (default; indented on a terminal; --json says the
same), table (columns), csv, or lua (the prompt's form). --jq EXPR filters
the whole JSON result through libjq (as gh --jq does): each output on a
line, strings as text; libjq computes with doubles, so numbers above 2^53
lose precision inside a filter (byte counts and ids are far below it).
--fields a,b,c chooses the columns of table and csv (a nested field as
JSON); without it a table of sites shows site_id, site_url, alias, live,
pending and bandwidth, csv every field, and show_keys one row per sub-key. A word that starts
with -- is an option, never an ARG; after -- every word is an ARG or a
name=value. cdnctl's options (--profile, -v...) go before or after OP. Operations that destroy or cost ask first
on a terminal (--yes skips the question); --dry-run prints the requests and
sends nothing. cdnctl call --list lists the operations; cdnctl call OP --help
explains one. Exit: 0 done, 1 the service or the network said no, 2 usage.
]]

local function fail(msg) io.stderr:write("cdnctl call: ", msg, "\n"); return 2 end

-- call's own options and cdnctl's that may follow a subcommand: the names
-- did-you-mean offers for an unknown option after call.
local function option_names()
  local options = require "cdnctl.front.options"
  local names = table.move(options.command("call").options, 1, #options.command("call").options, 1, {})
  for _, g in ipairs(options.GLOBALS) do
    if not g.before then names[#names + 1] = g.name end
  end
  return names
end

-- The value of --output: from --output FORMAT, --output=FORMAT, -o FORMAT
-- or --json; two that disagree are refused. -> format | nil, message
local function set_output(flags, v, how)
  if v == nil then return nil, how .. " needs a format: json, table, csv or lua" end
  if flags.output and flags.output ~= v then
    return nil, string.format("%s and %s disagree: give one output format", flags.output_how, how .. (how == "--json" and "" or (" " .. v)))
  end
  flags.output, flags.output_how = v, how == "--json" and "--json" or ("--output " .. v)
  return v
end

-- One option of call at args[i] into flags. -> the index after it | nil,
-- exit status (--list, --names: done) | nil, nil, message (a usage error)
local function call_option(flags, args, i)
  local a = args[i]
  local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
  name = name or a
  if inline and name ~= "--output" and name ~= "--jq" and name ~= "--fields" then return nil, nil, name .. " takes no value" end
  if a == "--list" then return nil, M.list()
  elseif a == "--names" then -- for shell completion
    for _, op in ipairs(ops.list) do io.stdout:write(op.full, "\n") end
    return nil, 0
  elseif name == "--output" or name == "-o" then
    local _, err = set_output(flags, inline or args[i + 1], "--output")
    if err then return nil, nil, err end
    return inline and i + 1 or i + 2
  elseif name == "--jq" or name == "--fields" then
    local v = inline or args[i + 1]
    if v == nil or v == "" then return nil, nil, name .. (name == "--jq" and " needs an expression" or " needs a,b,c") end
    flags[name:sub(3)] = v
    return inline and i + 1 or i + 2
  elseif a == "--json" then
    local _, err = set_output(flags, "json", "--json")
    if err then return nil, nil, err end
  elseif a == "--yes" then flags.yes = true
  elseif a == "--dry-run" then flags.dry_run = true
  elseif a == "--help" or a == "-h" then flags.help = true
  else
    return nil, nil, "unknown option '" .. name .. "'" .. require("cdnctl.suggest").hint(name, option_names())
  end
  return i + 1
end

-- The words after "call": flags {output, yes, dry_run, help} and the other
-- words, or nil, exit status (--list, --help, a bad option). A word that
-- starts with - and a letter, or with --, is an option, never a value;
-- after -- every word is a value.
local function parse_flags(args)
  local flags, words = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      table.move(args, i + 1, #args, #words + 1, words)
      break
    elseif a:match("^%-%-.") or a:match("^%-%a") then
      local after, status, err = call_option(flags, args, i)
      if err then return nil, fail(err) end
      if not after then return nil, status end
      i = after
    else
      words[#words + 1] = a
      i = i + 1
    end
  end
  local f = flags.output
  if f and f ~= "json" and f ~= "table" and f ~= "csv" and f ~= "lua" then
    return nil, fail("--output must be json, table, csv or lua, not '" .. tostring(f) .. "'")
  end
  if flags.jq and f and f ~= "json" then return nil, fail("--jq filters JSON: it does not go with " .. flags.output_how) end
  if flags.fields and f ~= "table" and f ~= "csv" then
    return nil, fail("--fields chooses the columns of --output table or csv")
  end
  if flags.fields then
    local list = {}
    for name in flags.fields:gmatch("[^,]+") do list[#list + 1] = name:match("^%s*(.-)%s*$") end
    flags.fields = list
  end
  return flags, words
end

-- The names a name=value word may have for op: its fields and options
-- (key aside: keys never go on the command line).
local function word_names(op, fields_spec)
  local names = {}
  for name in pairs(fields_spec and fields_spec.fields or {}) do names[#names + 1] = name end
  for name in pairs(ops.common_options) do if name ~= "key" then names[#names + 1] = name end end
  for name in pairs(op.options or {}) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- The words after OP as raw values: {[arg name] = value} (a fields table
-- for the fields argument) and the options. -> raw, opts | nil, status
local function parse_words(op, words)
  local positional, named, raw, opts = {}, {}, {}, {}
  local fields_spec
  for k = 2, #words do
    local name, value = words[k]:match("^([%a_][%w_]*)=(.*)$")
    if name then named[#named + 1] = { name, value } else positional[#positional + 1] = words[k] end
  end
  local p = 1
  for _, spec in ipairs(op.args) do
    if spec.fields then
      fields_spec = spec
      raw[spec.name] = {}
    elseif positional[p] ~= nil then
      raw[spec.name] = positional[p]
      p = p + 1
    elseif not spec.optional then
      return nil, fail(string.format("%s needs %s (usage: %s)", op.full, spec.label or spec.name, help.signature(op)))
    end
  end
  if positional[p] ~= nil then
    return nil, fail(string.format("%s: unexpected argument '%s' (usage: %s)", op.full, positional[p], help.signature(op)))
  end
  for _, nv in ipairs(named) do
    local name, value = nv[1], nv[2]
    local fkind = fields_spec and fields_spec.fields[name]
    local okind = ops.common_options[name] or (op.options and op.options[name])
    local v, verr = convert(name, value, fkind or okind)
    if v == nil then return nil, fail(op.full .. ": " .. verr) end
    if fkind then
      raw[fields_spec.name][name] = v
    elseif okind and name ~= "key" then
      opts[name] = okind == "integer" and math.tointeger(v) or v
    else
      return nil, fail(string.format("%s has no field or option '%s'%s", op.full, name,
        name == "key" and " (pass keys through the environment or a profile, not the command line)"
          or require("cdnctl.suggest").hint(name, word_names(op, fields_spec))))
    end
  end
  return raw, opts
end

-- A destructive operation asks first: the arguments are checked (nothing
-- is asked about bad input), then script.confirm names the target (a site's
-- URL and alias, a sub-key's label: read only once a terminal can answer).
-- -> nil (go on) | exit status 2
local function confirm(op, raw, opts, yes)
  local values, err = dryrun.check(op, raw, opts)
  if not values then io.stderr:write("cdnctl: ", tostring(err), "\n"); return 2 end
  config.note_secrets(values) -- a sub-key shows masked in the question
  local what, detail = script.target(op, values, { timeout = opts.timeout, attempts = opts.attempts, deadline = opts.deadline })
  if not script.confirm(what, yes, detail) then return 2 end
  return nil
end

-- The text of a result in the format flags ask for. -> text | nil, message
local function format(op, result, flags)
  local fmt = flags.output or "json"
  if flags.jq_filter then return output.jq(result, flags.jq_filter, flags.jq, fs.isatty(1)) end
  if fmt == "json" then return output.json(result, fs.isatty(1) and "  " or nil) .. "\n" end
  if fmt == "lua" then return output.lua(result) end
  if fmt == "csv" then return output.csv(result, { fields = flags.fields }) end
  return output.table(result, { fields = flags.fields, columns = op.columns, flat = true })
end

-- Call the binding and print its result. -> exit status
local function run(lib, op, raw, opts, flags)
  local argv = {}
  for _, spec in ipairs(op.args) do
    if raw[spec.name] ~= nil then argv[#argv + 1] = raw[spec.name] end
  end
  if next(opts) then argv[#argv + 1] = opts end
  local okcall, result, cerr = pcall(lib[op.service][op.name], table.unpack(argv))
  if not okcall then return fail(tostring(result)) end
  local status = 0
  if result == nil then
    io.stderr:write("cdnctl: ", tostring(cerr), "\n")
    if not (type(cerr) == "table" and type(cerr.results) == "table" and next(cerr.results)) then
      return cerr and cerr.kind == "invalid" and 2 or 1
    end
    result, status = cerr.results, 1 -- both = true: print what succeeded
  end
  local text, ferr = format(op, result, flags)
  if not text then
    io.stderr:write("cdnctl call: ", redact.mask(ferr), "\n")
    return ferr:match("^%-%-fields") and 2 or 1
  end
  local new_key = SHOW_ONCE[op.full] and result[SHOW_ONCE[op.full]]
  if type(new_key) == "string" and check.key(new_key) then
    require("cdnctl.masking").write_unmasked(io.stdout, mask_except(text, new_key))
    io.stdout:flush()
    io.stderr:write("cdnctl: the new sub-key ", redact.short(new_key),
      " is shown this once, in clear, above: store it now; cdnctl masks it everywhere else\n")
    return 0
  end
  io.stdout:write(text)
  return status
end

-- M.main(args, lib) where args are the words after "call" and lib the
-- library (cdnctl.new) whose bindings and settings the call uses.
function M.main(args, lib)
  local flags, words = parse_flags(args)
  if not flags then return words end
  if #words == 0 then
    if flags.help then io.stdout:write(HELP); return 0 end
    return fail("an operation is needed (cdnctl call --list lists them)")
  end
  local op, err = find_op(words[1])
  if not op then return fail(err) end
  if flags.help then help.help(op.name == words[1] and op.name or op.full); return 0 end
  local raw, opts = parse_words(op, words)
  if not raw then return opts end
  if flags.jq then
    local filter, jerr = output.jq_filter(flags.jq)
    if not filter then return fail(jerr) end
    flags.jq_filter = filter
  end
  if flags.dry_run then return dryrun.run(op, raw, opts, lib.settings) end
  if op.destructive then
    local status = confirm(op, raw, opts, flags.yes)
    if status then return status end
  end
  return run(lib, op, raw, opts, flags)
end

return M
