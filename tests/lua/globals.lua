-- Modules return tables and leave no globals behind: the only globals a
-- script sees beyond Lua's own are cdnctl, shortpixel, easyio and help.
local t = require "t"
local host = require "cdnctl.host"

local STANDARD = {}
for _, k in ipairs({ "_G", "_VERSION", "assert", "collectgarbage", "coroutine", "debug", "dofile", "error",
  "getmetatable", "io", "ipairs", "load", "loadfile", "math", "next", "os", "package", "pairs", "pcall",
  "print", "rawequal", "rawget", "rawlen", "rawset", "require", "select", "setmetatable", "string", "table",
  "tonumber", "tostring", "type", "utf8", "warn", "xpcall", "arg" }) do STANDARD[k] = true end
local DOCUMENTED = { cdnctl = true, shortpixel = true, easyio = true, help = true }

t.test("the globals are Lua's own plus cdnctl, shortpixel, easyio and help", function()
  for k in pairs(_G) do
    t.ok(STANDARD[k] or DOCUMENTED[k], "unexpected global '" .. tostring(k) .. "'")
  end
  for k in pairs(DOCUMENTED) do t.ok(rawget(_G, k) ~= nil, "documented global " .. k .. " exists") end
end)

t.test("every embedded module returns a table and sets no global", function()
  local before = {}
  for k in pairs(_G) do before[k] = true end
  for _, name in ipairs(host.modules) do
    if name ~= "cdnctl.front.main" and not name:find("^cdnctl%.sandbox") then
      local ok, m = pcall(require, name)
      t.ok(ok, name .. " loads: " .. tostring(m))
      t.eq(type(m), name == "cdnctl.front.main" and "function" or "table", name .. " returns")
    end
  end
  for k in pairs(_G) do t.ok(before[k], "a module set the global '" .. tostring(k) .. "'") end
end)

t.done()
