-- cdnctl.front.options: the command line's global options and the table of
-- subcommands, read by a pure function: argv in, a table or a usage error
-- out, nothing read or written (cdnctl.front.main acts on the table: the
-- phases of a run). A subcommand is one entry of M.COMMANDS; its own
-- options are its module's to read.

local suggest = require "cdnctl.suggest"

local M = {}

-- The subcommands, in the order help lists them. phase says when main
-- hands over (cdnctl.front.main): "start" before the config is read (the
-- module's fn, default main, gets the words), "config" with the config and
-- the settings (main(cfg, args, s)), "library" with the library
-- (main(args, lib)), "script" for run (NAME is a ready script, then as
-- if its path had been given), "help" for help. options: the command's own
-- options, for did-you-mean, help and completion; closed: those are all
-- its options and none takes a value but those in values (the word after
-- one is its value), so any other word starting with -
-- is refused here with the closest of them and of the global options
-- (internal: options for completion scripts, accepted, never suggested).
-- mode: how main's caller treats a signal ("server": cdnctl sandbox stops
-- on one). own: global options this command reads as its own after it
-- (import's --profile is repeatable and names the accounts to read).
M.COMMANDS = {
  { name = "call", phase = "library", module = "cdnctl.front.call",
    synopsis = "call OP [ARG...] [name=value...]", summary = "call one binding and print its result",
    options = { "--output", "-o", "--json", "--jq", "--fields", "--yes", "--dry-run", "--list", "--help", "-h" } },
  { name = "whoami", phase = "library", module = "cdnctl.front.whoami",
    synopsis = "whoami [--offline]", summary = "per service: base URLs, key (masked), where each came from",
    options = { "--offline", "--help", "-h" }, closed = true },
  { name = "profiles", phase = "config", module = "cdnctl.front.profiles",
    synopsis = "profiles [--json] [--jq EXPR]", summary = "the profiles of the config file",
    options = { "--json", "--jq", "--help", "-h" }, closed = true, values = { "--jq" }, internal = { "--names" } },
  { name = "plan", phase = "library", module = "cdnctl.front.plan",
    synopsis = "plan INVENTORY.csv [--json] [--out PLAN.json] [--detailed-exitcode] [--target KIND:NAME...]",
    summary = "what apply would do to bring the accounts to the inventory",
    options = { "--json", "--out", "--detailed-exitcode", "--target", "--concurrency", "--help", "-h" } },
  { name = "apply", phase = "library", module = "cdnctl.front.apply",
    synopsis = "apply INVENTORY.csv|PLAN.json [--yes] [--dry-run] [--journal FILE] [--json] [--target KIND:NAME...]",
    summary = "make the calls that bring the accounts to the inventory",
    options = { "--yes", "--dry-run", "--journal", "--json", "--target", "--concurrency", "--help", "-h" } },
  { name = "status", phase = "library", module = "cdnctl.front.status",
    synopsis = "status INVENTORY.csv [--json | --csv] [--sort COLUMN] [--target KIND:NAME...]",
    summary = "every client of the inventory in one table, worst first",
    options = { "--json", "--csv", "--sort", "--target", "--concurrency", "--help", "-h" } },
  { name = "import", phase = "library", module = "cdnctl.front.import", own = { "--profile" },
    synopsis = "import [--profile NAME ...] [--domains FILE] [--out INVENTORY.csv]",
    summary = "write an inventory of what the accounts hold today",
    options = { "--profile", "--domains", "--out", "--concurrency", "--help", "-h" } },
  { name = "run", phase = "script",
    synopsis = "run NAME [ARGS...]", summary = "a ready script by name (purge, report, watch...)",
    options = { "--help", "-h" } },
  { name = "sandbox", phase = "start", module = "cdnctl.sandbox.cli", mode = "server",
    synopsis = "sandbox [OPTIONS]", summary = "run the offline emulator of both APIs",
    options = { "--listen", "--account", "--state", "--latency", "--faults", "--seed", "--log", "--pending",
                "--env", "--compare", "--help", "-h" } },
  { name = "version", phase = "start", module = "cdnctl.front.help", fn = "version",
    synopsis = "version", summary = "the version and the commit it was built from",
    options = { "--help", "-h" }, closed = true },
  { name = "help", phase = "help",
    synopsis = "help [COMMAND | BINDING]", summary = "a command's or a binding's help",
    options = { "--help", "-h" } },
}

-- M.command(name) -> the entry of M.COMMANDS | nil
function M.command(name)
  for _, c in ipairs(M.COMMANDS) do
    if c.name == name then return c end
  end
  return nil
end

-- The global options. field: where parse_options puts it; value: what it
-- needs (then "NAME needs <value>" when missing); action: it prints and
-- ends the options; before: only before a subcommand or script (after
-- one, -e, --help and --version are the subcommand's words); repeatable:
-- each value kept in order (else twice with another value is refused).
M.GLOBALS = {
  { name = "-e", field = "exprs", value = "an argument", repeatable = true, before = true },
  { name = "-v", field = "verbose" },
  { name = "--sandbox", field = "sandbox" },
  { name = "--profile", field = "profile", value = "a name" },
  { name = "--allow-http", field = "allow_http" },
  { name = "--quiet", field = "quiet" },
  { name = "-q", field = "quiet" },
  { name = "--har", field = "har", value = "a file name", nonempty = true },
  { name = "--man", action = "man", before = true },
  { name = "--version", action = "version", before = true },
  { name = "-h", action = "help", before = true },
  { name = "--help", action = "help", before = true },
}
M.FLAGS = {}
for _, g in ipairs(M.GLOBALS) do M.FLAGS[#M.FLAGS + 1] = g.name end

-- The global option named `name` that may stand here (after: past a
-- subcommand) -> its entry | nil
local function global(name, after)
  for _, g in ipairs(M.GLOBALS) do
    if g.name == name and not (after and g.before) then return g end
  end
  return nil
end

-- The message for an unknown option a at argv[i], before any subcommand:
-- an option of a subcommand further on says so; else did-you-mean.
local function unknown_option(argv, i, name)
  for k = i + 1, #argv do
    local c = M.command(argv[k])
    if c then
      for _, opt in ipairs(c.options) do
        if opt == name then
          return string.format("%s is an option of %s: put it after %s (cdnctl %s ... %s)", name, c.name, c.name, c.name, name)
        end
      end
      break
    end
  end
  return "unknown option '" .. name .. "'" .. suggest.hint(name, M.FLAGS)
end

-- The global option at argv[i] into o. -> the index after it | false (an
-- action: the options end here) | nil (not a global option here) | nil, message
local function option(o, argv, i, after)
  local a = argv[i]
  local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
  name = name or a
  local g = global(name, after)
  if not g then return nil end
  if g.action then
    if inline then return nil, name .. " takes no value" end
    o.action = g.action
    return false
  end
  if not g.value then
    if inline then return nil, name .. " takes no value" end
    o[g.field] = true
    return i + 1
  end
  local v, next_i = inline, i + 1
  if not inline then v, next_i = argv[i + 1], i + 2 end
  if v == nil or (g.nonempty and v == "") then return nil, name .. " needs " .. g.value end
  if g.repeatable then
    o[g.field][#o[g.field] + 1] = v
  elseif o[g.field] ~= nil and o[g.field] ~= v then
    return nil, string.format("%s is given twice, as '%s' and as '%s'", name, o[g.field], v)
  else
    o[g.field] = v
  end
  return next_i
end

-- A word that names a script: a path (a /), a .lua file, or a file that
-- exists (is_file(word)).
local function is_script(word, is_file)
  return word:find("/", 1, true) ~= nil or word:match("%.lua$") ~= nil or (is_file ~= nil and is_file(word))
end

-- An option of the closed subcommand c, or a global one that may follow
-- it? nil | "unknown option 'a'" with the closest of those.
local function closed_unknown(c, a)
  local names = {}
  for _, opt in ipairs(c.internal or {}) do
    if opt == a then return nil end
  end
  for _, opt in ipairs(c.options) do
    if opt == a or (a:match("^[^=]*") == opt and takes_value(c, opt)) then return nil end
    names[#names + 1] = opt
  end
  for _, g in ipairs(M.GLOBALS) do
    if not g.before then names[#names + 1] = g.name end
  end
  return "unknown option '" .. a .. "'" .. suggest.hint(a:match("^[^=]*"), names)
end

-- Does option a of the closed subcommand c take the next word as its value?
local function takes_value(c, a)
  for _, v in ipairs(c.values or {}) do
    if v == a then return true end
  end
  return false
end

local function unknown_command(word)
  local names = {}
  for _, c in ipairs(M.COMMANDS) do names[#names + 1] = c.name end
  local c = suggest.closest(word, names)
  if c then return "unknown command '" .. word .. "'; did you mean '" .. c .. "'?" end
  return "unknown command '" .. word .. "' (cdnctl --help lists the commands)"
end

-- How many words an option the command c reads as its own takes (its value
-- too, unless given as --opt=VALUE) -> 1 | 2 | nil (not its own)
local function owned(c, a)
  local name, inline = a:match("^(%-%-[^=]+)(=?)")
  for _, own in ipairs(c and c.own or {}) do
    if own == name then return inline == "=" and 1 or 2 end
  end
  return nil
end

-- The words after the subcommand at argv[first - 1] into o.args, the global
-- options among them into o; `--` ends those (it and the rest are the
-- subcommand's). run's end at NAME (o.script_index) or at an option of
-- run's own (--help): the rest are NAME's. -> o | nil, message
local function sub_words(o, argv, first)
  local i = first
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      table.move(argv, i, #argv, #o.args + 1, o.args)
      break
    end
    local own = owned(M.command(o.sub), a)
    local after, err
    if own then after = i + own else after, err = option(o, argv, i, true) end
    if err then return nil, err end
    if own then table.move(argv, i, after - 1, #o.args + 1, o.args) end
    if after then
      i = after
    elseif o.sub == "run" then -- NAME, or run's own option (--help): the rest is NAME's
      if a:sub(1, 1) ~= "-" then o.script_index = i; i = i + 1 end
      table.move(argv, i, #argv, #o.args + 1, o.args)
      break
    else
      local c = M.command(o.sub)
      local unknown = c.closed and a:match("^%-.") and closed_unknown(c, a)
      if unknown then return nil, o.sub .. ": " .. unknown end
      o.args[#o.args + 1] = a
      i = i + 1
      if c.closed and argv[i] ~= nil and takes_value(c, a) then o.args[#o.args + 1] = argv[i]; i = i + 1 end
    end
  end
  return o
end

-- M.parse_options(argv [, is_file]) -> options | nil, message (a usage
-- error). Pure: argv in, a table out, nothing read or written but through
-- is_file(word) (does a file of that name exist?), which tells a script
-- from an unknown command. options: exprs (the -e codes, in order),
-- verbose, sandbox, allow_http, quiet, profile, har; action ("help",
-- "version", "man": print it and stop); sub (a subcommand of M.COMMANDS)
-- and sub_index (its place in argv); script_index (the script's place in
-- argv: a path, "-", or run's NAME); args (the words after the subcommand
-- or script that are not cdnctl's).
function M.parse_options(argv, is_file)
  local o = { exprs = {}, args = {} }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then o.script_index = argv[i + 1] and i + 1 or nil; break
    elseif a == "-" then o.script_index = i; break
    elseif a:sub(1, 1) == "-" then
      local after, err = option(o, argv, i, false)
      if after == nil then return nil, err or unknown_option(argv, i, a:match("^[^=]*")) end
      if not after then return o end
      i = after
    elseif #o.exprs > 0 or (not M.command(a) and is_script(a, is_file)) then o.script_index = i; break
    elseif M.command(a) then
      o.sub, o.sub_index = a, i
      return sub_words(o, argv, i + 1)
    else return nil, unknown_command(a) end
  end
  if o.script_index then table.move(argv, o.script_index + 1, #argv, 1, o.args) end
  return o
end

return M
