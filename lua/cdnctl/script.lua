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

return M
