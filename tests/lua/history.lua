-- The prompt's history never keeps a key in clear: what repl.mask_line
-- masks in a line, and how lines typed before a string became a key are
-- masked again (repl.remember_keys, repl.remask_history).
local t = require "t"
local repl = require "cdnctl.front.prompt"
local redact = require "cdnctl.redact"
local rl = require "cdnctl.readline"
local m = repl.mask_line

t.test("a literal given as key = \"...\" or '...' is masked (as before)", function()
  t.eq(m('shortpixel.add_domain("a.com", {key = "zzzzyyyyxxxx9876"})'), 'shortpixel.add_domain("a.com", {key = "****9876"})')
  t.eq(m("easyio.show_keys({api_key = 'short'})"), "easyio.show_keys({api_key = '****'})")
end)

t.test("{[\"key\"] = \"...\"} is masked, with any quotes in the brackets", function()
  t.eq(m('shortpixel.add_domain("a.com", {["key"] = "bracketSECRET-0001"})'), 'shortpixel.add_domain("a.com", {["key"] = "****0001"})')
  t.eq(m("o['sub_key'] = 'bracketSECRET-0002'"), "o['sub_key'] = '****0002'")
  t.eq(m('o [ "api_key" ]="bracketSECRET-0003"'), 'o [ "api_key" ]="****0003"')
end)

t.test("key = [[...]] and key = [==[...]==] are masked", function()
  t.eq(m("easyio.show_keys({key = [[longSECRET-000004]]})"), "easyio.show_keys({key = [[****0004]]})")
  t.eq(m("o = {key = [==[longSECRET-000005]==]}"), "o = {key = [==[****0005]==]}")
  t.eq(m('o = {["key"] = [[longSECRET-000006]]}'), 'o = {["key"] = [[****0006]]}')
end)

t.test("any literal shaped like a ShortPixel key (20 letters and digits) is masked, in any quotes", function()
  t.eq(m('k = "FakeHistoryKey00QrSt"'), 'k = "****QrSt"')
  t.eq(m("k = 'FakeHistoryKey00QrS2'"), "k = '****QrS2'")
  t.eq(m("k = [[FakeHistoryKey00QrS3]]"), "k = [[****QrS3]]")
  t.eq(m('print("abcdefghijklmnopqrs")'), 'print("abcdefghijklmnopqrs")', "19 characters: kept")
  t.eq(m('print("FakeHistoryKey00QrSt1")'), 'print("FakeHistoryKey00QrSt1")', "21 characters: kept")
end)

t.test("a literal whose value is a registered key is masked, even written with escapes", function()
  redact.add("ESCAPEDsecret0007")
  t.eq(m('x = "ESCAPED\\115ecret0007"'), 'x = "****0007"')
  t.eq(m("x = 'ESCAPEDsecret0007'"), "x = '****0007'")
end)

t.test("masking a masked line changes nothing (the history is masked again after each line)", function()
  for _, line in ipairs({ 'o = {["key"] = "bracketSECRET-0001"}', "x = {key = [[longSECRET-000004]]}",
    'k = "FakeHistoryKey00QrSt"', "-- key = 'comment-secret-1'" }) do
    local once = m(line)
    t.eq(m(once), once)
  end
end)

t.test("other lines are kept as typed", function()
  for _, line in ipairs({ 'print("hello")', "x = 'plain text' -- it's a comment", "s = [[a]] .. 'b' .. \"c\"",
    'shortpixel.add_domain("example.com")', "key = 42", "t = {key = nil}", "if o.key == 'abc' then end",
    'x = "unterminated' }) do
    t.eq(m(line), line)
  end
end)

t.test("in a comment, key = '...' is masked too", function()
  t.eq(m("x = 1 -- key = 'in a comment' and \""), "x = 1 -- key = '****ment' and \"")
end)

t.test("a string later used as a key masks the line that made it", function()
  rl.clear_history()
  rl.add_history('kw1 = "laterUSEDsecret-0008"')
  rl.add_history("x = 1")
  rawset(_G, "kw1", "laterUSEDsecret-0008")
  local before = redact.count()
  repl.remember_keys("shortpixel.add_domain('a.com', {key = kw1})")
  t.eq(redact.count(), before + 1, "the key is registered: redact.count() tells the prompt to mask again")
  repl.remask_history()
  local h = rl.history_list()
  t.eq(h[1], 'kw1 = "****0008"')
  t.eq(h[2], "x = 1")
  rawset(_G, "kw1", nil)
end)

t.test("a field used as a key (opts.key = t.k, [\"key\"] = v) is remembered too", function()
  rl.clear_history()
  rl.add_history('cfg = {k = "laterUSEDsecret-0009"}')
  rl.add_history('v2 = "laterUSEDsecret-0010"')
  rawset(_G, "cfg", { k = "laterUSEDsecret-0009" })
  rawset(_G, "v2", "laterUSEDsecret-0010")
  repl.remember_keys("o = {key = cfg.k}; p = {[\"api_key\"] = v2}")
  repl.remask_history()
  local h = rl.history_list()
  t.eq(h[1], 'cfg = {k = "****0009"}')
  t.eq(h[2], 'v2 = "****0010"')
  rawset(_G, "cfg", nil)
  rawset(_G, "v2", nil)
  rl.clear_history()
end)

t.done()
