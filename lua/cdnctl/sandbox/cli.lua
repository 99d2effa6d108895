-- cdnctl.sandbox.cli: `cdnctl sandbox [options]`, the emulator as a server of
-- its own. Prints the base URL on the first line of standard output, serves
-- until SIGINT or SIGTERM, then saves the state and stops (exit status 1
-- when it could not be saved or could not start, 2 for a usage error, a
-- refused --state or --log path, or a --state another sandbox holds).

local server = require "cdnctl.server"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"
local accounts = require "cdnctl.sandbox.accounts"
local faults = require "cdnctl.sandbox.faults"

local M = {}

local function usage()
  local lines = {
    "usage: cdnctl sandbox [options]",
    "",
    "Serves an offline emulator of ShortPixel's CDN API (the domain paths and",
    "/v2/api-status.php) and Easy IO's Admin API (/exactdn/*, /api_key/*) on one",
    "loopback port, and prints the base URL to point clients at:",
    "  export " .. M.url_exports("URL"),
    "",
    "options:",
    "  --listen HOST:PORT     address (default 127.0.0.1:0, a free port)",
    "  --account shortpixel:KEY[:EMAIL]   add a ShortPixel user (repeatable)",
    "  --account easyio:KEY[:SITES]  add an Easy IO account, licensed for SITES sites",
    "  --state FILE           keep the state in FILE (and FILE.journal): each change is saved before it is answered;",
    "                         one sandbox at a time per FILE (another exits 2)",
    "  --latency MS|MIN-MAX   delay every API answer (milliseconds)",
    "  --faults SPEC          e.g. 500:0.05,429:0.02,reset:0.01,lost:0.01,done500:0.01,late:0.01",
    "                         a status or reset: not carried out; lost: carried out, then the",
    "                         connection is dropped; done500: carried out, then answered 500;",
    "                         late: carried out --late-ms after it arrives, answered then",
    "  --late-ms MS           when a late request is carried out (default " .. faults.LATE_MS .. ")",
    "  --seed N               make faults, latency and generated names repeatable",
    "  --log FILE             one JSON line per request, keys masked",
    "  --pending SECONDS      how long new Easy IO sites stay pending (default " .. sandbox.DEFAULT_PENDING .. ")",
    "  --env                  print shell lines on stdout instead of the URL (export the three URLs and",
    "                         the demo keys, unset CDNCTL_PROFILE): cdnctl sandbox --env > sandbox.env &",
    "                         then, once the file has its lines: . ./sandbox.env",
    "  --compare FILE.har     replay a recording (cdnctl --har FILE) against a fresh sandbox and",
    "                         print where its answers differ in shape; exit 0 none, 1 some, 2 not HAR",
    "",
    "demo accounts (keys that open nothing but the sandbox):",
  }
  for _, a in ipairs(accounts.demo.shortpixel) do
    lines[#lines + 1] = ("  ShortPixel  %-22s %s"):format(a.key, a.email)
  end
  for _, a in ipairs(accounts.demo.easyio) do
    lines[#lines + 1] = ("  Easy IO     %-22s account"):format(a.key)
    for _, s in ipairs(a.sub_keys or {}) do lines[#lines + 1] = ("  Easy IO     %-22s its sub-key"):format(s) end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "admin: GET /_sandbox/state, POST /_sandbox/reset, POST /_sandbox/clock {advance},"
  lines[#lines + 1] = "       POST /_sandbox/domain {domain, reachable, credits_used, credits_quota, exhausted_days},"
  lines[#lines + 1] = "       GET /_sandbox/cdn/HOST/PATH (a CDN fetch: usage grows). See docs/sandbox.md."
  return table.concat(lines, "\n")
end

local function fail(msg)
  io.stderr:write("cdnctl sandbox: ", msg, "\n", "try 'cdnctl sandbox --help'\n")
  return 2
end

-- --listen's value: HOST:PORT, [IPV6]:PORT or PORT -> host, port | nil, message
local function parse_listen(v, default_host)
  if not v then return nil, "--listen needs HOST:PORT" end
  local h, p = v:match("^%[(.+)%]:(%d+)$")
  if not h then h, p = v:match("^([^:]+):(%d+)$") end
  if not h then p = v:match("^(%d+)$"); h = default_host end
  p = tonumber(p)
  if not p or p > 65535 then return nil, "--listen: '" .. v .. "' is not HOST:PORT" end
  return h, math.tointeger(p)
end

-- --account's value into cfg.accounts -> nil | message
local function parse_account(accts, v)
  local svc, key, email = v:match("^(%a+):([^:]+):?(.*)$")
  if svc == "shortpixel" then
    if key:find("[%s/?#&%%]") then return "--account: the key has a character URLs cannot carry" end
    table.insert(accts.shortpixel, { key = key, email = email ~= "" and email or "user@example.com" })
  elseif svc == "easyio" and (email == "" or email:match("^%d+$")) then
    table.insert(accts.easyio, { key = key, licensed = math.tointeger(tonumber(email)) })
  else
    return "--account: 'shortpixel:KEY[:EMAIL]' or 'easyio:KEY[:SITES]' expected"
  end
end

-- The options: each reads its value (value(): the inline one after "=" or
-- the next argument, nil when missing) into p (cfg, host, port) and returns
-- nil or a message. `inline` is the "=value" part, for options without one.
local OPTION = {}
OPTION["--listen"] = function(p, value)
  local h, port = parse_listen(value(), p.host)
  if not h then return port end
  p.host, p.port = h, port
end
OPTION["--account"] = function(p, value) return parse_account(p.cfg.accounts, value() or "") end
local function file_option(name)
  return function(p, value)
    local v = value()
    if not v or v == "" then return name .. " needs a file name" end
    p.cfg[name:sub(3)] = v
  end
end
for _, name in ipairs { "--state", "--log", "--compare" } do OPTION[name] = file_option(name) end
OPTION["--latency"] = function(p, value)
  local lat, err = sandbox.parse_latency(value() or "")
  if not lat then return err end
  p.cfg.latency = lat
end
OPTION["--faults"] = function(p, value)
  local f, err = sandbox.parse_faults(value() or "")
  if not f then return err end
  p.cfg.faults = f
end
OPTION["--late-ms"] = function(p, value)
  local n = math.tointeger(tonumber(value() or ""))
  if not n or n < 0 or n > 600000 then return "--late-ms needs a whole number of milliseconds (0 to 600000)" end
  p.cfg.late_ms = n
end
OPTION["--seed"] = function(p, value)
  local n = math.tointeger(tonumber(value() or ""))
  if not n then return "--seed needs a whole number" end
  p.cfg.seed = n
end
OPTION["--env"] = function(p, _, inline)
  if inline then return "--env takes no value" end
  p.cfg.env = true
end
OPTION["--pending"] = function(p, value)
  local n = math.tointeger(tonumber(value() or ""))
  if not n or n < 0 then return "--pending needs a whole number of seconds" end
  p.cfg.pending = n
end

local KNOWN = { "--listen", "--account", "--state", "--latency", "--faults", "--late-ms", "--seed", "--log", "--pending", "--env",
  "--compare", "--help" }

-- M.parse(argv, first) -> cfg, host, port | "help" | nil, message
-- The options from argv[first] into the configuration server.start hands
-- the rules. Pure: it prints nothing and touches nothing.
function M.parse(argv, first)
  local p = { cfg = { accounts = { shortpixel = {}, easyio = {} } }, host = "127.0.0.1", port = 0 }
  local i = first
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local function value()
      if inline then return inline end
      i = i + 1
      return argv[i]
    end
    if name == "--help" or name == "-h" then return "help" end
    local option = OPTION[name]
    if not option then
      return nil, "unknown option '" .. a .. "'" .. require("cdnctl.suggest").hint(name, KNOWN)
    end
    local err = option(p, value, inline)
    if err then return nil, err end
    i = i + 1
  end
  return p.cfg, p.host, p.port
end

-- "NAME=url NAME=url ...": every base URL variable of every service
-- (cdnctl.ops.services) set to url.
function M.url_exports(url)
  local ops = require "cdnctl.ops"
  local parts = {}
  for _, service in ipairs(ops.service_order) do
    for _, u in ipairs(ops.services[service].urls) do parts[#parts + 1] = u.env .. "=" .. url end
  end
  return table.concat(parts, " ")
end

-- The shell lines of --env: the URLs and demo keys exported, no profile.
function M.env_lines(url)
  local ops = require "cdnctl.ops"
  local keys = {}
  for _, service in ipairs(ops.service_order) do
    keys[#keys + 1] = ops.services[service].key_env .. "=" .. accounts.demo[service][1].key
  end
  local pid = require("cdnctl.host").pid()
  return table.concat({
    "# cdnctl sandbox pid " .. pid .. " at " .. url .. "; stop it with: kill " .. pid,
    "export " .. M.url_exports(url),
    "export " .. table.concat(keys, " "),
    "unset CDNCTL_PROFILE",
    "",
  }, "\n")
end

-- The sandbox's files by the one check of a run's files
-- (cdnctl.kit.files.check), before it serves: --state and its journal
-- (FILE.journal, a regular file or a new path) and --log are outputs that
-- must be distinct files, none of them --compare's recording (an input);
-- standard output carries the URL (or the comparison), so `--log -` is
-- refused. The log is appended to, the state replaced atomically (0600).
-- -> nil | message
local function check_files(cfg)
  local files = require "cdnctl.kit.files"
  local outputs = {}
  if cfg.state then
    outputs["--state"] = { path = cfg.state, mode = 384 }
    outputs["--state's journal"] = { path = cfg.state .. ".journal", journal = true, mode = 384 }
  end
  if cfg.log then outputs["--log"] = cfg.log end
  local checked, err = files.check(outputs, { cfg.compare }, cfg.compare and "the comparison" or "the sandbox's URL", {})
  if not checked then return err end
  for _, out in pairs(checked) do out:close() end
  if cfg.log then cfg.log = files.output_path(cfg.log) end
end

function M.main(argv, first)
  local cfg, host, port = M.parse(argv, first)
  if cfg == "help" then io.stdout:write(usage(), "\n"); return 0 end
  if not cfg then return fail(host) end
  local ferr = check_files(cfg)
  if ferr then io.stderr:write("cdnctl sandbox: ", ferr, "\n"); return 2 end
  if cfg.compare then
    if cfg.state then return fail("--compare replays against a fresh sandbox: --state does not apply") end
    return require("cdnctl.sandbox.compare").main(cfg)
  end
  if not (host == "localhost" or host:match("^127%.") or host == "::1") then
    io.stderr:write("cdnctl sandbox: warning: listening on ", host, ", not loopback: others can reach it\n")
  end
  if host == "localhost" then host = "127.0.0.1" end
  local srv, err = server.start { host = host, port = port, config = json.encode(cfg) }
  if not srv then
    io.stderr:write("cdnctl sandbox: ", (tostring(err):gsub("^sandbox: ", "")), "\n")
    return tostring(err):find(require("cdnctl.sandbox.store").IN_USE, 1, true) and 2 or 1
  end
  local shown = host:find(":", 1, true) and ("[" .. host .. "]") or host
  local url = "http://" .. shown .. ":" .. srv:port()
  if cfg.env then io.stdout:write(M.env_lines(url)) else io.stdout:write(url, "\n") end
  io.stdout:flush()
  io.stderr:write("cdnctl sandbox: serving ShortPixel and Easy IO; Ctrl-C or SIGTERM stops it\n")
  local sig = server.wait_signal()
  local saved, serr = srv:stop()
  if not saved then
    io.stderr:write("cdnctl sandbox: stopped (", sig, "), state NOT saved: ", tostring(serr), "\n")
    return 1
  end
  io.stderr:write("cdnctl sandbox: stopped (", sig, ")", cfg.state and (", state saved to " .. cfg.state) or "", "\n")
  return 0
end

return M
