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

-- A journal: one JSON object per line, flushed and fsync'd as written.
-- Lines that do not parse (a torn last line after a crash) are skipped.
local Journal = {}
Journal.__index = Journal

function M.journal(path)
  local entries = {}
  local text = M.read_file(path)
  if text then
    for line in text:gmatch("[^\n]+") do
      local e = json.decode(line)
      if type(e) == "table" then entries[#entries + 1] = e end
    end
    -- a torn last line: start the next entry on a line of its own
    if #text > 0 and text:sub(-1) ~= "\n" then
      local f = io.open(path, "ab")
      if f then f:write("\n"); f:close() end
    end
  end
  local f, err = io.open(path, "ab")
  if not f then return nil, "cannot open the journal " .. path .. ": " .. tostring(err) end
  return setmetatable({ path = path, file = f, entries = entries }, Journal)
end

function Journal:write(entry)
  self.file:write(json.encode(entry), "\n")
  local ok, err = fs.fsync(self.file)
  if not ok then error("journal " .. self.path .. ": " .. tostring(err)) end
  self.entries[#self.entries + 1] = entry
end

function Journal:close()
  if self.file then self.file:close(); self.file = nil end
end

return M
