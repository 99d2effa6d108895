-- Destructive operations ask first: which operations the table marks, the
-- words of the questions, the checks `call` makes before asking or
-- dry-running, as plain units (no terminal, no network).
local t = require "t"
local ops = require "cdnctl.ops"
local script = require "cdnctl.kit.script"
local dryrun = require "cdnctl.front.dryrun"

t.test("the table marks exactly the six operations that destroy or cost, each with a word and a question", function()
  local marked = {}
  for _, op in ipairs(ops.list) do
    if op.destructive then
      marked[#marked + 1] = op.full .. "=" .. op.destructive
      t.ok(type(op.confirm) == "string" and op.confirm ~= "", op.full .. " has a confirm template")
    else
      t.eq(op.confirm, nil, op.full .. " has no question")
    end
  end
  table.sort(marked)
  t.same(marked, { "easyio.remove_key=irreversible", "easyio.remove_site=irreversible",
    "shortpixel.purge_cdn_cache=costly", "shortpixel.purge_cdn_cache_bulk=costly", "shortpixel.purge_storage_bulk=costly",
    "shortpixel.revoke_domain=irreversible" })
end)

t.test("hosts_text: the count, then the names, six at most", function()
  t.eq(script.hosts_text({ "a.com" }), "1 host: a.com")
  t.eq(script.hosts_text({ "a.com", "www.a.com" }), "2 hosts: a.com, www.a.com")
  local many = {}
  for i = 1, 12 do many[i] = "h" .. i .. ".com" end
  t.eq(script.hosts_text(many), "12 hosts: h1.com, h2.com, h3.com, h4.com, h5.com, h6.com and 6 more")
  t.eq(script.hosts_text(many, 2), "12 hosts: h1.com, h2.com and 10 more")
end)

-- {operation, values, the question's words, whether a read names the target better}
local QUESTIONS = {
  { "easyio.remove_site", { site_id = 17 }, "remove the Easy IO site 17", true },
  { "easyio.remove_key", { sub_key = "abc" }, "remove the Easy IO sub-key abc", true },
  { "shortpixel.revoke_domain", { domain = "a.com" }, "revoke a.com from the ShortPixel key's account", false },
  { "shortpixel.purge_storage_bulk", { domain = "a.com" }, "purge ShortPixel storage of 1 host: a.com", false },
  { "shortpixel.purge_cdn_cache_bulk", { domain = "a.com", both = true },
    "purge CDN cache and storage of 2 hosts: a.com, www.a.com", false },
}
for _, c in ipairs(QUESTIONS) do
  t.test("the question for " .. c[1] .. (c[2].both and " {both = true}" or ""), function()
    local what, detail = script.target(ops.by_name[c[1]], c[2], {})
    t.eq(what, c[3])
    t.eq(detail ~= nil, c[4], "a read names the target")
  end)
end

t.test("confirm with --yes: true at once, nothing asked", function()
  t.eq(script.confirm("remove everything", true, function() error("no read with --yes") end), true)
end)

-- {operation, raw arguments, options, the refusal (nil: accepted) or the checked values}
local CHECKS = {
  { "easyio.remove_site", { site_id = "0" }, {}, "easyio.remove_site: site_id: must be a positive integer, got '0' (invalid)" },
  { "easyio.remove_site", { site_id = "17" }, {}, { site_id = 17 } },
  { "shortpixel.purge_cdn_cache_bulk", { domain = "https://WWW.A.com/x" }, { both = true }, { domain = "www.a.com", both = true } },
  { "shortpixel.purge_storage_bulk", { domain = "a b" }, {}, "shortpixel.purge_storage_bulk: domain: contains a space in 'a b' (invalid)" },
  { "shortpixel.purge_storage_bulk", { domain = "a.com" }, { both = "maybe" },
    "shortpixel.purge_storage_bulk: option 'both' must be true or false (invalid)" },
  { "easyio.change_key", { sub_key = "abc", fields = { allowed = "x" } }, {}, "easyio.change_key: fields.allowed: must be a non-negative integer, got x (invalid)" },
  -- the options a binding refuses, refused alike before asking or dry-running
  { "easyio.remove_site", { site_id = "17" }, { timeout = "abc" },
    "easyio.remove_site: option 'timeout' must be a number of seconds in [0.001, 86400] (invalid)" },
  { "easyio.remove_site", { site_id = "17" }, { attempts = 1.5 },
    "easyio.remove_site: option 'attempts' must be a positive integer (invalid)" },
  { "easyio.change_key", { sub_key = "abc", fields = { colour = "1" } }, {},
    "easyio.change_key: fields: unknown field 'colour' (the API has allowed, label, site_limit) (invalid)" },
}
for i, c in ipairs(CHECKS) do
  t.test("dryrun.check " .. i .. ": " .. c[1], function()
    local values, err = dryrun.check(ops.by_name[c[1]], c[2], c[3])
    if type(c[4]) == "string" then
      t.eq(values, nil)
      t.eq(tostring(err), c[4])
      if next(c[3]) == nil then -- the binding refuses in the same words
        local op = ops.by_name[c[1]]
        local argv = {}
        for _, spec in ipairs(op.args) do argv[#argv + 1] = c[2][spec.name] end
        local r, berr = cdnctl[op.service][op.name](table.unpack(argv))
        t.eq(r, nil)
        t.eq(tostring(berr), c[4], "the binding's refusal")
      end
    else
      t.same(values, c[4])
    end
  end)
end

t.done()
