-- Contract, first side: every fixture's answer (what production sends, per
-- ../shared/api-evidence.md) read through the binding that receives it, and
-- what the script then sees. A fixture server plays production.
local t = require "t"
local fixture = require "fixture"
local contract = require "contract"
local json = require "cdnctl.json"

local fixtures = contract.load()
local fx = fixture.start(nil, { policy = { base = 0.01, cap = 0.05 } })
local cdnctl, shortpixel, easyio = fx.lib, fx.shortpixel, fx.easyio

t.test("there are fixtures, and each names its fact, source and confidence", function()
  t.ok(#fixtures >= 20, "at least 20 fixtures, got " .. #fixtures)
  for _, f in ipairs(fixtures) do
    t.ok(type(f.fact) == "string" and f.fact ~= "", f.file .. ": fact")
    t.ok(type(f.source) == "string" and f.source ~= "", f.file .. ": source")
    t.ok(type(f.confidence) == "string" and f.confidence ~= "", f.file .. ": confidence")
    t.ok(type(f.call) == "table" or (type(f.call) == "string" and f.call:find("^no binding: ")),
      f.file .. ": a binding's call, or 'no binding: why'")
    t.ok(type(f.sandbox) == "table" or (type(f.sandbox) == "string" and f.sandbox:find("^not compared: ")),
      f.file .. ": a sandbox request, or 'not compared: why'")
  end
end)

local function answer(a)
  return { status = a.status, body = a.text or json.encode(a.body),
           headers = { ["Content-Type"] = a.content_type or "application/json" } }
end

local function binding(name)
  local service, op = name:match("^(%w+)%.([%w_]+)$")
  return assert(fx.lib[service][op], name)
end

-- What the read a create or remove sends first (ops.lua's snapshot) answers
-- here, so that the call goes on to the fixture's request: not there yet
-- for a create, listed for a remove.
local BEFORE = {
  ["easyio.create_site"] = function() return { sites = {} } end,
  ["easyio.remove_site"] = function(args) return { sites = { { site_id = tostring(args[1]) } } } end,
  ["easyio.create_key"] = function() return { keys = {} } end,
  ["easyio.remove_key"] = function(args) return { keys = { args[1] } } end,
}

for _, f in ipairs(fixtures) do
  if type(f.call) ~= "table" then goto next end -- no binding receives it: the sandbox's side only
  t.test(f.name .. ": " .. f.fact, function()
    local queue = { answer(f.answer) }
    local before = BEFORE[f.call[1]]
    if before then table.insert(queue, 1, answer { status = 200, body = before({ table.unpack(f.call, 2) }) }) end
    for _, a in ipairs(f.extra_answers or {}) do queue[#queue + 1] = answer(a) end
    fx:queue(table.unpack(queue))
    local args = { table.unpack(f.call, 2) }
    local r, err = binding(f.call[1])(table.unpack(args))
    local want = f.script_sees
    if want.ok then
      t.ok(r, "the call succeeds: " .. tostring(err))
      for path, v in pairs(want.fields or {}) do t.eq(contract.get(r, path), v, path) end
      for path, v in pairs(want.numbers or {}) do t.eq(cdnctl.number(contract.get(r, path)), v, "cdnctl.number(" .. path .. ")") end
      if want.uri then t.eq(fx:last().uri, want.uri, "the request") end
    else
      t.eq(r, nil, "the call fails")
      if want.kind then t.eq(err.kind, want.kind, "err.kind") end
      if want.code ~= nil then t.eq(err.code, want.code, "err.code") end
      if want.message then t.ok(err.message:find(want.message, 1, true), "message has '" .. want.message .. "': " .. err.message) end
    end
  end)
  ::next::
end

fx:stop()
t.done()
