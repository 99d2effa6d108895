-- cdnctl.front.run: `cdnctl run NAME [ARGS]` finds a ready script by name
-- (with or without .lua): in <prefix>/share/cdnctl/scripts beside the
-- installed binary (<prefix>/bin/cdnctl), then, for a binary in a CMake
-- build folder, in the source tree's scripts/. An installed binary never
-- looks in a source tree.

local host = require "cdnctl.host"

local M = {}

-- The folders to look in, in order.
function M.dirs()
  local exe = host.exe()
  if not exe then return {} end
  local bin = exe:match("^(.*)/[^/]*$") or "."
  local out = { (bin:gsub("/bin$", "")) .. "/share/cdnctl/scripts" }
  local cache = io.open(bin .. "/CMakeCache.txt", "r")
  if cache then
    local text = cache:read("a")
    cache:close()
    local src = text:match("\nCMAKE_HOME_DIRECTORY:INTERNAL=([^\n]+)")
    if src then out[#out + 1] = src .. "/scripts" end
  end
  return out
end

local function exists(path)
  local f = io.open(path, "r")
  if not f then return false end
  local ok = f:read(0) ~= nil or f:seek("end") ~= nil
  f:close()
  return ok
end

-- The ready scripts' names, from the first folder that has any.
function M.names()
  for _, d in ipairs(M.dirs()) do
    local p = io.popen("ls '" .. d:gsub("'", "'\\''") .. "' 2>/dev/null")
    local names = {}
    for f in p:lines() do
      local n = f:match("^([%w_-]+)%.lua$")
      if n then names[#names + 1] = n end
    end
    p:close()
    if #names > 0 then table.sort(names); return names end
  end
  return {}
end

-- run's usage, with the ready scripts found.
function M.usage()
  local names = M.names()
  return "usage: cdnctl [options] run NAME [ARGS...]\n"
    .. "  runs the ready script NAME (with or without .lua) from " .. table.concat(M.dirs(), " or ") .. "\n"
    .. "  with ARGS, which are the script's own (cdnctl's options go before NAME)\n"
    .. "  ready scripts: " .. (#names > 0 and table.concat(names, ", ") or "none found") .. "\n"
    .. "  cdnctl run NAME --help explains one"
end

-- The ready scripts' names, one a line (for shell completion). -> 0
function M.print_names()
  for _, n in ipairs(M.names()) do io.stdout:write(n, "\n") end
  return 0
end

-- M.find(name) -> path | nil, message (what to tell the user)
function M.find(name)
  local names = M.names()
  if not name or name == "" then
    return nil, "cdnctl run: which ready script? " .. (#names > 0 and table.concat(names, ", ") or "none found")
      .. "\nusage: cdnctl run NAME [ARGS...]   (cdnctl run NAME --help explains one)"
  end
  if name:sub(1, 1) == "-" then
    return nil, "cdnctl run: unknown option '" .. name .. "'" .. require("cdnctl.suggest").hint(name, { "--help" })
      .. "\nusage: cdnctl run NAME [ARGS...]   (cdnctl run --help explains run)"
  end
  local base = name:gsub("%.lua$", "")
  if base:find("[^%w_-]") then return nil, "cdnctl run: '" .. name .. "' is not a ready script's name" end
  local dirs = M.dirs()
  for _, d in ipairs(dirs) do
    local path = d .. "/" .. base .. ".lua"
    if exists(path) then return path end
  end
  local hint = require("cdnctl.suggest").hint(base, names)
  return nil, "cdnctl run: no ready script '" .. base .. "'" .. hint .. " in " .. table.concat(dirs, " or ")
    .. (#names > 0 and ("; there are: " .. table.concat(names, ", ")) or "")
end

return M
