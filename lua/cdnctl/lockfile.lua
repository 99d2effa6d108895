-- cdnctl.lockfile: a file held under an exclusive flock for the life of a
-- run, with the holder's pid in PATH.pid beside it, so that a second run
-- on the same file stops at once and says who holds it (onboard's
-- --journal, the sandbox's FILE.journal). The lock itself is fs.c's
-- (fs.open_locked, fs.journal); this names its holder.

local host = require "cdnctl.host"

local M = {}

-- M.holder(path) -> the pid PATH.pid names, or "unknown"
function M.holder(path)
  local f = io.open(path .. ".pid", "rb")
  local pid = f and f:read("l")
  if f then f:close() end
  return pid and pid:match("^%d+$") or "unknown"
end

-- M.claim(path, open) -> handle | nil, message, kind
-- open(path) -> handle | nil, message, kind ("locked": another process
-- holds it). Once held, PATH.pid names this process; kind "locked" comes
-- back with the holder's pid as the message.
function M.claim(path, open)
  local h, err, kind = open(path)
  if not h then
    if kind == "locked" then return nil, M.holder(path), "locked" end
    return nil, err, kind
  end
  local f = io.open(path .. ".pid", "wb")
  if f then f:write(host.pid(), "\n"); f:close() end
  return h
end

-- M.release(path, handle): PATH.pid removed, then the lock let go
-- (handle:close()): once the lock goes, the pid file is the next holder's.
function M.release(path, handle)
  os.remove(path .. ".pid")
  handle:close()
end

return M
