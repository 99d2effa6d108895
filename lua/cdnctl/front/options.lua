-- cdnctl.front.options: the command line's global options, read by a pure
-- function: argv in, a table or a usage error out, nothing read or written
-- (cdnctl.front.main acts on the table: the phases of a run).

local suggest = require "cdnctl.suggest"

local M = {}

M.SUBCOMMANDS = { sandbox = true, call = true, profiles = true, whoami = true, run = true }
M.FLAGS = { "-e", "-v", "--sandbox", "--allow-http", "--quiet", "--profile", "--har", "--man", "--version", "--help" }
local SWITCHES = { ["-v"] = "verbose", ["--sandbox"] = "sandbox", ["--allow-http"] = "allow_http",
                   ["--quiet"] = "quiet", ["-q"] = "quiet" }
local ACTIONS = { ["--man"] = "man", ["--version"] = "version", ["-h"] = "help", ["--help"] = "help" }

-- One option at argv[i] into o. -> the index after it | false (an action:
-- the options end here) | nil, message
local function option(o, argv, i)
  local a = argv[i]
  if SWITCHES[a] then o[SWITCHES[a]] = true; return i + 1 end
  if ACTIONS[a] then o.action = ACTIONS[a]; return false end
  local v = argv[i + 1]
  if a == "-e" then
    if not v then return nil, "-e needs an argument" end
    o.exprs[#o.exprs + 1] = v
    return i + 2
  elseif a == "--profile" then
    if not v then return nil, "--profile needs a name" end
    o.profile = v
    return i + 2
  elseif a:match("^%-%-profile=") then o.profile = a:match("=(.*)"); return i + 1
  elseif a == "--har" then
    if not v or v == "" then return nil, "--har needs a file name" end
    o.har = v
    return i + 2
  elseif a:match("^%-%-har=.") then o.har = a:match("=(.*)"); return i + 1
  end
  return nil, "unknown option '" .. a .. "'" .. suggest.hint(a:match("^[^=]*"), M.FLAGS)
end

-- M.parse_options(argv) -> options | nil, message (a usage error). Pure:
-- argv in, a table out, nothing read or written. options: exprs (the -e
-- codes, in order), verbose, sandbox, allow_http, quiet, profile, har;
-- action ("help", "version", "man": print it and stop); sub (a subcommand)
-- and sub_index (its place in argv); script_index (the script's place in
-- argv: a path or "-"); args (the words after the subcommand or script).
function M.parse_options(argv)
  local o = { exprs = {} }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then o.script_index = argv[i + 1] and i + 1 or nil; break
    elseif a == "-" then o.script_index = i; break
    elseif a:sub(1, 1) == "-" then
      local after, err = option(o, argv, i)
      if after == nil then return nil, err end
      if not after then break end
      i = after
    elseif M.SUBCOMMANDS[a] and #o.exprs == 0 then o.sub, o.sub_index = a, i; break
    else o.script_index = i; break end
  end
  local from = o.sub_index or o.script_index
  o.args = {}
  for k = (from or #argv) + 1, #argv do o.args[#o.args + 1] = argv[k] end
  return o
end

return M
