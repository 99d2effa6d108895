-- tests/lua/apply.lua: a saved plan is read by one check before anything is sent.
local t = require "t"
local apply = require "cdnctl.front.apply"

local function saved(doc) return apply.saved(doc, "p.json") end

t.test("a saved plan as plan --out writes it is read, nulls as absent", function()
  local p = assert(saved([[{"id": "abc", "actions": [
    {"op": "easyio.create_site", "args": ["https://www.a.example/"], "profile": null, "client": "A", "line": 2},
    {"op": "easyio.update_site_config", "args": [{"known_after": 0, "field": "id"}, {"webp": 1}], "profile": "p"}],
    "findings": [{"kind": "conflict", "client": null}], "summary": {"add": 1}}]]))
  t.eq(#p.actions, 2)
  t.eq(p.actions[1].profile, nil)
  t.eq(p.actions[2].profile, "p")
  t.eq(p.findings[1].client, nil)
  t.eq(p.saved, true)
  t.eq(p.id, "abc")
end)

t.test("a plan without an id is named by its content", function()
  local a = assert(saved('{"actions": []}'))
  local b = assert(saved('{"actions": [] }'))
  t.eq(#a.id, 16)
  t.eq(a.id ~= b.id, true)
end)

t.test("what is not a plan, or an action a plan never makes, is refused naming the action", function()
  t.match(select(2, saved("[1, 2]")), "^p.json: not a plan")
  t.match(select(2, saved('{"actions": 3}')), "not a plan")
  t.match(select(2, saved('{"actions": [{"op": "os.execute", "args": []}]}')), "action 0: op: os.execute is not an action")
  t.match(select(2, saved('{"actions": [{"op": "easyio.remove_site"}]}')), "action 0: args: not a list")
  t.match(select(2, saved('{"actions": [{"op": "easyio.remove_site", "args": [1]}, '
    .. '{"op": "easyio.set_cname", "args": [{"known_after": 1, "field": "id"}, "c.example"]}]}')),
    "action 1: args%[0%]: known_after must name an earlier action")
  t.match(select(2, saved('{"actions": [{"op": "easyio.remove_site", "args": [1], "profile": 7}]}')), "profile: not a name")
end)

t.done()
