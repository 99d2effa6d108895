-- cdnctl.kit.script's journal: it records its target and refuses another, is
-- locked while open (the holder's pid beside it), names keys only by a
-- fingerprint, survives a torn last line, and starts over with fresh.
local t = require "t"
local script = require "cdnctl.kit.script"

local A = { shortpixel = "https://a.example", easyio = "https://ez.example" }
local B = { shortpixel = "http://127.0.0.1:9", easyio = "https://ez.example" }

local function tmp()
  local p = os.tmpname()
  os.remove(p)
  return p
end
local slurp = t.slurp
local function entries(p, opts)
  local got = {}
  opts = opts or {}
  opts.on_entry = function(e) got[#got + 1] = e.step end
  local j, err, kind = script.journal(p, opts)
  return j, err, kind, got
end

t.test("fingerprint: 16 hex digits of SHA-256, never the key; none without a key", function()
  local fp = script.fingerprint("spDemoAgency00000001")
  t.match(fp, "^%x+$")
  t.eq(#fp, 16)
  t.eq(fp, require("cdnctl.codec").sha256_hex("spDemoAgency00000001"):sub(1, 16))
  t.eq(script.fingerprint(nil), "none")
end)

t.test("a new journal records its target; its steps read back with the same target", function()
  local p = tmp()
  local j = assert(script.journal(p, { target = A }))
  t.ok(j:write({ domain = "a.com", step = "shortpixel:a.com", ok = true, key = "0123456789abcdef" }))
  j:close()
  t.match(slurp(p), '^{"target":')
  local j2, err, kind, got = entries(p, { target = A })
  t.ok(j2, err)
  t.eq(kind, nil)
  t.same(got, { "shortpixel:a.com" })
  j2:close()
  os.remove(p)
end)

t.test("a journal of another target is refused, naming both and what to do", function()
  local p = tmp()
  assert(script.journal(p, { target = A })):close()
  local j, err, kind = script.journal(p, { target = B })
  t.eq(j, nil)
  t.eq(kind, "target")
  t.eq(err, "the journal " .. p .. " was written for another target (easyio https://ez.example, shortpixel https://a.example), "
    .. "not this one (easyio https://ez.example, shortpixel http://127.0.0.1:9); use another --journal, or --fresh to start it over")
  local j2 = assert(script.journal(p, { target = B, fresh = true }))
  j2:close()
  t.match(slurp(p), "127%.0%.0%.1")
  os.remove(p)
end)

t.test("a journal without a target (an older cdnctl) is refused", function()
  local p = tmp()
  local f = assert(io.open(p, "wb"))
  f:write('{"domain":"a.com","step":"shortpixel:a.com","ok":true}\n')
  f:close()
  local j, err, kind = script.journal(p, { target = A })
  t.eq(j, nil)
  t.eq(kind, "target")
  t.match(err, "records no target")
  os.remove(p)
end)

t.test("an open journal is locked: a second open names the holder's pid; closing frees it", function()
  local p = tmp()
  local j = assert(script.journal(p, { target = A }))
  local pid = slurp(p .. ".pid")
  t.match(pid, "^%d+\n$")
  local j2, err, kind = script.journal(p, { target = A })
  t.eq(j2, nil)
  t.eq(kind, "locked")
  t.eq(err, "the journal " .. p .. " is in use by another run (pid " .. pid:sub(1, -2) .. "); wait for it to end, or use another --journal")
  j:close()
  t.eq(slurp(p .. ".pid"), nil, "the pid file goes with the lock")
  assert(script.journal(p, { target = A })):close()
  os.remove(p)
end)

t.test("a torn last line is skipped and the next entry starts on a line of its own", function()
  local p = tmp()
  local j = assert(script.journal(p, { target = A }))
  j:write({ domain = "a.com", step = "s1", ok = true })
  j:close()
  local f = assert(io.open(p, "ab"))
  f:write('{"domain":"a.com","st')
  f:close()
  local j2, _, _, got = entries(p, { target = A })
  t.same(got, { "s1" })
  j2:write({ domain = "a.com", step = "s2", ok = true })
  j2:close()
  local j3, _, _, again = entries(p, { target = A })
  t.same(again, { "s1", "s2" })
  j3:close()
  os.remove(p)
end)

t.done()
