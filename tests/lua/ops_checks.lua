-- The checks and preparations that operations carry (cdnctl.ops: reconcile,
-- snapshot, prepare, on_refusal) as plain functions of a context: each test
-- hands them the answers the reads would get, with no network and no client.
local t = require "t"
local ops = require "cdnctl.ops"

-- A context whose reads answer from `answers` ({[name] = answer | {nil, err}}),
-- recording the calls made.
local function fake_ctx(answers)
  local ctx = { calls = {}, logged = {} }
  function ctx.call(name, values)
    ctx.calls[#ctx.calls + 1] = { name = name, values = values }
    local a = answers[name]
    if a == nil then error("unexpected read " .. name) end
    if a.err then return nil, a.err end
    return a
  end
  function ctx.fail(message, code) return { kind = "api", message = message, code = code } end
  function ctx.log(fmt, ...) ctx.logged[#ctx.logged + 1] = string.format(fmt, ...) end
  return ctx
end

local op = ops.by_name
local SITES = { sites = { ["0"] = { site_id = "16", site_url = "https://a.com/", alias = "e1.exactdn.com", live = "1" },
                          ["1"] = { site_id = "17", site_url = "https://B.com", alias = "e2.exactdn.com", live = "0" } } }

t.test("create_site: found on show_sites (PHP object-list, same-site rule) it is made, as create.php's answer", function()
  local ctx = fake_ctx { ["easyio.show_sites"] = SITES }
  local outcome, r = op["easyio.create_site"].reconcile(ctx, { site_url = "https://b.com/" })
  t.eq(outcome, "made")
  t.same(r, { id = 17, site_url = "https://B.com", alias = "e2.exactdn.com", dev = 1, status = "success", reconciled = true })
  t.same(ctx.calls[1], { name = "easyio.show_sites", values = { site_url = "https://b.com/" } })
end)

t.test("create_site: not listed is not seen; a failed read is unknown", function()
  t.eq(op["easyio.create_site"].reconcile(fake_ctx { ["easyio.show_sites"] = SITES }, { site_url = "https://c.com/" }), "not_made")
  local outcome, err = op["easyio.create_site"].reconcile(fake_ctx { ["easyio.show_sites"] = { err = { message = "down" } } },
    { site_url = "https://c.com/" })
  t.eq(outcome, "unknown")
  t.eq(err.message, "down")
end)

t.test("create_site, before: a site listed already existed before the call: a duplicate naming it, nothing to send", function()
  local e = op["easyio.create_site"]
  t.eq(e.snapshot(fake_ctx { ["easyio.show_sites"] = SITES }, { site_url = "https://c.com/" }), true)
  local before, err = e.snapshot(fake_ctx { ["easyio.show_sites"] = SITES }, { site_url = "https://a.com" })
  t.eq(before, nil)
  t.eq(err.code, "duplicate")
  t.eq(err.message, "https://a.com is already registered as site 16 (e1.exactdn.com)")
  t.eq(err.site.site_id, "16")
  local _, rerr = e.snapshot(fake_ctx { ["easyio.show_sites"] = { err = { message = "down" } } }, { site_url = "https://c.com/" })
  t.eq(rerr.message, "down")
end)

t.test("remove_site: gone from show_sites is made; still listed is not; before, a site not listed is not_found", function()
  local e = op["easyio.remove_site"]
  local outcome, r = e.reconcile(fake_ctx { ["easyio.show_sites"] = SITES }, { site_id = 18 })
  t.eq(outcome, "made")
  t.same(r, { success = true, reconciled = true })
  t.eq(e.reconcile(fake_ctx { ["easyio.show_sites"] = SITES }, { site_id = 16 }), "not_made")
  t.eq(e.snapshot(fake_ctx { ["easyio.show_sites"] = SITES }, { site_id = 16 }), true)
  local _, err = e.snapshot(fake_ctx { ["easyio.show_sites"] = SITES }, { site_id = 999999 })
  t.eq(err.code, "not_found")
  t.eq(err.message, "site 999999 is not on this account (show_sites does not list it)")
end)

t.test("create_key: the snapshot is the sub-keys before; the one new after is the key made", function()
  local e = op["easyio.create_key"]
  local before = e.snapshot(fake_ctx { ["easyio.show_keys"] = { keys = { "k1", "k2" } } }, {})
  t.same(before, { k1 = true, k2 = true })
  local ctx = fake_ctx { ["easyio.show_keys"] = { keys = { ["0"] = "k1", ["1"] = "k2", ["2"] = "k3" } } }
  local outcome, r = e.reconcile(ctx, {}, before)
  t.eq(outcome, "made")
  t.same(r, { success = 1, sub_key = "k3", reconciled = true })
  t.eq(e.reconcile(fake_ctx { ["easyio.show_keys"] = { keys = { "k1", "k2" } } }, {}, before), "not_made")
end)

t.test("create_key: two new sub-keys cannot be told apart: unknown, naming them masked", function()
  local e = op["easyio.create_key"]
  local ctx = fake_ctx { ["easyio.show_keys"] = { keys = { "k1", "newsubkey0000000aaaa", "newsubkey0000000bbbb" } } }
  local outcome, why = e.reconcile(ctx, {}, { k1 = true })
  t.eq(outcome, "unknown")
  t.same(why.appeared, { "****aaaa", "****bbbb" })
  t.eq(why.message, "2 sub-keys appeared while it ran (****aaaa, ****bbbb), so which one it made cannot be told")
end)

t.test("remove_key: gone from show_keys is made; before, a sub-key not listed is not_found", function()
  local e = op["easyio.remove_key"]
  local outcome, r = e.reconcile(fake_ctx { ["easyio.show_keys"] = { keys = { "k1" } } }, { sub_key = "k2" })
  t.eq(outcome, "made")
  t.same(r, { success = 1, sub_key = "k2", reconciled = true })
  t.eq(e.reconcile(fake_ctx { ["easyio.show_keys"] = { keys = { "k1" } } }, { sub_key = "k1" }), "not_made")
  local _, err = e.snapshot(fake_ctx { ["easyio.show_keys"] = { keys = { "k1" } } }, { sub_key = "k9" })
  t.eq(err.code, "not_found")
end)

t.test("a remove refused as not found: after a lost answer the first try did it; else it went meanwhile", function()
  local nf = op["easyio.remove_key"].on_refusal.not_found
  local r = nf(fake_ctx {}, { sub_key = "k2" }, { message = "sub-key not found" }, true)
  t.same(r, { success = 1, sub_key = "k2", reconciled = true })
  local _, err = nf(fake_ctx {}, { sub_key = "k2" }, { message = "sub-key not found" }, false)
  t.eq(err.message, "sub-key not found (it was listed just before: removed meanwhile by another call)")
end)

t.test("change_key: prepare sends the current fields with the new ones, or nothing read under opts.replace", function()
  local prep = op["easyio.change_key"].prepare
  local ctx = fake_ctx { ["easyio.show_keys"] = { keys = { "k1" }, labels = { k1 = "old" }, limits = { k1 = "2000" },
                                                  site_limit = { k1 = ops.null } } }
  local values = { sub_key = "k1", fields = { label = "new" } }
  t.eq(prep(ctx, values, {}), true)
  t.same(values.fields, { label = "new", allowed = 2000 })
  local none = fake_ctx {}
  values = { sub_key = "k1", fields = { label = "x" } }
  t.eq(prep(none, values, { replace = true }), true)
  t.eq(#none.calls, 0)
  t.same(values.fields, { label = "x" })
  local ok, err = prep(fake_ctx { ["easyio.show_keys"] = { keys = {} } }, { sub_key = "k9" }, {})
  t.eq(ok, nil)
  t.eq(err.message, "sub-key not found on this account (show_keys)")
end)

t.test("create_site refused as a duplicate: after a lost answer the site is returned, else the error names it", function()
  local dup = op["easyio.create_site"].on_refusal.duplicate
  local ctx = fake_ctx { ["easyio.show_sites"] = SITES }
  local r = dup(ctx, { site_url = "https://a.com" }, { message = "duplicate site url" }, true)
  t.eq(r.id, 16)
  t.eq(r.reconciled, true)
  t.eq(#ctx.logged, 1)
  local _, err = dup(fake_ctx { ["easyio.show_sites"] = SITES }, { site_url = "https://a.com" }, { message = "duplicate site url" }, false)
  t.eq(err.message, "https://a.com is already registered as site 16 (e1.exactdn.com)")
  t.eq(err.site.site_id, "16")
  _, err = dup(fake_ctx { ["easyio.show_sites"] = SITES }, { site_url = "https://z.com/" }, { message = "duplicate site url" }, true)
  t.eq(err.message, "https://z.com/ is already registered, but not on this account (show_sites does not list it)")
end)

t.test("read_domain: a bare status is the object it means, and an accepted answer gets its status named", function()
  local e = op["shortpixel.read_domain"]
  t.same(e.bare(2), { Status = 2 })
  t.eq(e.bare("2"), nil)
  local body = { Status = "-1" }
  e.finish(body)
  t.eq(body.status_name, "credits exhausted")
end)

t.test("an HTTP error's message: Easy IO's error, ShortPixel's Message, or none", function()
  t.eq(ops.http_error_message { error = "busy" }, "busy")
  t.eq(ops.http_error_message { Message = "Slow down" }, "Slow down")
  t.eq(ops.http_error_message { message = 3 }, nil)
  t.eq(ops.http_error_message("x"), nil)
end)

t.test("every read an operation names exists, and --dry-run's reads_first match its snapshot or prepare", function()
  for _, o in ipairs(ops.list) do
    if o.reads_first then
      t.ok(ops.by_name[o.reads_first.name], o.full .. ": " .. o.reads_first.name)
      t.ok(o.snapshot or o.prepare, o.full .. ": a read first needs a snapshot or a prepare")
    end
    if o.snapshot or o.prepare then t.ok(o.reads_first, o.full .. ": --dry-run must show its read") end
    for code in pairs(o.on_refusal or {}) do
      local known = false
      for _, name in pairs(o.refusals or {}) do known = known or name == code end
      t.ok(known, o.full .. ": on_refusal." .. code .. " is a code of its refusals")
    end
  end
end)

t.done()
