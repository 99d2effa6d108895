-- cdnctl.sandbox.store: the sandbox's --state FILE, all of its durability.
-- A change costs the same however big the state is, is answered only once
-- it survives kill -9, and is undone when it cannot be saved.
--   FILE          the whole state as JSON (mode 0600), replaced atomically
--                 (temporary file, fsync, rename, fsync of the folder) at
--                 start and at stop only; it records the number of the last
--                 journal entry it holds (journal_seq)
--   FILE.journal  one JSON line per request that changed the state (with
--                 the time and the names it drew), appended and synced
--                 before the change is answered; locked (flock) for the
--                 life of the process, the holder's pid in FILE.journal.pid
-- Start: the snapshot, the journal's entries past journal_seq carried out
-- again (replay), a new snapshot and an empty journal (compaction). Stop: a
-- new snapshot, the journal removed. A crash between the two steps of a
-- compaction replays nothing twice: entries the snapshot holds are skipped.
-- A last line cut short by a crash was never answered and is ignored.
--
-- Knowing what changed: once started, every table of the state is a proxy
-- (an empty table whose metatable's __index is the table holding the data,
-- and whose __newindex is one function), so each write is seen and logged
-- with the value it replaced. A handler says nothing: the request that
-- wrote is journaled, one that raised is undone, and a group that cannot be
-- synced is undone, newest write first, before its answers (503) go.
-- Proxies read as tables do (indexing, pairs, ipairs, #); next, rawget and
-- json.encode see them empty, so answers and snapshots go through sb:plain.
-- A table with a metatable of its own is stored as it is, untracked.
--
-- Group commit: server.c holds back every answer given while changes wait
-- (answer.durable, a number) and calls flush() once a round of its loop is
-- handled: one write and one sync for the whole group.

local json = require "cdnctl.json"
local fs = require "cdnctl.fs"
local lockfile = require "cdnctl.lockfile"

local M = {}
M.__index = M

local MODE = tonumber("600", 8)
-- What the refusal to open a state file another sandbox holds says.
M.IN_USE = "is in use by another sandbox"

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

-- Write tracking ---------------------------------------------------------------

-- The proxies of one store: wrap(t) turns t (and every table in it) into a
-- proxy in place, so that references to t see its writes; plain(v) is v
-- with every proxy in it copied out as a plain table. Writes go to
-- log[1..log.n] as (data table, key, old value) triples.
local function tracker(log)
  local write, wrap
  local function proxied(t)
    local mt = getmetatable(t)
    return mt and mt.__newindex == write and mt.__index
  end
  local function pairs_of(p) return next, getmetatable(p).__index, nil end
  local function len_of(p) return #getmetatable(p).__index end
  function write(p, k, v)
    local data = getmetatable(p).__index
    local old = data[k]
    if old == v then return end
    if type(v) == "table" then v = wrap(v) end
    local n = log.n
    log[n + 1], log[n + 2], log[n + 3], log.n = data, k, old, n + 3
    data[k] = v
  end
  function wrap(t)
    local mt = getmetatable(t)
    if mt and mt ~= json.array_mt then return t end -- a proxy already, or a kind of its own (a decoded [] is data)
    local data = {}
    for k, v in next, t do data[k] = type(v) == "table" and wrap(v) or v end
    for k in next, data do rawset(t, k, nil) end
    return setmetatable(t, { __index = data, __newindex = write, __pairs = pairs_of, __len = len_of })
  end
  local function plain(v)
    if type(v) ~= "table" then return v end
    local data, nested = proxied(v), false
    if not data and getmetatable(v) then return v end
    if not data then
      for _, x in next, v do if type(x) == "table" then nested = true; break end end
      if not nested then return v end
    end
    local out = {}
    for k, x in next, data or v do out[k] = plain(x) end
    return out
  end
  return wrap, plain
end

-- Undoes the writes logged past mark, newest first. -> how many
local function undo(log, mark)
  local n = log.n
  for i = n, mark + 3, -3 do
    log[i - 2][log[i - 1]] = log[i]
    log[i - 2], log[i - 1], log[i] = nil, nil, nil
  end
  log.n = mark
  return (n - mark) // 3
end

-- Opening and starting ---------------------------------------------------------

-- The journal's entries that the snapshot (holding up to seq) does not
-- hold, in order. -> entries, seq | nil, message
local function entries_of(jpath, jtext, seq)
  local entries, k = {}, 0
  for line in (jtext or ""):gmatch("([^\n]*)\n") do -- whole lines only: a torn last one was never answered
    k = k + 1
    local e = json.decode(line)
    if type(e) ~= "table" or not math.tointeger(e.n) then
      return nil, "state journal " .. jpath .. ": line " .. k .. " is not a journal entry"
    end
    if e.n > seq then entries[#entries + 1] = e; seq = e.n end
  end
  return entries, seq
end

-- The snapshot in FILE: -> state or nil (no file), seq | nil, message
local function read_snapshot(path, check)
  local text, err = read_whole(path)
  if err then return nil, err end
  if not text then return nil, 0 end
  local loaded, derr = json.decode(text)
  local ok, why = check(loaded)
  if not ok then return nil, "state file " .. path .. " is not a sandbox state (" .. tostring(derr or why) .. ")" end
  local seq = math.tointeger(loaded.journal_seq) or 0
  loaded.journal_seq = nil
  return loaded, seq
end

-- FILE.journal opened under its lock (cdnctl.lockfile: the holder's pid in
-- FILE.journal.pid). -> journal | nil, message
local function lock(jpath)
  local j, err, kind = lockfile.claim(jpath, fs.journal)
  if j then return j end
  if kind ~= "locked" then return nil, err end
  return nil, ("the state file %s %s (pid %s); stop it, or use another --state"):format(jpath:sub(1, -9), M.IN_USE, err)
end

-- M.open(path, check) -> store, state or nil | nil, message
-- Takes the journal's lock, reads the snapshot (check(state) -> true | nil,
-- why) and the journal's entries it does not hold (replayed by start).
function M.open(path, check)
  local info = fs.stat(path)
  if info and info.type ~= "file" then return nil, select(2, read_whole(path)) end
  local jpath = path .. ".journal"
  local j, lerr = lock(jpath)
  if not j then return nil, lerr end
  local self = setmetatable({ path = path, jpath = jpath, journal = j }, M)
  local st, seq = read_snapshot(path, check)
  local err = not st and type(seq) == "string" and seq or nil
  local jtext
  if not err then jtext, err = read_whole(jpath) end
  if not err then self.entries, self.seq = entries_of(jpath, jtext, seq); err = not self.entries and self.seq end
  if err then self:close(); return nil, err end
  return self, st
end

-- The snapshot's text: the state and the number of the last entry it holds.
local function snapshot(self, state)
  local top = {}
  for k, v in pairs(state) do top[k] = self.plain and self.plain(v) or v end
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

-- store:start(sb, run) -> true | nil, message. The journal's entries carried
-- out again in order (run(req) with sb:begin(recorded time, recorded names);
-- an entry of a request that raised, x, may raise again), then the
-- compaction; from then on every write to sb.state is tracked.
function M:start(sb, run)
  for i, e in ipairs(self.entries) do
    local req = { method = e.m, uri = M.unpack(e.u) or "", body = M.unpack(e.b) or "",
                  headers = type(e.h) == "table" and e.h or {} }
    sb:begin(math.tointeger(e.t), type(e.r) == "table" and e.r or {}, nil)
    local ok, err = pcall(run, req)
    sb:finish()
    if not ok and not e.x then
      return nil, "state journal " .. self.jpath .. ": entry " .. i .. " cannot be replayed: " .. sb:mask(tostring(err))
    end
  end
  self.entries = nil
  local ok, err = write_snapshot(self, sb.state)
  if ok then ok, err = self.journal:truncate() end
  if not ok then return nil, "cannot write the state: " .. err end
  self.log, self.pending, self.held, self.last = { n = 0 }, {}, {}, 0
  local wrap
  wrap, self.plain = tracker(self.log)
  wrap(sb.state)
  sb:track(self.plain)
  return true
end

-- Requests ---------------------------------------------------------------------

-- The journal's line for a request that changed the state: the request,
-- its time and the names it drew.
local function entry(self, sb, req)
  self.seq = self.seq + 1
  return json.encode {
    n = self.seq, t = sb.wall, m = req.method, u = M.pack(req.uri), b = M.pack(req.body),
    h = { ["content-type"] = req.headers["content-type"], ["user-agent"] = req.headers["user-agent"] },
    r = sb.drawn and sb.drawn[1] and sb.drawn or nil,
  } .. "\n"
end

-- store:carry(sb, req, respond) -> answer, route | nil, error: the one
-- commit, around every request. respond(req) -> answer, route runs; if it
-- raises, what it wrote is undone. If it wrote, its entry is queued for the
-- next flush. While any entry waits, the answer is held for that flush
-- (answer.durable numbers it; route gives its 503 the service's shape), so
-- that no answer shows a change that may yet be undone.
function M:carry(sb, req, respond)
  local log = self.log
  local mark = log.n
  local ok, resp, route = pcall(respond, req)
  if not ok then
    if undo(log, mark) > 0 then sb:drop_indexes() end
    return nil, resp
  end
  if log.n > mark then self.pending[#self.pending + 1] = entry(self, sb, req) end
  if #self.pending == 0 or resp.later then return resp, route end -- later: no answer yet
  self.last = self.last + 1
  self.held[self.last] = route or false
  resp.durable = self.last
  return resp, route
end

-- store:flush(sb, refuse) -> true | false, message, {[durable] = answer}:
-- the queued entries written with one write and one sync (group commit).
-- When that fails, every write of the group is undone, newest first, its
-- entries dropped, and every held answer becomes refuse(route, 503, why).
function M:flush(sb, refuse)
  local q, held, log = self.pending, self.held, self.log
  self.pending, self.held = {}, {}
  local ok, err = true, nil
  if #q > 0 then ok, err = self.journal:append(table.concat(q)) end
  if ok then
    for i = 1, log.n do log[i] = nil end
    log.n = 0
    return true
  end
  self.seq = self.seq - #q
  undo(log, 0)
  sb:drop_indexes()
  local why = "sandbox: the change could not be saved (" .. err .. "): not done"
  local answers = {}
  for id, route in pairs(held) do answers[id] = refuse(route or nil, 503, why) end
  return false, err, answers
end

-- store:stop(sb) -> true | nil, message: the snapshot, then the journal
-- removed. When the snapshot cannot be written the journal stays.
function M:stop(sb)
  local ok, err = write_snapshot(self, sb.state)
  if ok then os.remove(self.jpath) end
  self:close()
  return ok, err
end

-- store:close(): the journal closed and its lock let go.
function M:close()
  if not self.journal then return end
  lockfile.release(self.jpath, self.journal)
  self.journal = nil
end

-- Without --state: nothing is journaled or tracked; a request that raises
-- keeps what it wrote.
local memory = {}
function memory.carry(_, _, req, respond)
  local ok, resp, route = pcall(respond, req)
  if not ok then return nil, resp end
  return resp, route
end
function memory.flush() return true end
function memory.stop() return true end

-- M.memory() -> the store of a sandbox without --state.
function M.memory() return memory end

return M
