-- One boolean reader (cdnctl.check.boolean) for call's words, the bindings'
-- flags (sent as 1/0) and their boolean options: true/false, 1/0, yes/no
-- and on/off in any case; anything else is refused with a message that
-- lists what is accepted.
local t = require "t"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"

local TRUE = { true, 1, "1", "true", "TRUE", "True", "yes", "YES", "Yes", "on", "ON", "On" }
local FALSE = { false, 0, "0", "false", "FALSE", "no", "No", "off", "OFF", "Off" }
local ACCEPTED = "must be true/false, 1/0, yes/no or on/off"

t.test("check.boolean reads true/false, 1/0, yes/no, on/off in any case", function()
  for _, v in ipairs(TRUE) do t.eq(check.boolean(v, "x"), true, tostring(v)) end
  for _, v in ipairs(FALSE) do t.eq(check.boolean(v, "x"), false, tostring(v)) end
end)

t.test("check.boolean refuses anything else, naming what it accepts", function()
  for _, v in ipairs { "maybe", "", "y", "2", 2, 0.5, "true ", {} } do
    local r, err = check.boolean(v, "webp")
    t.eq(r, nil, tostring(v))
    t.ok(err:find("^webp: " .. ACCEPTED, 1, false), err)
  end
  local _, err = check.boolean("maybe", "webp")
  t.eq(err, "webp: " .. ACCEPTED .. ", got 'maybe'")
end)

t.test("a flag (sent as 1/0) reads as check.boolean does", function()
  for _, v in ipairs(TRUE) do t.eq(check.flag(v, "webp"), 1, tostring(v)) end
  for _, v in ipairs(FALSE) do t.eq(check.flag(v, "webp"), 0, tostring(v)) end
  local _, err = check.flag("maybe", "webp")
  t.eq(err, "webp: " .. ACCEPTED .. ", got 'maybe'")
end)

t.test("the binding's check of update_site_config takes webp = 'yes' as call does", function()
  local op = ops.by_name["easyio.update_site_config"]
  local checked = assert(check.args(op, { site_id = 17, config = { webp = "yes", avif = "OFF" } }))
  t.same(checked.config, { webp = 1, avif = 0 })
  local r, err = check.args(op, { site_id = 17, config = { webp = "sometimes" } })
  t.eq(r, nil)
  t.eq(err, "config.webp: " .. ACCEPTED .. ", got 'sometimes'")
end)

t.done()
