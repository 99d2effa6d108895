-- cdnctl.front.main: the command line. C's main() hands over argv (argv[0] the
-- program) and exits with the status this returns: 0 ok, 1 a script error,
-- 2 a usage error. Global options come before or after a subcommand (the
-- table cdnctl.front.options.COMMANDS: call, whoami, profiles, run, sandbox,
-- version, help), before a script. Each subcommand lives in its own module.

local host = require "cdnctl.host"
local options = require "cdnctl.front.options"

local M = {}

local USAGE = [==[
usage: cdnctl [options] [script.lua [args...]]
       cdnctl [options] -e 'code'
       cdnctl [options] -              read the script from standard input
       cdnctl [options]                interactive prompt (script from stdin if not a terminal)
       cdnctl [options] call OP [ARG...] [name=value...] [--output json|table|csv]
                                       [--yes] [--dry-run]
       cdnctl [options] call --list
       cdnctl profiles [--json]        the profiles of the config file: keys masked, URLs,
                                       the active one marked
       cdnctl [options] plan INVENTORY.csv [--json] [--out PLAN.json] [--detailed-exitcode]
                                       what apply would do to bring the accounts to the
                                       client list (docs/inventory.md); changes nothing
       cdnctl [options] apply INVENTORY.csv|PLAN.json [--yes] [--dry-run]
                                       make those calls, each row under its profile
       cdnctl [options] status INVENTORY.csv [--json|--csv]
                                       every client in one table, worst first
       cdnctl [options] import [--profile NAME...] [--domains FILE] [--out FILE]
                                       an inventory of what the accounts hold today
       cdnctl [options] run NAME [ARGS...]
                                       a ready script by name (purge, report, watch...)
       cdnctl [options] whoami [--offline]
                                       per service: base URLs, key (masked), where each
                                       came from; checks each key unless --offline
       cdnctl sandbox [--help]         run the offline emulator of both APIs
       cdnctl [options] version        the version and the commit it was built from
       cdnctl [options] help [COMMAND | BINDING]
                                       a command's help (as COMMAND --help) or a binding's

options go before or after a subcommand (cdnctl call OP ARG --profile NAME);
after a script or run NAME the words are the script's; --opt=VALUE works as
--opt VALUE does; -- ends the options. Each but -e is given once (or twice
with the same value).

options:
  -e CODE          run CODE (may be repeated; runs before the script)
  -v               trace every request on stderr (same as CDNCTL_DEBUG=1)
  --sandbox        start the embedded sandbox and point both services at it
  --profile NAME   use this profile of the config file (or CDNCTL_PROFILE)
  --allow-http     allow sending keys over plain http to a non-loopback host
  --quiet          no progress lines
  --har FILE       record every HTTP exchange (each attempt) to FILE as HAR 1.2,
                   keys masked, mode 0600 (or CDNCTL_HAR=FILE); replay it with
                   cdnctl sandbox --compare FILE
  --version        print the version and the commit, and exit
  -h, --help       print this help and exit

every service's key and base URLs come from one source, the first set of:
--sandbox; --profile NAME or CDNCTL_PROFILE (or a ready script's --profile);
the environment, when it sets any of SHORTPIXEL_API_KEY, EASYIO_API_KEY,
CDNCTL_*_URL; the config's default_profile. A service that source does not
configure has no key: its calls fail naming the source, and nothing is taken
from a lower source. opts.key in a call replaces the key only. Lower sources
set and ignored: stderr names them once, in one line.

environment:
{services}
  CDNCTL_PROFILE                       profile to use
  CDNCTL_HAR=FILE                      same as --har FILE
  CDNCTL_DEBUG=1                       same as -v
  CDNCTL_LUA_PATH                      load the Lua library from this folder
  NO_COLOR                             no colours
  XDG_CONFIG_HOME, XDG_STATE_HOME      config file and prompt history locations

call asks first on a terminal before an operation that destroys or costs
(remove_site, revoke_domain, remove_key, the purges); --yes skips the question;
without a terminal and without --yes nothing is sent (exit 2). --dry-run
prints the exact requests, keys masked, and sends nothing.

exit status: 0 success, 1 script error (or API failure for call, a refused key
for whoami), 2 usage error (or, for call, not confirmed)]==]

local function usage_error(msg)
  io.stderr:write("cdnctl: ", msg, "\n", "Try 'cdnctl --help'.\n")
  return 2
end

-- Set the global 'arg' as the stock lua interpreter does: arg[0] is the
-- script, arg[1..] its arguments, negative indices the options before it.
local function set_arg(argv, script_index)
  local a = {}
  for i = 0, #argv do a[i - script_index] = argv[i] end
  rawset(_G, "arg", a)
end

-- Run a chunk under the message handler; report and map to an exit status.
local function run_chunk(chunk, err, ...)
  if not chunk then
    io.stderr:write("cdnctl: ", tostring(err), "\n")
    return 1
  end
  local res = table.pack(host.pcall(chunk, ...))
  if not res[1] then
    if type(res[2]) == "table" and math.type(res[2].exit_status) == "integer" then return res[2].exit_status end
    io.stderr:write("cdnctl: ", require("cdnctl.suggest").explain(tostring(res[2])), "\n")
    return 1
  end
  return 0
end

-- Warn when a key seems to be on the command line, where ps shows it.
local function warn_keys_in_argv(argv)
  for i = 1, #argv do
    local a = argv[i]
    -- `call ... key=VALUE` / `api_key=VALUE`, or a quoted literal in -e code:
    -- `{ key = "sp-..." }`; not `{ key = key }`, which names a variable.
    local literal = a:match("^[%w_]*[Kk][Ee][Yy]=([^%s]+)$")
      or a:match("[Kk][Ee][Yy]%s*=%s*[\"']([^\"'%s]+)[\"']")
    if literal and #literal >= 8 and not a:match("^%-%-") then
      io.stderr:write("cdnctl: warning: argument ", i, " seems to hold an API key; other users can see it in ps. "
        .. "Use SHORTPIXEL_API_KEY / EASYIO_API_KEY or a profile instead.\n")
      return
    end
  end
end

-- The environment lines of --help for the keys and base URLs (ops.services).
local function services_help()
  local ops = require "cdnctl.ops"
  local keys, lines = {}, {}
  for _, service in ipairs(ops.service_order) do keys[#keys + 1] = ops.services[service].key_env end
  lines[1] = string.format("  %-37sAPI keys\n", table.concat(keys, ", "))
  for _, service in ipairs(ops.service_order) do
    for _, u in ipairs(ops.services[service].urls) do
      lines[#lines + 1] = string.format("  %-37sdefault %s\n", u.env, u.default)
    end
  end
  return table.concat(lines)
end

-- --help, --version, --man. -> 0
local function show(action)
  if action == "man" then io.stdout:write(require("cdnctl.front.man").page())
  elseif action == "version" then return require("cdnctl.front.help").version({})
  else print((USAGE:gsub("{services}\n", services_help, 1))) end
  return 0
end

-- The config file and the profile it selects (--profile, CDNCTL_PROFILE,
-- default_profile). `cdnctl profiles` lists even under a bad profile name.
-- -> cfg, profile | nil, nil, exit status
local function select_profile(o)
  local files = require "cdnctl.config_file"
  local cfg, cerr = files.load()
  if cfg == false then io.stderr:write("cdnctl: ", cerr, "\n"); return nil, nil, 2 end
  local prof, perr = files.select(cfg, o.profile)
  if prof == false and o.sub ~= "profiles" then io.stderr:write("cdnctl: ", perr, "\n"); return nil, nil, 2 end
  return cfg, prof or nil
end

-- The debug level -v and CDNCTL_DEBUG ask for (CDNCTL_DEBUG=2: libcurl's
-- verbose output too), or 0.
local function debug_level(o)
  local dbg = os.getenv("CDNCTL_DEBUG")
  if o.verbose or (dbg and dbg ~= "" and dbg ~= "0") then return math.tointeger(tonumber(dbg)) or 1 end
  return 0
end

-- What a run must do before any key is used: the HAR recorder, the keys of
-- the environment masked (used or not), --allow-http said, keys on the
-- command line warned about. -> nil | exit status
local function prepare_keys(o, s, argv)
  local har_file = o.har or os.getenv("CDNCTL_HAR")
  if har_file and har_file ~= "" then
    local rec, herr = require("cdnctl.har").open(har_file)
    if not rec then io.stderr:write("cdnctl: --har: ", herr, "\n"); return 2 end
    s.har = rec -- start-up: nothing has used s yet
    -- the recording is an output: never the script or the config file
    local script_path = o.script_index and argv[o.script_index] ~= "-" and argv[o.script_index] or nil
    local _, ferr = require("cdnctl.kit.files").check({}, { script_path, require("cdnctl.config_file").path() }, nil, s)
    if ferr then io.stderr:write("cdnctl: ", ferr, "\n"); return 2 end
  end
  local ops = require "cdnctl.ops"
  for _, service in ipairs(ops.service_order) do
    local k = s.env[ops.services[service].key_env]
    if k then require("cdnctl.redact").add(k) end
  end
  if o.allow_http then
    io.stderr:write("cdnctl: warning: --allow-http: API keys may travel in clear text to non-loopback hosts\n")
  end
  warn_keys_in_argv(argv)
end

-- The masking of writes (the one process-wide effect, installed here,
-- before any user code), the library on the settings value s and its
-- globals. -> lib
local function start_library(s)
  local cdnctl = require "cdnctl"
  require("cdnctl.masking").install()
  local lib = cdnctl.new(s)
  if s.debug ~= 0 then lib.debug(s.debug) end
  cdnctl.install_globals(lib)
  return lib
end

-- --sandbox: the embedded sandbox, made the first source of keys and URLs
-- in s. -> sandbox | nil | false (it could not start: said on stderr)
local function start_sandbox(o, s)
  if not o.sandbox then return nil end
  local embedded = require "cdnctl.sandbox.embedded"
  local sandbox, base_or_err = embedded.start()
  if not sandbox then
    io.stderr:write("cdnctl: cannot start the sandbox: ", tostring(base_or_err), "\n")
    return false
  end
  s.sandbox, s.resolved = embedded.source(base_or_err), {} -- start-up: nothing has used s yet
  return sandbox
end

-- The chunks of the command line: the -e codes, then the script or, with
-- neither, the prompt on a terminal or the script on stdin.
-- -> status, mode ("batch" | "prompt")
local function run_chunks(o, argv, lib, sandbox)
  for _, code in ipairs(o.exprs) do
    local status = run_chunk(load(code, "=(command line)", "t"))
    if status ~= 0 then return status, "batch" end -- an -e failed: not on to the script
  end
  if o.script_index then
    set_arg(argv, o.script_index)
    local name = argv[o.script_index]
    local chunk, err
    if name == "-" then chunk, err = load(io.read("a") or "", "=stdin", "t")
    else chunk, err = loadfile(name, "t") end
    return run_chunk(chunk, err, table.unpack(o.args)), "batch"
  elseif #o.exprs == 0 then
    set_arg(argv, #argv + 1)
    if require("cdnctl.fs").isatty(0) then
      return require("cdnctl.front.prompt").run { sandbox = sandbox, lib = lib }, "prompt"
    end
    return run_chunk(load(io.read("a") or "", "=stdin", "t")), "batch"
  end
  return 0, "batch"
end

-- Does a file of this name exist (a script, not an unknown command)?
local function is_file(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- run NAME: the ready script's path in NAME's place in argv, then on as if
-- the path had been given. run alone or run --help: its usage (exit 2, 0).
-- -> nil | exit status
local function resolve_run(o, argv)
  local runner = require "cdnctl.front.run"
  if not o.script_index then
    local a = o.args[1]
    if a == "--help" or a == "-h" then io.stdout:write(runner.usage(), "\n"); return 0 end
    if a == "--names" then return runner.print_names() end -- for shell completion
    local _, rerr = runner.find(a)
    io.stderr:write(rerr, "\n")
    return 2
  end
  local path, rerr = runner.find(argv[o.script_index])
  if not path then io.stderr:write(rerr, "\n"); return 2 end
  argv[o.script_index] = path
  o.sub = nil
end

-- The subcommands that need neither the config nor the library: help
-- (which hands `help COMMAND` back as `COMMAND --help`), version, sandbox.
-- -> nil (not one of them) | exit status, mode
local function early(o, cmd)
  if cmd.phase == "help" then
    local again = require("cdnctl.front.help").command(o.args, options)
    if type(again) == "table" then return M.main(again) end
    return again, "batch"
  end
  return require(cmd.module)[cmd.fn or "main"](o.args, 1), cmd.mode or "batch"
end

-- The phases of a run: options, profile, keys, globals, sandbox, dispatch.
-- A subcommand's entry (cdnctl.front.options.COMMANDS) says in which phase
-- it takes over. -> exit status, mode ("batch" | "prompt" | "server")
function M.main(argv)
  local o, oerr = options.parse_options(argv, is_file)
  if not o then return usage_error(oerr) end
  if o.action then return show(o.action) end
  local cmd = o.sub and options.command(o.sub)
  if cmd and (cmd.phase == "start" or cmd.phase == "help") then return early(o, cmd) end
  if cmd and cmd.phase == "script" then
    local rstatus = resolve_run(o, argv)
    if rstatus then return rstatus, "batch" end
    cmd = nil
  end
  host.no_core_dumps()
  local cfg, prof, pstatus = select_profile(o)
  if pstatus then return pstatus end
  local s = require("cdnctl.settings").from_environment {
    profile = prof, allow_http = o.allow_http, quiet = o.quiet, debug = debug_level(o) }
  if cmd and cmd.phase == "config" then return require(cmd.module).main(cfg, o.args, s) end
  local kstatus = prepare_keys(o, s, argv)
  if kstatus then return kstatus end
  local sandbox = start_sandbox(o, s)
  if sandbox == false then require("cdnctl.har").close(s.har); return 1 end
  local lib = start_library(s)
  local status, mode
  if cmd then
    status, mode = require(cmd.module).main(o.args, lib), "batch"
  else
    status, mode = run_chunks(o, argv, lib, sandbox)
  end
  require("cdnctl.har").close(s.har)
  if sandbox then sandbox:stop() end
  return status, mode
end

-- The exit status of M.main(argv), where a failed write to standard output
-- (a full disk, a closed pipe) is a failure, never a silent success.
local function main(argv)
  local status, mode = M.main(argv)
  -- a run stopped by SIGINT, SIGTERM or SIGHUP (the results and summary
  -- written) ends with 128 + the signal: 130, 143, 129; usage errors stay
  -- 2. At the prompt a Ctrl-C only cancels a line or a call (SIGTERM and
  -- SIGHUP end it); a signal is how `cdnctl sandbox`, a server, stops.
  local sig = host.stop_signal()
  if sig ~= 0 and status ~= 2 and mode ~= "server" and not (mode == "prompt" and sig == 2) then
    status = 128 + sig
  end
  local flushed, ferr = require("cdnctl.fs").flush_stdout()
  if not flushed then
    io.stderr:write("cdnctl: ", ferr, "\n")
    if status == 0 then status = 1 end
  end
  return status
end

return main
