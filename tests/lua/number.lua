-- cdnctl.number: numbers and decimal strings to Lua numbers; nil for the rest.
local t = require "t"
local cases = {
  { 289806, 289806, "integer" },
  { "289806.00000000000", 289806, "integer" },
  { "15913634.00000000000", 15913634, "integer" },
  { "12.5", 12.5, "float" },
  { 12.0, 12, "integer" },
  { 1.5, 1.5, "float" },
  { "-3", -3, "integer" },
  { " 42 ", 42, "integer" },
  { "9007199254740993", 9007199254740993, "integer" },
}
for _, c in ipairs(cases) do
  t.test("cdnctl.number(" .. string.format("%q", c[1]) .. ") is the " .. c[3] .. " " .. tostring(c[2]), function()
    local n = cdnctl.number(c[1])
    t.eq(n, c[2])
    t.eq(math.type(n), c[3])
  end)
end
for _, v in ipairs { "", "0x10", "1e3", "abc", "1.2.3", "-", ".", "inf", "nan", "12abc" } do
  t.test("cdnctl.number(" .. string.format("%q", v) .. ") is nil", function() t.eq(cdnctl.number(v), nil) end)
end
t.test("cdnctl.number of nil, JSON null, a table or a boolean is nil, never an error", function()
  t.eq(cdnctl.number(nil), nil)
  t.eq(cdnctl.number(cdnctl.null), nil)
  t.eq(cdnctl.number({}), nil)
  t.eq(cdnctl.number(true), nil)
  t.eq(cdnctl.number(0/0), nil)
end)
t.done()
