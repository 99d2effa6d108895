-- Exactly once, or say so: a create never makes two in one call nor claims
-- another call's work, a remove never claims what never was, and what
-- cannot be told fails with err.code "unknown_outcome". Slow servers are
-- fixtures that carry a create out after the client gave up
-- (tests/lib/late_server.lua); faults come from an in-process sandbox.
local t = require "t"
local fixture = require "fixture"
local late_server = require "late_server"
local json = require "cdnctl.json"

local POLICY = { base = 0.001, cap = 0.002 }
local fx = fixture.start(nil, { policy = POLICY })
local easyio, cdnctl = fx.easyio, fx.lib
local function answer(body, status)
  return { status = status or 200, body = type(body) == "string" and body or json.encode(body),
           headers = { ["Content-Type"] = "application/json" } }
end
-- The requests to path since log entry `from`.
local function sent(path, from)
  local n = 0
  for i, r in ipairs(fx:log()) do if i > from and r.uri == path then n = n + 1 end end
  return n
end

t.test("a slow server: create_key that times out is looked for again after settling, never sent twice", function()
  local late = late_server.start { late = 1, hold = 30, policy = POLICY }
  local r, err = late.lib.easyio.create_key { timeout = 0.5, attempts = 3, settle = 3 }
  t.eq(late:count().create_key, 1, "one create.php, whatever the answer")
  t.ok(r, tostring(err))
  t.match(r.sub_key, "^late%-sub%-key%-")
  t.eq(late.lib.meta(r).reconciled, true)
  late:stop()
end)

t.test("a slow server that has not carried the create out after settling: unknown_outcome, not sent again", function()
  local late = late_server.start { late = 60, hold = 60, policy = POLICY }
  local r, err = late.lib.easyio.create_key { timeout = 0.3, attempts = 3, settle = 0.2 }
  t.eq(r, nil)
  t.eq(late:count().create_key, 1, "never a second create.php")
  t.eq(err.code, "unknown_outcome")
  t.eq(err.kind, "unknown")
  t.match(err.message, "the outcome is unknown %(not seen after waiting 0%.2 s%)")
  t.match(err.message, "scripts/keys%.lua list")
  late:stop()
end)

t.test("a slow create_site: not seen, it may send again, and the resend's duplicate returns the first try's site", function()
  local late = late_server.start { late = 0.6, hold = 30, policy = POLICY }
  local r, err = late.lib.easyio.create_site("https://late.example.com/", { timeout = 0.4, attempts = 5 })
  t.ok(r, tostring(err))
  t.eq(r.site_url, "https://late.example.com/")
  t.eq(late.lib.meta(r).reconciled, true)
  local sites = t.ok(late.lib.easyio.show_sites()).sites
  t.eq(#sites, 1, "one site")
  late:stop()
end)

t.test("create_key answered 503 after doing the work: checked, the one new key returned, no second create", function()
  local from = #fx:log()
  fx:queue(answer { keys = { "k1" } }, answer({ error = "busy" }, 503), answer { keys = { "k1", "subkeyMadeBy503xxxxx" } })
  local r, err = easyio.create_key { attempts = 3, settle = 0 }
  t.ok(r, tostring(err))
  t.eq(r.sub_key, "subkeyMadeBy503xxxxx")
  t.eq(cdnctl.meta(r).reconciled, true)
  t.eq(sent("/api_key/create.php", from), 1)
end)

t.test("create_key answered 500 and nothing appears: unknown_outcome, never sent again", function()
  local from = #fx:log()
  fx:queue(answer { keys = { "k1" } }, answer({ error = "internal" }, 500), answer { keys = { "k1" } }, answer { keys = { "k1" } })
  local r, err = easyio.create_key { attempts = 3, settle = 0.05 }
  t.eq(r, nil)
  t.eq(err.code, "unknown_outcome")
  t.match(err.message, "^HTTP 500; the answer says: internal; the outcome is unknown")
  t.eq(sent("/api_key/create.php", from), 1)
end)

t.test("a 2xx that is not JSON to create_key or create_site is checked: what was made is returned", function()
  local from = #fx:log()
  fx:queue(answer { keys = { "k1" } }, answer("<br />\n<b>Notice</b>: Undefined index<br />\n{\"success\":1}"),
    answer { keys = { "k1", "subkeyAfterNotice000x" } })
  local r, err = easyio.create_key { settle = 0 }
  t.ok(r, tostring(err))
  t.eq(r.sub_key, "subkeyAfterNotice000x")
  t.eq(sent("/api_key/create.php", from), 1)
  fx:queue(answer { sites = {} }, answer "<html><body>Service temporarily overloaded</body></html>",
    answer { sites = { { site_id = "77", site_url = "https://notice.example.com/", alias = "enoticenoti.exactdn.com", live = "1" } } })
  local s, serr = easyio.create_site("https://notice.example.com/")
  t.ok(s, tostring(serr))
  t.eq(s.id, 77)
  t.eq(cdnctl.meta(s).reconciled, true)
end)

t.test("a create whose read before fails is not sent, and says why", function()
  local from = #fx:log()
  local r500 = answer({ error = "down" }, 500)
  fx:queue(r500, r500, r500)
  local r, err = easyio.create_key { attempts = 3 }
  t.eq(r, nil)
  t.eq(sent("/api_key/create.php", from), 0, "no create without the read its check needs")
  t.match(err.message, "^not sent: easyio%.show_keys, the read that tells afterwards whether it took effect, failed")
end)

t.test("removes of what never existed, with the answer lost: not_found, never success, nothing sent", function()
  local from = #fx:log()
  fx:queue(answer { sites = { { site_id = "5", site_url = "https://five.com/" } } }, { drop = true }, answer { success = true })
  local r, err = easyio.remove_site(999999)
  t.eq(r, nil)
  t.eq(err.code, "not_found")
  t.eq(sent("/exactdn/remove.php", from), 0)
  fx:queue(answer { keys = { "k1" } }, { drop = true }, answer { success = 1 })
  r, err = easyio.remove_key("subkeyNeverThere0000")
  t.eq(r, nil)
  t.eq(err.code, "not_found")
  t.eq(sent("/api_key/remove.php", from), 0)
  fx:stop(); fx = fixture.start(nil, { policy = POLICY }); easyio, cdnctl = fx.easyio, fx.lib -- (answers left queued)
end)

t.test("a remove whose answer is lost and that did the work is reconciled; one still listed is sent again", function()
  local from = #fx:log()
  fx:queue(answer { keys = { "k1", "subkeyToRemove00001" } }, { drop = true }, answer { keys = { "k1" } })
  local r, err = easyio.remove_key("subkeyToRemove00001")
  t.ok(r, tostring(err))
  t.eq(cdnctl.meta(r).reconciled, true)
  fx:queue(answer { sites = { { site_id = "6" } } }, { drop = true }, answer { sites = { { site_id = "6" } } },
    answer { success = true })
  r, err = easyio.remove_site(6)
  t.ok(r, tostring(err))
  t.eq(cdnctl.meta(r).reconciled, nil, "answered, not found by a check")
  t.eq(sent("/exactdn/remove.php", from), 2)
end)

t.test("settle is checked: a number of seconds in [0, 600], as an option and in cdnctl.retry", function()
  for _, v in ipairs { -1, 601, 0 / 0, "5" } do
    t.raises(function() return easyio.create_key { settle = v } end, "'settle' must be a number of seconds in %[0, 600%]")
  end
  t.raises(function() cdnctl.retry { settle = 601 } end, "settle must be a number of seconds in %[0, 600%]")
  t.eq(cdnctl.retry { settle = 2 }.settle, 2)
  t.raises(function() return easyio.show_keys { settle = 1 } end, "unknown option 'settle'")
end)

-- An in-process sandbox with faults, and a library pointed at it.
local function faulty(spec, seed)
  local cfg = assert(require("cdnctl.sandbox.cli").parse({ "--faults", spec, "--seed", tostring(seed) }, 1))
  local embedded = require "cdnctl.sandbox.embedded"
  local srv, base = assert(embedded.start(cfg))
  local s = require("cdnctl.settings").new { sandbox = embedded.source(base), policy = POLICY }
  return srv, require("cdnctl").new(s), base
end

-- The sandbox's sub-keys, by the fingerprints its state names them by (no faults there).
local function state_keys(base)
  local sched = require "cdnctl.sched"
  local r = assert(sched.request { method = "GET", url = base .. "/_sandbox/state" })
  local set = {}
  for k in pairs(json.decode(r.body).easyio.sub_keys) do set[k] = true end
  return set
end

for _, seed in ipairs { 7, 3 } do
  t.test("8 create_key in one parallel under resets (seed " .. seed .. "): each success returns a sub-key it made, none twice", function()
    local srv, lib, base = faulty("reset:0.3", seed)
    local before = state_keys(base)
    local items = {}
    for i = 1, 8 do items[i] = i end
    lib.retry { settle = 0.05 }
    local res, errs = lib.parallel(items, function() return lib.easyio.create_key { attempts = 5 } end,
      { concurrency = 8, progress = false })
    local made = 0
    for k in pairs(state_keys(base)) do if not before[k] then made = made + 1 end end
    local seen, ok = {}, 0
    for i = 1, 8 do
      if res[i] then
        ok = ok + 1
        local short = require("cdnctl.redact").short(res[i].sub_key)
        t.eq(seen[short], nil, "item " .. i .. " returns the sub-key of another item")
        seen[short] = true
      else
        t.ok(errs[i], "a failure says why")
      end
    end
    t.ok(made <= 8, "no call made more than one: " .. made .. " sub-keys for 8 calls")
    t.ok(ok <= made, ok .. " successes, " .. made .. " sub-keys made")
    srv:stop()
  end)
end

fx:stop()
t.done()
