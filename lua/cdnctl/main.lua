-- cdnctl.main: the command line. C's main() hands over argv (argv[0] the
-- program) and exits with the status this returns: 0 ok, 1 a script error,
-- 2 a usage error. Subcommands (sandbox, call, profiles) live in their own
-- modules; this file only dispatches.

local host = require "cdnctl.host"

local M = {}

local USAGE = [==[
usage: cdnctl [options] [script.lua [args...]]
       cdnctl [options] -e 'code'
       cdnctl [options] -            (read the script from standard input)
       cdnctl [options]              (interactive prompt on a terminal)
       cdnctl sandbox [sandbox options]   (see cdnctl sandbox --help)

options:
  -e CODE        run CODE (may be repeated; runs before the script)
  -v             trace every request on stderr (same as CDNCTL_DEBUG=1)
  --sandbox      start the embedded sandbox and point both services at it
  --version      print the version and exit
  -h, --help     print this help and exit

environment:
  SHORTPIXEL_API_KEY, EASYIO_API_KEY        default API keys
  CDNCTL_SHORTPIXEL_URL                     default https://no-cdn.shortpixel.ai
  CDNCTL_SHORTPIXEL_API_URL                 default https://api.shortpixel.com
  CDNCTL_EASYIO_URL                         default https://optimize.exactlywww.com
  CDNCTL_DEBUG=1                            same as -v
  CDNCTL_LUA_PATH                           load the Lua library from this folder

exit status: 0 success, 1 script error, 2 usage error]==]

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
    io.stderr:write("cdnctl: ", tostring(res[2]), "\n")
    return 1
  end
  return 0
end

function M.main(argv)
  local opts = { exprs = {} }
  local i = 1
  local script_index
  while i <= #argv do
    local a = argv[i]
    if a == "-e" then
      if not argv[i + 1] then return usage_error("-e needs an argument") end
      opts.exprs[#opts.exprs + 1] = argv[i + 1]
      i = i + 2
    elseif a == "-v" then
      opts.verbose = true
      i = i + 1
    elseif a == "--sandbox" then
      opts.sandbox = true
      i = i + 1
    elseif a == "--version" then
      print("cdnctl " .. host.version .. " (" .. _VERSION .. ")")
      return 0
    elseif a == "-h" or a == "--help" then
      print(USAGE)
      return 0
    elseif a == "--" then
      script_index = i + 1 <= #argv and i + 1 or nil
      break
    elseif a == "-" then
      script_index = i
      break
    elseif a:sub(1, 1) == "-" then
      return usage_error("unknown option '" .. a .. "'")
    elseif i == 1 and a == "sandbox" then
      return require("cdnctl.sandbox.cli").main(argv, i + 1)
    else
      script_index = i
      break
    end
  end

  host.no_core_dumps()
  local cdnctl = require "cdnctl"
  if opts.verbose or (os.getenv("CDNCTL_DEBUG") or "") ~= "" and os.getenv("CDNCTL_DEBUG") ~= "0" then
    cdnctl.debug(true)
  end
  cdnctl.install_globals()

  local sandbox
  if opts.sandbox then
    local err
    sandbox, err = require("cdnctl.sandbox.embedded").start()
    if not sandbox then
      io.stderr:write("cdnctl: cannot start the sandbox: ", tostring(err), "\n")
      return 1
    end
  end

  local status = 0
  for _, code in ipairs(opts.exprs) do
    status = run_chunk(load(code, "=(command line)", "t"))
    if status ~= 0 then return status end
  end

  if script_index then
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
    -- a script may ask for a specific exit status by returning os.exit-like codes
  elseif #opts.exprs == 0 then
    set_arg(argv, #argv + 1)
    if require("cdnctl.fs").isatty(0) then
      status = require("cdnctl.repl").run { sandbox = sandbox }
    else
      status = run_chunk(load(io.read("a") or "", "=stdin", "t"))
    end
  end
  if sandbox then sandbox:stop() end
  return status
end

return M.main
