-- cdnctl.script: what the ready scripts share: argument parsing with clear
-- usage errors, selecting a profile, a journal of completed steps that
-- survives kill -9, and the exit statuses (0 ok, 2 usage, 3 some failed).

local json = require "cdnctl.json"
local fs = require "cdnctl.fs"

local M = {}

M.EXIT_OK, M.EXIT_USAGE, M.EXIT_FAILED = 0, 2, 3

-- M.args(argv, spec, usage) -> options, positional | exits 2 with a message.
-- spec: {["--out"] = "value", ["--dry-run"] = "flag", ["--concurrency"] = "integer"}
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
    elseif a:sub(1, 2) == "--" and a ~= "--" then
      local kind = spec[name]
      if not kind then die("unknown option '" .. name .. "'") end
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

-- Select a profile by name for this script (as --profile does for cdnctl).
function M.use_profile(name)
  if not name then return true end
  local profiles = require "cdnctl.profiles"
  local cfg, err = profiles.load()
  if cfg == false then return nil, err end
  local p, perr = profiles.select(cfg, name)
  if not p then return nil, perr or ("no profile '" .. name .. "'") end
  require("cdnctl.config").profile = p
  return true
end

function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
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

local function own_pid()
  local f = io.open("/proc/self/stat", "rb")
  local pid = f and f:read("n")
  if f then f:close() end
  return pid and math.tointeger(pid)
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

local function same_target(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- Reads the entries of a locked journal, calling on_entry(e) for each step;
-- returns the target it records (nil when empty), whether the last line is torn.
local function read_entries(path, on_entry)
  local f = io.open(path, "rb")
  if not f then return nil, false end
  local target, torn, any = nil, false, false
  for line in f:lines("L") do
    any = true
    torn = line:sub(-1) ~= "\n"
    local e = json.decode((line:gsub("\n$", "")))
    if type(e) == "table" then
      if type(e.target) == "table" and not target then target = e.target
      elseif e.step then on_entry(e) end
    end
  end
  f:close()
  return target, torn, any
end

-- M.journal(path, opts) -> journal | nil, message, kind
-- opts.target: {service = base URL}, recorded in a new journal and checked in
-- an old one (kind "target" when it differs); opts.fresh: start it over;
-- opts.on_entry(e): called with each step entry read back. kind "locked":
-- another run holds it; "io": it cannot be opened.
function M.journal(path, opts)
  opts = opts or {}
  local target = opts.target or {}
  local f, err, kind = fs.open_locked(path, opts.fresh)
  if not f then
    if kind == "locked" then
      local pf = io.open(path .. ".pid", "rb")
      local pid = pf and pf:read("l")
      if pf then pf:close() end
      return nil, string.format("the journal %s is in use by another run (pid %s); wait for it to end, or use another --journal",
        path, pid and pid:match("^%d+$") or "unknown"), "locked"
    end
    return nil, "the journal: " .. tostring(err), "io"
  end
  local pid = own_pid()
  if pid then fs.write_atomic(path .. ".pid", pid .. "\n") end
  local j = setmetatable({ path = path, file = f }, Journal)
  local old, torn, any = read_entries(path, opts.on_entry or function() end)
  if any and not old then
    j:close()
    return nil, string.format("the journal %s records no target (written by an older cdnctl); use another --journal, or --fresh to start it over", path), "target"
  end
  if old and not same_target(old, target) then
    j:close()
    return nil, string.format("the journal %s was written for another target (%s), not this one (%s); use another --journal, or --fresh to start it over",
      path, target_words(old), target_words(target)), "target"
  end
  if torn then f:write("\n") end -- a torn last line: the next entry starts on a line of its own
  if not old then
    local ok, werr = j:write({ target = target })
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
    os.remove(self.path .. ".pid") -- first: once the lock goes, the file is the next holder's
    self.file:close()
    self.file = nil
  end
end

return M
