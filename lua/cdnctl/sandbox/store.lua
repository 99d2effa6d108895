-- cdnctl.sandbox.store: the sandbox's --state FILE, as a snapshot and a
-- journal, so that a change costs the same however big the state is and
-- survives kill -9 once it is answered.
--   FILE          the whole state as JSON (mode 0600), replaced atomically
--                 (temporary file, fsync, rename, fsync of the folder) at
--                 start and at stop only; it records the number of the last
--                 journal entry it holds (journal_seq)
--   FILE.journal  one JSON line per change since (a request that changed
--                 the state, with the time and the names it drew), appended
--                 and synced before the change is answered (changes answered
--                 in the same round of the server's loop share one sync)
-- Start: snapshot, then the journal's entries past journal_seq replayed by
-- the caller, then a new snapshot and an empty journal (compaction). Stop:
-- a new snapshot, the journal removed. A crash between the two steps of a
-- compaction replays nothing twice: entries the snapshot holds are skipped.
-- A last line cut short by a crash was never answered and is ignored.

local json = require "cdnctl.json"
local fs = require "cdnctl.fs"

local M = {}
M.__index = M

local MODE = tonumber("600", 8)

-- Strings that are not UTF-8 (JSON cannot carry them) travel as hex.
function M.pack(s)
  if s == nil or utf8.len(s) then return s end
  return { hex = (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) }
end
function M.unpack(v)
  if type(v) ~= "table" then return v end
  return (tostring(v.hex):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- A file's whole text; nil when there is none. -> text | nil | nil, message
local ENOENT = 2
local function read_whole(path)
  local info = fs.stat(path) -- first: opening a FIFO would block
  if info and info.type ~= "file" then
    return nil, path .. " is a " .. (info.type == "dir" and "directory" or "special file") .. ", not a state file"
  end
  local f, oerr, code = io.open(path, "rb")
  if not f then
    if code == ENOENT then return nil end
    return nil, oerr
  end
  local text = f:read("a")
  f:close()
  if not text then return nil, "cannot read " .. path end
  return text
end

-- M.open(path, check) -> store, state or nil, entries | nil, message
-- Reads the snapshot (check(state) -> true | nil, why) and the journal's
-- entries that the snapshot does not hold, in order; writes nothing.
function M.open(path, check)
  local text, err = read_whole(path)
  if err then return nil, err end
  local st, seq = nil, 0
  if text then
    local loaded, derr = json.decode(text)
    local ok, why = check(loaded)
    if not ok then
      return nil, "state file " .. path .. " is not a sandbox state (" .. tostring(derr or why) .. ")"
    end
    seq = math.tointeger(loaded.journal_seq) or 0
    loaded.journal_seq = nil
    st = loaded
  end
  local jpath = path .. ".journal"
  local jtext, jerr = read_whole(jpath)
  if jerr then return nil, jerr end
  local entries, k = {}, 0
  for line in (jtext or ""):gmatch("([^\n]*)\n") do -- whole lines only: a torn last one was never answered
    k = k + 1
    local e = json.decode(line)
    if type(e) ~= "table" or not math.tointeger(e.n) then
      return nil, "state journal " .. jpath .. ": line " .. k .. " is not a journal entry"
    end
    if e.n > seq then entries[#entries + 1] = e; seq = e.n end
  end
  local self = setmetatable({ path = path, jpath = jpath, seq = seq, pending = {} }, M)
  return self, st, entries
end

-- The snapshot's text: the state and the number of the last entry it holds.
local function snapshot(self, state)
  local top = {}
  for k, v in pairs(state) do top[k] = v end
  top.journal_seq = self.seq
  return json.encode(top)
end

-- Replaces the snapshot atomically, mode 0600 whatever the file had
-- (fs.check_output's rules). -> true | nil, message
local function write_snapshot(self, state)
  local out, err = fs.check_output(self.path, MODE, true)
  if not out then return nil, err end
  return out:replace(snapshot(self, state))
end

-- store:start(state) -> true | nil, message: opens the journal, writes the
-- snapshot, empties the journal. Fails when either file cannot be written.
function M:start(state)
  local j, err = fs.journal(self.jpath)
  if not j then return nil, err end
  self.journal = j
  local ok, werr = write_snapshot(self, state)
  if not ok then return nil, werr end
  return j:truncate()
end

-- store:queue(entry): numbers the entry and queues it for the next flush.
function M:queue(entry)
  self.seq = self.seq + 1
  entry.n = self.seq
  self.pending[#self.pending + 1] = json.encode(entry) .. "\n"
end

-- store:flush() -> true | nil, message: every queued entry made durable, in
-- order, with one write and one sync. On failure they stay queued (and are
-- written by a later flush that can), so the journal keeps the order.
function M:flush()
  local q = self.pending
  if #q == 0 then return true end
  local ok, err = self.journal:append(table.concat(q))
  if not ok then return nil, err end
  self.pending = {}
  return true
end

-- store:stop(state) -> true | nil, message: the snapshot, then the journal
-- removed. When the snapshot cannot be written the journal stays.
function M:stop(state)
  local ok, err = write_snapshot(self, state)
  if not ok then
    self:flush()
    self.journal:close()
    return nil, err
  end
  self.journal:close()
  os.remove(self.jpath)
  return true
end

return M
