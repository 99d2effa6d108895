-- cdnctl.kit.script: what the ready scripts share: argument parsing with clear
-- usage errors, selecting a profile, a journal of completed steps that
-- survives kill -9, and the exit statuses (0 ok, 2 usage, 3 some failed).

local json = require "cdnctl.json"
local fs = require "cdnctl.fs"
local host = require "cdnctl.host"
local lockfile = require "cdnctl.lockfile"
local client = require "cdnctl.client"

local M = {}

M.EXIT_OK, M.EXIT_USAGE, M.EXIT_FAILED = 0, 2, 3

-- The key precedence, as cdnctl.config applies it, for every script's --help.
M.KEYS_HELP = [[
Keys: every service's key and base URLs come from one source, the first of:
cdnctl --sandbox; the run's profile (--profile NAME here or before the
script, or CDNCTL_PROFILE); the environment (SHORTPIXEL_API_KEY,
EASYIO_API_KEY, CDNCTL_*_URL), when it sets any of them; the config's
default_profile. A service that source does not configure has no key: none
is taken from another source. A per-row key column of the CSV is that row's.]]
-- The output rules (cdnctl.kit.files, fs.check_output), for every script's --help.
M.OUTPUTS_HELP = [[
Outputs: every output is checked before any request, against every input
and every other output (through symbolic and hard links): one file given
twice, an output that is an input, a FIFO nobody reads, a directory or a
folder that does not exist is refused (exit 2). A regular file is replaced
atomically and keeps its mode; a symbolic link is followed and stays; a
character device (/dev/null) is written in place and may be shared. '-' is
standard output (standard input for an input), which carries one output at
most. A write that fails is exit 1. (docs/scripts.md, "Files")]]
-- The most an input file may hold (docs/scripts.md): 64 MiB.
M.INPUT_CAP = 64 * 1024 * 1024

-- "unknown option 'NAME'" with the closest of the script's own options.
local function unknown_option(name, spec)
  local names = { "--help", "-h" }
  for k in pairs(spec) do names[#names + 1] = k end
  table.sort(names)
  return "unknown option '" .. name .. "'" .. require("cdnctl.suggest").hint(name, names)
end

-- M.args(argv, spec, usage) -> options, positional | exits 2 with a message.
-- spec: {["--out"] = "value", ["--dry-run"] = "flag", ["--concurrency"] = "integer"}
-- A word starting with - and a letter, or with --, is an option (an unknown
-- one is refused with the closest of spec's); "-" is a positional (standard
-- input); "--" ends the options: the words after it are positional.
function M.args(argv, spec, usage)
  local opts, pos = {}, {}
  local i = 1
  local function die(msg)
    io.stderr:write(msg, "\n", usage, "\n")
    cdnctl.exit(M.EXIT_USAGE)
  end
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    if a == "--help" or a == "-h" then
      io.stdout:write(usage, "\n")
      cdnctl.exit(0)
    elseif a == "--" then
      table.move(argv, i + 1, #argv, #pos + 1, pos)
      break
    elseif a:sub(1, 2) == "--" or a:match("^%-%a") then
      local kind = spec[name]
      if not kind then die(unknown_option(name, spec)) end
      local key = name:sub(3):gsub("-", "_")
      if kind == "flag" then
        if inline then die(name .. " takes no value") end
        opts[key] = true
      else
        local v = inline or argv[i + 1]
        if v == nil then die(name .. " needs a value") end
        if not inline then i = i + 1 end
        if kind == "integer" then
          local n = math.tointeger(tonumber(v))
          if not n or n < 1 then die(name .. " must be a positive integer, not '" .. v .. "'") end
          v = n
        end
        if kind == "list" then
          opts[key] = opts[key] or {}
          table.insert(opts[key], v)
        else
          opts[key] = v
        end
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

-- M.use_profile(name [, row]) -> true | nil, message: selects the profile
-- every call of this script runs under (cdnctl.config: one source for
-- every service), as `cdnctl --profile` does. A run has one run profile: a
-- script's --profile that names another profile than cdnctl's --profile is
-- refused (it would be a silent choice). row: the profile of a group of
-- rows (watch.lua's --profile selects rows): it replaces the run profile
-- for the calls of those rows.
function M.use_profile(name, row)
  if not name then return true end
  local run = cdnctl.settings.profile
  if not row and run and run.via == "--profile" and run.name ~= name then
    return nil, string.format("two profiles: cdnctl --profile %s and the script's --profile %s; give one", run.name, name)
  end
  local profiles = require "cdnctl.config_file"
  local cfg, err = profiles.load()
  if cfg == false then return nil, err end
  local p, perr = profiles.select(cfg, name)
  if not p then return nil, perr or ("no profile '" .. name .. "'") end
  local ok, cerr = require("cdnctl.settings").change(cdnctl.settings, { profile = p })
  if not ok then return nil, cerr end
  return true
end

-- M.other_profile(cell, input) -> nil | why a row whose `profile` cell is
-- cell is not run: onboard, purge and report run under one source (the
-- run's), so a row naming another profile is not sent (cdnctl apply runs
-- each row under its profile). An empty cell is the run's source; against
-- an in-process sandbox (--sandbox) every profile is the sandbox.
function M.other_profile(cell, input)
  local named = (cell or ""):match("^%s*(.-)%s*$")
  if named == "" then return nil end
  local view = require("cdnctl.config").resolve(cdnctl.settings, "shortpixel", true)
  if view.kind == "sandbox" then return nil end
  local run = view.profile and view.profile.name
  if named == run then return nil end
  return "profile: the row names profile '" .. named .. "', and this run's source is "
    .. (run and ("profile '" .. run .. "'") or tostring(view.name or view.kind))
    .. ": this script runs under one source, so the row is not sent; `cdnctl apply " .. tostring(input)
    .. "` runs each row under its profile, or run the script with --profile " .. named
end

-- M.read_file(path) -> text | nil, "PATH: why": a whole file, any bytes,
-- at most M.INPUT_CAP (see M.read_input for inputs a user gives).
function M.read_file(path)
  return M.read(path, M.INPUT_CAP)
end

-- A journal: one JSON object per line, flushed and fsync'd as written. The
-- first line names the target ({"target": {service = base URL}}); each step
-- records a fingerprint of the key that did it (M.fingerprint), never the
-- key. The file is locked (flock) while a run uses it, the holder's pid in
-- PATH.pid beside it. Lines that do not parse (a torn last line after a
-- crash) are skipped.
local Journal = {}
Journal.__index = Journal

-- M.fingerprint(key) -> the first 16 hex digits of the key's SHA-256 ("none" without a key)
function M.fingerprint(key)
  if type(key) ~= "string" or key == "" then return "none" end
  return require("cdnctl.codec").sha256_hex(key):sub(1, 16)
end

-- The target in words: "shortpixel https://..., easyio https://..."
local function target_words(target)
  local names = {}
  for name in pairs(target) do names[#names + 1] = name end
  table.sort(names)
  local words = {}
  for _, name in ipairs(names) do words[#words + 1] = name .. " " .. tostring(target[name]) end
  return table.concat(words, ", ")
end

-- a copy of old with the names of over replaced
local function merged(old, over)
  local t = {}
  for k, v in pairs(old) do t[k] = v end
  for k, v in pairs(over) do t[k] = v end
  return t
end

local function same_target(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- Reads the entries of a locked journal, calling on_entry(e) for each step;
-- returns the target it records (its target lines together: a later one
-- adds names, never changes one; nil when empty), whether the last line is torn.
local function read_entries(path, on_entry)
  local f = io.open(path, "rb")
  if not f then return nil, false end
  local target, torn, any = nil, false, false
  for line in f:lines("L") do
    any = true
    torn = line:sub(-1) ~= "\n"
    local e = json.decode((line:gsub("\n$", "")))
    if type(e) == "table" then
      if type(e.target) == "table" then
        target = target or {}
        for k, v in pairs(e.target) do if target[k] == nil then target[k] = v end end
      elseif e.step then on_entry(e) end
    end
  end
  f:close()
  return target, torn, any
end

-- M.journal(path, opts) -> journal | nil, message, kind
-- opts.target: {service = base URL}, recorded in a new journal and checked in
-- an old one (kind "target" when it differs); opts.fresh: start it over;
-- opts.on_entry(e): called with each step entry read back; opts.open_target:
-- the target is a set of names (a run may use some of them), and names the
-- journal does not record yet are added to it. kind "locked":
-- another run holds it; "io": it cannot be opened.
function M.journal(path, opts)
  opts = opts or {}
  local target = opts.target or {}
  local f, err, kind = lockfile.claim(path, function(p) return fs.open_locked(p, opts.fresh) end)
  if not f then
    if kind == "locked" then
      return nil, string.format("the journal %s is in use by another run (pid %s); wait for it to end, or use another --journal",
        path, err), "locked"
    end
    return nil, "the journal: " .. tostring(err), "io"
  end
  local j = setmetatable({ path = path, file = f }, Journal)
  local old, torn, any = read_entries(path, opts.on_entry or function() end)
  if any and not old then
    j:close()
    return nil, string.format("the journal %s records no target (written by an older cdnctl); use another --journal, or --fresh to start it over", path), "target"
  end
  local extra, agrees = nil, not old or same_target(old, target)
  if old and opts.open_target then
    -- a set of names: a name the journal has must agree; one it lacks is added
    local known = {}
    for k, v in pairs(target) do
      if old[k] == nil then extra = extra or {}; extra[k] = v else known[k] = v end
    end
    agrees = same_target(old, merged(old, known))
  end
  if not agrees then
    j:close()
    return nil, string.format("the journal %s was written for another target (%s), not this one (%s); use another --journal, or --fresh to start it over",
      path, target_words(old), target_words(target)), "target"
  end
  if torn then f:write("\n") end -- a torn last line: the next entry starts on a line of its own
  if not old or extra then
    local ok, werr = j:write({ target = extra or target })
    if not ok then j:close(); return nil, werr, "io" end
  end
  return j
end

-- journal:write(entry) -> true | nil, message (the disk is full, ...)
function Journal:write(entry)
  local ok, err = self.file:write(json.encode(entry), "\n")
  if ok then ok, err = fs.fsync(self.file) end
  if not ok then return nil, "cannot write the journal " .. self.path .. ": " .. tostring(err):gsub("^cannot fsync file: ", "") end
  return true
end

-- Closes the journal: the lock goes, and so does the pid file.
function Journal:close()
  if self.file then
    lockfile.release(self.path, self.file)
    self.file = nil
  end
end

-- Destructive operations ask first -------------------------------------------
-- The rule (README, "Destructive operations ask first"): `cdnctl call` of an
-- operation the table marks `destructive`, purge.lua and keys.lua remove ask
-- on a terminal; --yes skips the question; without a terminal and without
-- --yes nothing is sent and the exit status is 2, as gh does. Bindings called
-- from a user's script never ask.

-- "4 hosts: a.com, www.a.com, b.com, www.b.com"; past `max` (default 6)
-- names, "... and N more".
function M.hosts_text(hosts, max)
  max = max or 6
  local shown = {}
  for i = 1, math.min(#hosts, max) do shown[i] = hosts[i] end
  local text = string.format("%d host%s: %s", #hosts, #hosts == 1 and "" or "s", table.concat(shown, ", "))
  if #hosts > max then text = text .. string.format(" and %d more", #hosts - max) end
  return text
end

-- " (https://www.a.com/, alias a1.exactdn.com)": the site of site_id as
-- show_sites lists it (a read: made only when a terminal can answer).
local function site_detail(site_id, opts)
  local r, err = easyio.show_sites(opts)
  if not r then return " (show_sites failed, so its URL is unknown: " .. tostring(err) .. ")" end
  for _, s in ipairs(type(r.sites) == "table" and r.sites or {}) do
    if type(s) == "table" and tostring(s.site_id) == tostring(site_id) then
      return string.format(" (%s, alias %s)", tostring(s.site_url), tostring(s.alias))
    end
  end
  return " (show_sites does not list it on this account)"
end

-- " (label 'acme', 2 sites)": a sub-key as show_keys lists it (a read).
function M.sub_key_detail(sub_key, opts)
  local r, err = easyio.show_keys(opts)
  if not r then return " (show_keys failed, so its label is unknown: " .. tostring(err) .. ")" end
  return M.sub_key_text(r, sub_key)
end

-- The same words from a show_keys answer r already read (no read).
function M.sub_key_text(r, sub_key)
  local function get(map)
    local v = type(map) == "table" and map[sub_key]
    if v == nil or v == false or v == cdnctl.null then return nil end
    return v
  end
  for _, k in ipairs(type(r.keys) == "table" and r.keys or {}) do
    if k == sub_key then
      return string.format(" (label '%s', %s sites)", tostring(get(r.labels) or ""), tostring(get(r.sites) or 0))
    end
  end
  return " (show_keys does not list it on this account)"
end

-- What a destructive operation of the table would destroy, from its
-- `confirm` template and checked values: what (words, no read), detail (a
-- function that reads what names the target better: a site's URL and
-- alias, a sub-key's label; nil when there is nothing to read). `opts` are
-- the options of those reads (timeout...).
function M.target(op, values, opts)
  local what = op.confirm:gsub("{([%w_]+)}", function(name)
    if name == "hosts" then
      return M.hosts_text(values.both and require("cdnctl.check").hosts(values.domain) or { values.domain })
    end
    return tostring(values[name])
  end)
  local detail
  if values.site_id then detail = function() return site_detail(values.site_id, opts) end
  elseif values.sub_key then detail = function() return M.sub_key_detail(values.sub_key, opts) end end
  return what, detail
end

-- M.confirm(what, yes [, detail]) -> true | false, "no terminal" | "declined"
-- yes (--yes): true at once. Otherwise stdin and stderr must be terminals:
-- the question (what, then detail() when given: reads happen only here) goes
-- to stderr with [y/N]; "y" or "yes" (any case) proceeds, anything else, EOF
-- or Ctrl-C declines. The caller exits 2 on false, having sent nothing.
function M.confirm(what, yes, detail)
  if yes then return true end
  if not (fs.isatty(0) and fs.isatty(2)) then
    io.stderr:write("not done: ", what, " needs confirmation, and there is no terminal to ask on ",
      "(stdin and stderr are not both terminals); pass --yes to go ahead. Nothing was sent.\n")
    return false, "no terminal"
  end
  local question = what .. (detail and detail() or "") .. "? [y/N] "
  io.stderr:write(question)
  io.stderr:flush()
  local ok, answer = pcall(io.stdin.read, io.stdin, "l")
  if not ok or answer == nil then io.stderr:write("\n") end
  answer = ok and answer and answer:match("^%s*(.-)%s*$"):lower() or ""
  if answer == "y" or answer == "yes" then return true end
  io.stderr:write("not confirmed: nothing was changed\n")
  return false, "declined"
end

-- Files: inputs, outputs and standard output -------------------------------
-- The rules are fs.check_output's (src/fs.c, docs/scripts.md): a character
-- device or a FIFO that has a reader is written in place; a FIFO nobody
-- reads, a socket, a block device, a directory or a missing folder is
-- refused; a regular file is replaced atomically and keeps its mode; a
-- symbolic link is followed and stays.

-- M.refuse(message): a path or an input cdnctl will not use: the message
-- on stderr, exit 2 (usage), before any work (a --har not started yet is
-- not written either).
function M.refuse(message)
  require("cdnctl.har").abandon(cdnctl.settings.har)
  io.stderr:write(message, "\n")
  cdnctl.exit(M.EXIT_USAGE)
end

-- M.write_file(path, text [, mode]) -> true | nil, message: a file replaced
-- atomically by the output rules; mode, when given, is the file's even if
-- it exists (a new file's is 0644 otherwise, an old one keeps its own).
function M.write_file(path, text, mode)
  local out, err = fs.check_output(require("cdnctl.kit.files").output_path(path), mode, mode ~= nil)
  if not out then return nil, err end
  return out:replace(text)
end

local CHUNK = 65536

local function too_long(path, cap)
  if cap % (1 << 20) == 0 then return string.format("%s: longer than %d MiB, the limit on inputs", path, cap >> 20) end
  return string.format("%s: longer than %d bytes, the limit on inputs", path, cap)
end

-- M.read(path, cap [, text]) -> string | nil, message. Reads a whole input,
-- at most cap bytes: a directory is refused, a file over cap fails as soon
-- as that is known (at once for a regular file, after cap bytes for a
-- device or a pipe), and with text a NUL byte fails the read where it is
-- found (/dev/zero: the first read). Messages start with the path.
function M.read(path, cap, text)
  if cap < 0 then error("bad argument #2 to 'read' (the cap must not be negative)", 2) end
  local f, kind, size = require("cdnctl.kit.files").open_input(path)
  if not f then return nil, kind end
  local function fail(message)
    f:close()
    return nil, message
  end
  if kind == "dir" then return fail(path .. ": is a directory, not a file") end
  if kind == "file" and size > cap then return fail(too_long(path, cap)) end
  local chunks, total = {}, 0
  repeat
    local chunk, err = f:read(CHUNK)
    if err then return fail("cannot read " .. path .. ": " .. err) end
    chunk = chunk or ""
    local nul = text and chunk:find("\0", 1, true)
    if nul then return fail(string.format("%s: not a text file (a NUL byte at offset %d)", path, total + nul - 1)) end
    chunks[#chunks + 1] = chunk
    total = total + #chunk
    if total > cap then return fail(too_long(path, cap)) end
  until #chunk < CHUNK
  f:close()
  return table.concat(chunks)
end

-- M.read_input(path) -> text | nil, "PATH: why". An input a user gives (a
-- CSV, a list of domains): at most M.INPUT_CAP bytes; a directory, a file
-- with a NUL byte (a binary file, /dev/zero) and a longer input fail at
-- once, without reading on.
function M.read_input(path)
  return M.read(path, M.INPUT_CAP, true)
end

-- M.outputs(outputs [, inputs [, stdout]]) -> {[name] = out} | nil, message:
-- every output of a run checked up front, before any request, against
-- every input and every other output (cdnctl.kit.files.check, the one
-- function that decides). Each out is a cdnctl.Output: out:replace(text)
-- writes a result (atomically for a file), out:open(text) starts a file
-- written as it goes, out:begin() and out:commit(file) one put in place at
-- the end.
function M.outputs(outputs, inputs, stdout)
  return require("cdnctl.kit.files").check(outputs, inputs, stdout)
end

-- M.write_stdout(...) -> true | nil, message: io.stdout:write(...) (masked
-- as every write is), then a flush and a check of the stream, so that a
-- full disk or a closed pipe is known before the script says it is done.
function M.write_stdout(...)
  local ok, err = io.stdout:write(...)
  if not ok then return nil, "cannot write to standard output: " .. tostring(err) end
  return fs.flush_stdout()
end

-- M.write_stdout_unmasked(...): M.write_stdout through cdnctl.write_unmasked,
-- for the output that shows a key on purpose (keys.lua create).
function M.write_stdout_unmasked(...)
  local ok, err = cdnctl.write_unmasked(io.stdout, ...)
  if not ok then return nil, "cannot write to standard output: " .. tostring(err) end
  return fs.flush_stdout()
end

-- M.critical(fn, ...): runs fn(...) as one step that must not stop half-way
-- (a create, then its label and limits). Inside it a signal does not raise
-- "interrupted!" in Lua code: it ends the request in flight, which fails
-- with err.kind "interrupted" (a create first checks whether it took
-- effect), and fn says what was left; the exit status is still 128 + the
-- signal. A closed standard output fails writes (EPIPE) instead of ending
-- the process (SIGPIPE). Errors and cdnctl.exit pass through.
function M.critical(fn, ...)
  local piped = host.ignore_sigpipe(true)
  local r = table.pack(pcall(client.uninterrupted, fn, ...))
  host.ignore_sigpipe(piped)
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

return M
