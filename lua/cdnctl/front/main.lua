-- cdnctl.front.main: the command line. C's main() hands over argv (argv[0] the
-- program) and exits with the status this returns: 0 ok, 1 a script error,
-- 2 a usage error. Global options come first; then a subcommand (sandbox,
-- call, profiles, whoami) or a script. Each subcommand lives in its own module.

local host = require "cdnctl.host"

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
       cdnctl [options] run NAME [ARGS...]
                                       a ready script by name (purge, report, watch...)
       cdnctl [options] whoami [--offline]
                                       per service: base URLs, key (masked), where each
                                       came from; checks each key unless --offline
       cdnctl sandbox [--help]         run the offline emulator of both APIs

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
  --version        print the version and exit
  -h, --help       print this help and exit

a service's key and base URLs come together from the first source set for it:
--sandbox; --profile NAME or CDNCTL_PROFILE; the environment (SHORTPIXEL_API_KEY,
EASYIO_API_KEY, CDNCTL_*_URL); the config's default_profile. opts.key in a call
replaces the key only. Two sources set: stderr says once which one is used.

environment:
  SHORTPIXEL_API_KEY, EASYIO_API_KEY   API keys
  CDNCTL_SHORTPIXEL_URL                default https://no-cdn.shortpixel.ai
  CDNCTL_SHORTPIXEL_API_URL            default https://api.shortpixel.com
  CDNCTL_EASYIO_URL                    default https://optimize.exactlywww.com
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

local SUBCOMMANDS = { sandbox = true, call = true, profiles = true, whoami = true, run = true }
local FLAGS = { "-e", "-v", "--sandbox", "--allow-http", "--quiet", "--profile", "--har", "--man", "--version", "--help" }

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

function M.main(argv)
  local opts = { exprs = {} }
  local i = 1
  local script_index, sub
  while i <= #argv do
    local a = argv[i]
    if a == "-e" then
      if not argv[i + 1] then return usage_error("-e needs an argument") end
      opts.exprs[#opts.exprs + 1] = argv[i + 1]
      i = i + 2
    elseif a == "-v" then opts.verbose = true; i = i + 1
    elseif a == "--sandbox" then opts.sandbox = true; i = i + 1
    elseif a == "--allow-http" then opts.allow_http = true; i = i + 1
    elseif a == "--quiet" or a == "-q" then opts.quiet = true; i = i + 1
    elseif a == "--profile" then
      if not argv[i + 1] then return usage_error("--profile needs a name") end
      opts.profile = argv[i + 1]
      i = i + 2
    elseif a:match("^%-%-profile=") then opts.profile = a:match("=(.*)"); i = i + 1
    elseif a == "--har" then
      if not argv[i + 1] or argv[i + 1] == "" then return usage_error("--har needs a file name") end
      opts.har = argv[i + 1]
      i = i + 2
    elseif a:match("^%-%-har=.") then opts.har = a:match("=(.*)"); i = i + 1
    elseif a == "--man" then
      io.stdout:write(require("cdnctl.front.man").page())
      return 0
    elseif a == "--version" then
      print("cdnctl " .. host.version .. " (" .. _VERSION .. ")")
      return 0
    elseif a == "-h" or a == "--help" then
      print(USAGE)
      return 0
    elseif a == "--" then
      script_index = argv[i + 1] and i + 1 or nil
      break
    elseif a == "-" then
      script_index = i
      break
    elseif a:sub(1, 1) == "-" then
      return usage_error("unknown option '" .. a .. "'" .. require("cdnctl.suggest").hint(a:match("^[^=]*"), FLAGS))
    elseif SUBCOMMANDS[a] and #opts.exprs == 0 then
      sub = a
      break
    else
      script_index = i
      break
    end
  end

  if sub == "sandbox" then return require("cdnctl.sandbox.cli").main(argv, i + 1), "server" end
  if sub == "run" then -- a ready script by name: then as if its path had been given
    local path, rerr = require("cdnctl.front.run").find(argv[i + 1])
    if not path then io.stderr:write(rerr, "\n"); return 2 end
    sub, script_index, argv[i + 1] = nil, i + 1, path
  end

  host.no_core_dumps()
  local config = require "cdnctl.config"
  local profiles = require "cdnctl.config_file"
  local cfg, cerr = profiles.load()
  if cfg == false then io.stderr:write("cdnctl: ", cerr, "\n"); return 2 end
  local prof, perr = profiles.select(cfg, opts.profile)
  if sub == "profiles" then
    config.profile = prof or nil -- a bad profile name does not stop the listing
    local args = {}
    for k = i + 1, #argv do args[#args + 1] = argv[k] end
    return require("cdnctl.front.profiles").main(cfg, args)
  end
  if prof == false then io.stderr:write("cdnctl: ", perr, "\n"); return 2 end
  config.profile = prof
  local har_file = opts.har or os.getenv("CDNCTL_HAR")
  if har_file and har_file ~= "" then
    local hok, herr = require("cdnctl.har").open(har_file)
    if not hok then io.stderr:write("cdnctl: --har: ", herr, "\n"); return 2 end
  end
  -- mask the keys in everything printed from the start, used or not
  for _, name in ipairs({ "SHORTPIXEL_API_KEY", "EASYIO_API_KEY" }) do
    local k = os.getenv(name)
    if k and k ~= "" then require("cdnctl.redact").add(k) end
  end
  config.allow_http = opts.allow_http or false
  if opts.allow_http then
    io.stderr:write("cdnctl: warning: --allow-http: API keys may travel in clear text to non-loopback hosts\n")
  end
  warn_keys_in_argv(argv)

  local cdnctl = require "cdnctl"
  local dbg = os.getenv("CDNCTL_DEBUG")
  if opts.verbose or (dbg and dbg ~= "" and dbg ~= "0") then
    cdnctl.debug(math.tointeger(tonumber(dbg)) or 1) -- CDNCTL_DEBUG=2: libcurl's verbose output too
  end
  if opts.quiet then require("cdnctl.sched").quiet = true end
  cdnctl.install_globals()

  local sandbox
  if opts.sandbox then
    local err
    sandbox, err = require("cdnctl.sandbox.embedded").start()
    if not sandbox then
      io.stderr:write("cdnctl: cannot start the sandbox: ", tostring(err), "\n")
      require("cdnctl.har").close()
      return 1
    end
  end

  local status, mode = 0, "batch"
  if sub == "call" or sub == "whoami" then
    local args = {}
    for k = i + 1, #argv do args[#args + 1] = argv[k] end
    status = require("cdnctl.front." .. sub).main(args)
  else
    for _, code in ipairs(opts.exprs) do
      status = run_chunk(load(code, "=(command line)", "t"))
      if status ~= 0 then break end
    end
    if status ~= 0 then
      -- an -e failed: do not go on to the script
    elseif script_index then
      set_arg(argv, script_index)
      local name = argv[script_index]
      local chunk, err
      if name == "-" then
        chunk, err = load(io.read("a") or "", "=stdin", "t")
      else
        chunk, err = loadfile(name, "t")
      end
      local args = {}
      for k = script_index + 1, #argv do args[#args + 1] = argv[k] end
      status = run_chunk(chunk, err, table.unpack(args))
    elseif #opts.exprs == 0 then
      set_arg(argv, #argv + 1)
      if require("cdnctl.fs").isatty(0) then
        status, mode = require("cdnctl.front.prompt").run { sandbox = sandbox }, "prompt"
      else
        status = run_chunk(load(io.read("a") or "", "=stdin", "t"))
      end
    end
  end
  require("cdnctl.har").close()
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
