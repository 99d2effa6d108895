-- tests/lib/contract.lua: the contract fixtures (tests/contract/fixtures/*.json),
-- each a fact about what production answers, with its provenance.
--   local contract = require "contract"
--   contract.load()            -> list of fixtures, sorted by name
--   contract.get(t, "a.1.b")   -> t.a[1].b
--   contract.fill(v, vars)     -> v with "{NAME}" placeholders replaced, recursively
local json = require "cdnctl.json"

local M = {}

M.DIR = (os.getenv("CDNCTL_SOURCE_DIR") or ".") .. "/tests/contract/fixtures"

function M.load()
  local p = assert(io.popen("ls '" .. M.DIR .. "'"))
  local out = {}
  for name in p:lines() do
    if name:match("%.json$") then
      local f = assert(io.open(M.DIR .. "/" .. name, "rb"))
      local fx = assert(json.decode(f:read("a")), name .. " is not JSON")
      f:close()
      fx.file = name
      out[#out + 1] = fx
    end
  end
  p:close()
  table.sort(out, function(a, b) return a.file < b.file end)
  return out
end

function M.get(t, path)
  for part in path:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    local v = t[part]
    if v == nil and part:match("^%d+$") then v = t[tonumber(part)] end
    t = v
  end
  return t
end

function M.fill(v, vars)
  if type(v) == "string" then
    return (v:gsub("{([%u_]+)}", function(n) return vars[n] end))
  elseif type(v) == "table" and v ~= json.null then
    local out = {}
    for k, x in pairs(v) do out[k] = M.fill(x, vars) end
    return out
  end
  return v
end

-- The answer's body as the service sent it: text.
function M.answer_text(fx)
  if fx.answer.text ~= nil then return fx.answer.text end
  return json.encode(fx.answer.body)
end

-- The answer as a decoded JSON value (nil for an empty body).
function M.answer_value(fx)
  if fx.answer.text ~= nil then return json.decode(fx.answer.text) end
  return fx.answer.body
end

return M
