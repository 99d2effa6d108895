-- cdnctl.masking: every key the process knows shows masked in what a script
-- writes. M.install() replaces `write` on the file metatable that all Lua
-- files share, `print` and `io.write`: the one process-wide effect of the
-- command line, installed once by the front end (cdnctl.front.main) before
-- any user code runs, never by requiring a library module. A process that
-- embeds the library without the front end (a test, lua5.4 with the C
-- module) writes unmasked until it calls M.install() itself.
--
-- Why process-wide and not per settings value: a key must not leak through
-- any file, whoever opened it (a script's own io.open, a journal, a report),
-- and Lua has one metatable for all files. Keys are registered in one
-- process-wide registry (redact.c) for the same reason: the message handler
-- and the sandbox's thread mask too.

local redact = require "cdnctl.redact"

local M = {}

local methods = getmetatable(io.stdout).__index
-- file:write as Lua made it, taken when this module loads (before M.install
-- can have replaced it): M.write_unmasked's way around the masking.
local raw_write = methods.write

-- cdnctl.write_unmasked(file, ...): file:write without masking, for the
-- rare output that must show a key in full (a sub-key just created, a
-- listing asked for with --show-keys). Returns what file:write returns.
function M.write_unmasked(f, ...)
  return raw_write(f, ...)
end

local function masked_write(f, ...)
  local n = select("#", ...)
  if n == 1 then
    local v = ...
    return raw_write(f, type(v) == "string" and redact.mask(v) or v)
  end
  local args = table.pack(...)
  for i = 1, n do
    if type(args[i]) == "string" then args[i] = redact.mask(args[i]) end
  end
  return raw_write(f, table.unpack(args, 1, n))
end

local function masked_print(...)
  local n = select("#", ...)
  local parts = table.pack(...)
  for i = 1, n do parts[i] = tostring(parts[i]) end
  io.stdout:write(table.concat(parts, "\t", 1, n), "\n")
end

-- M.install(): mask file:write, print and io.write from now on. Calling it
-- again changes nothing.
function M.install()
  methods.write = masked_write
  rawset(_G, "print", masked_print)
  io.write = function(...) return io.output():write(...) end
end

-- M.installed() -> whether M.install() has run in this process.
function M.installed()
  return methods.write == masked_write
end

return M
