-- cdnctl.lock: calls that must not overlap inside one process (two
-- create_key on one account key, two create_site of one URL) take turns, in
-- the order they came. The queues live in the settings value (s.locks), one
-- per name; this module keeps nothing. Only workers of cdnctl.parallel can
-- wait (they yield while others run); a caller that cannot yield and finds
-- the name taken would wait forever for a worker that never resumes, so it
-- is refused instead. It does not decide which calls share a name: each
-- operation says so (ops.lua, `serial`).

local sched = require "cdnctl.sched"
local http = require "cdnctl.http"

local M = {}

-- How often a waiter looks whether its turn came (seconds).
M.POLL = 0.005

-- Take ticket me out of the queue of name (the holder's or a waiter's).
local function leave(locks, name, me)
  local q = locks[name]
  if not q then return end
  for i = 1, #q do
    if q[i] == me then table.remove(q, i); break end
  end
  if #q == 0 then locks[name] = nil end
end

-- M.acquire(locks, name [, until_time]) -> guard | nil, why, kind
-- (kind: "invalid", "interrupted" or "deadline")
-- Waits for the turn of name (until http.now() passes until_time, a stop
-- signal, or never when the caller cannot yield). The guard is a
-- to-be-closed value: `local held <close> = guard` gives the turn on when
-- the call ends, however it ends (a return, an error, a worker closed by a
-- drain). A waiter closed while waiting leaves the queue the same way.
function M.acquire(locks, name, until_time)
  local q = locks[name]
  if not q then q = {}; locks[name] = q end
  local me = {}
  q[#q + 1] = me
  local granted = false
  local waiting <close> = setmetatable({}, { __close = function() if not granted then leave(locks, name, me) end end })
  while q[1] ~= me do
    if not sched.yields() then
      return nil, "another call of the same kind is in flight in a worker of cdnctl.parallel; "
        .. "make this call from a worker, not from a coroutine of its own", "invalid"
    end
    if sched.stopping() then return nil, "stopping (Ctrl-C)", "interrupted" end
    if until_time and http.now() >= until_time then
      return nil, "the deadline passed while it waited for the same call in flight", "deadline"
    end
    sched.sleep(M.POLL)
  end
  granted = true
  return setmetatable({}, { __close = function() leave(locks, name, me) end })
end

return M
