-- cdnctl.parallel: concurrent calls from plain Lua code.
local t = require "t"
local fixture = require "fixture"

local cdnctl, shortpixel, easyio
-- a fixture, and the library of its own settings the tests below call
local function start()
  local f = fixture.start(nil, { policy = { base = 0.01, cap = 0.05 } })
  cdnctl, shortpixel, easyio = f.lib, f.shortpixel, f.easyio
  return f
end
local fx = start()

local function domains(n)
  local d = {}
  for i = 1, n do d[i] = "client" .. i .. ".example.com" end
  return d
end

t.test("parallel keeps exactly `concurrency` requests in flight", function()
  fx:queue({ status = 200, body = '{"Status": 2}', delay = 0.05, repeat_all = true })
  local from = fx:count()
  -- counted where the requests are made: a worker is in its request between
  -- the two lines, so `most` is the most requests in flight at once
  local inside, most = 0, 0
  local results, errors = cdnctl.parallel(domains(20), function(d)
    inside = inside + 1
    most = math.max(most, inside)
    local r, err = shortpixel.read_domain(d)
    inside = inside - 1
    return r, err
  end, { concurrency = 5 })
  t.eq(fx:count() - from, 20, "one request per item")
  t.eq(most, 5)
  t.eq(#results, 20)
  t.eq(next(errors), nil)
  for i = 1, 20 do t.eq(results[i].Status, 2) end
end)

-- stop the repeating answer: restart the fixture
fx:stop()
fx = start()

t.test("results[i] belongs to items[i] whatever order answers arrive in", function()
  local items = domains(12)
  local results = cdnctl.parallel(items, function(d, i)
    local r = assert(shortpixel.read_domain(d))
    return d .. "#" .. i .. "#" .. r.Status
  end, { concurrency = 4 })
  for i, d in ipairs(items) do t.eq(results[i], d .. "#" .. i .. "#2") end
end)

t.test("an error raised by fn is recorded in errors[i] and the rest go on", function()
  local results, errors, summary = cdnctl.parallel({ 1, 2, 3, 4 }, function(x)
    if x == 3 then error("boom at three") end
    return x * 10
  end)
  t.eq(results[1], 10)
  t.eq(results[4], 40)
  t.eq(results[3], nil)
  t.match(errors[3], "boom at three")
  t.eq(summary.failed, 1)
  t.eq(summary.done, 4)
end)

t.test("on_result streams results instead of holding them", function()
  local seen = {}
  local results = cdnctl.parallel(domains(6), function(d) return shortpixel.read_domain(d) end, {
    on_result = function(i, r, err) seen[#seen + 1] = { i, r and r.Status, err } end,
  })
  t.eq(next(results), nil, "nothing held")
  t.eq(#seen, 6)
  table.sort(seen, function(a, b) return a[1] < b[1] end)
  for i = 1, 6 do t.eq(seen[i][1], i); t.eq(seen[i][2], 2) end
end)

t.test("a binding's nil, err reaches on_result as err", function()
  fx:queue({ status = 200, body = '{"error": "nope"}' })
  local got
  cdnctl.parallel({ "x" }, function() return easyio.show_keys() end, {
    on_result = function(_, r, err) got = { r, err } end })
  t.eq(got[1], nil)
  t.eq(got[2].message, "nope")
end)

t.test("opts.rate goes through the token bucket and every item is done (the spacing: tests/lua/bucket.lua)", function()
  local from = fx:count() + 1
  local results = cdnctl.parallel(domains(6), function(d) return shortpixel.read_domain(d) end, { concurrency = 6, rate = 50 })
  t.eq(fx:count() - from + 1, 6)
  for i = 1, 6 do t.ok(results[i], "item " .. i) end
end)

t.test("retries inside parallel back off without blocking other workers", function()
  fx:queue({ status = 503, body = "{}" })
  local results, errors = cdnctl.parallel(domains(4), function(d) return shortpixel.read_domain(d) end, { concurrency = 4 })
  for i = 1, 4 do t.ok(results[i], "item " .. i .. " " .. tostring(errors[i])) end
  local retried = 0
  for i = 1, 4 do if cdnctl.meta(results[i]).retries > 0 then retried = retried + 1 end end
  t.eq(retried, 1)
end)

t.test("cdnctl.sleep inside fn lets other workers run", function()
  local order = {}
  cdnctl.parallel({ 0.2, 0.0 }, function(s, i) cdnctl.sleep(s); order[#order + 1] = i end, { concurrency = 2 })
  t.same(order, { 2, 1 })
end)

t.test("the same bindings block outside parallel and yield inside, in one script", function()
  local r = t.ok(shortpixel.read_domain("a.example.com"))
  local results = cdnctl.parallel({ "b.example.com" }, function(d) return shortpixel.read_domain(d) end)
  t.eq(r.Status, results[1].Status)
end)

t.test("a coroutine of the script's own is not hijacked by the request loop", function()
  local co = coroutine.wrap(function()
    local r = shortpixel.read_domain("c.example.com")
    coroutine.yield(r.Status)
    return "done"
  end)
  t.eq(co(), 2)
  t.eq(co(), "done")
end)

t.test("inside parallel, fn's own coroutine waits while the other workers' transfers end and are handed over", function()
  local results, errors = cdnctl.parallel({ "own", "w1.example.com", "w2.example.com", "w3.example.com" }, function(d)
    if d ~= "own" then return shortpixel.read_domain(d) end
    return coroutine.wrap(function()
      local a = shortpixel.read_domain("o1.example.com")
      local b = shortpixel.read_domain("o2.example.com")
      return { Status = a.Status + b.Status }
    end)()
  end, { concurrency = 4 })
  t.eq(next(errors), nil)
  t.eq(results[1].Status, 4)
  for i = 2, 4 do t.eq(results[i].Status, 2, "item " .. i) end
end)

-- The connections opened to a host no connection was kept to (a fixture
-- of its own, on a port of its own) by 48 requests, 16 in flight.
local function connects_opened(opts)
  local fx = require("fixture").start()
  local sched = require "cdnctl.sched"
  local total = 0
  local items = {}
  for i = 1, 48 do items[i] = i end
  local _, errors = cdnctl.parallel(items, function()
    local r = assert(sched.request { url = fx.url .. "/read-domain/a.example.com" })
    total = total + r.connects
  end, opts)
  fx:stop()
  t.eq(next(errors), nil)
  return total
end

t.test("opts.max_host_connections caps the connections to one host; without it 16 in flight open 16", function()
  local capped = connects_opened({ concurrency = 16, max_host_connections = 2 })
  t.ok(capped >= 1 and capped <= 2, "capped at 2: opened " .. capped)
  local free = connects_opened({ concurrency = 16 })
  t.ok(free > 2, "the default (256) lets 16 run at once: opened " .. free)
end)

t.test("opts.max_host_connections is checked: an integer in [1, 65536]", function()
  local MSG = "max_host_connections must be an integer in %[1, 65536%]"
  t.raises(function() cdnctl.parallel({}, print, { max_host_connections = 0 }) end, MSG)
  t.raises(function() cdnctl.parallel({}, print, { max_host_connections = 1.5 }) end, MSG)
  t.raises(function() cdnctl.parallel({}, print, { max_host_connections = 65537 }) end, MSG)
  t.raises(function() cdnctl.parallel({}, print, { max_host_connections = "8" }) end, "option 'max_host_connections' must be a number")
end)

t.test("parallel cannot be nested, and its arguments are checked", function()
  local _, errors = cdnctl.parallel({ 1 }, function() cdnctl.parallel({ 1 }, print) end)
  t.match(errors[1], "cdnctl.parallel cannot be nested")
  t.raises(function() cdnctl.parallel("x", print) end, "bad argument #1 to 'parallel'")
  t.raises(function() cdnctl.parallel({}, print, { concurency = 2 }) end, "unknown option 'concurency'")
  t.raises(function() cdnctl.parallel({}, print, { concurrency = 0 }) end, "concurrency must be a positive integer")
end)

t.test("opts.failed counts results as failures; label and total are checked", function()
  local results, errors, summary = cdnctl.parallel({ "ok", "failed", "ok", "failed", "failed" }, function(st)
    return { status = st }
  end, { failed = function(r) return r.status == "failed" end, label = "rows" })
  t.eq(summary.failed, 3, "the results opts.failed calls failures")
  t.eq(#results, 5, "they are results all the same")
  t.eq(next(errors), nil, "and no errors")
  local _, _, s2 = cdnctl.parallel({ 1, 2 }, function() return nil, "boom" end, { failed = function() return false end })
  t.eq(s2.failed, 2, "an error stays a failure whatever opts.failed says")
  t.raises(function() cdnctl.parallel({ 1 }, print, { failed = true }) end, "option 'failed' must be a function")
  t.raises(function() cdnctl.parallel({ 1 }, print, { label = "" }) end, "label must be 1 to 40 bytes")
  t.raises(function() cdnctl.parallel({ 1 }, print, { label = "a\027[2Jb" }) end, "without control characters")
  t.raises(function() cdnctl.parallel({ 1 }, print, { label = string.rep("x", 41) }) end, "label must be 1 to 40 bytes")
  t.raises(function() cdnctl.parallel(print, print, { total = -1 }) end, "total must be a whole number")
  t.raises(function() cdnctl.parallel(print, print, { total = 2.5 }) end, "total must be a whole number")
  t.raises(function() cdnctl.parallel({ 1, 2 }, print, { total = 3 }) end, "total is 3 but the list has 2 items")
  t.raises(function() cdnctl.parallel({ 1 }, print, { drain = -1 }) end, "drain must be a number of seconds in")
  t.raises(function() cdnctl.parallel({ 1 }, print, { drain = "0" }) end, "option 'drain' must be a number")
  local n = 0
  local _, _, s3 = cdnctl.parallel(function() n = n + 1; return n <= 3 and n or nil end, function(x) return x end, { total = 7 })
  t.eq(s3.total, 3, "summary.total is what the iterator gave, not what opts.total said")
end)

t.test("a failed() that raises ends the run with its error, as on_result's does", function()
  local err = t.raises(function()
    cdnctl.parallel({ 1, 2 }, function(x) return x end, { failed = function() error("bad verdict") end })
  end, "bad verdict")
  t.ok(err)
end)

t.test("an empty list returns at once", function()
  local r, e, s = cdnctl.parallel({}, function() error("never") end)
  t.eq(next(r), nil)
  t.eq(next(e), nil)
  t.eq(s.done, 0)
end)

t.test("items may be an iterator, read as workers need them", function()
  local k, pulled = 0, 0
  local function nexti()
    if k == 7 then return nil end
    k = k + 1
    pulled = pulled + 1
    return "it" .. k .. ".example.com"
  end
  local got = {}
  local _, _, summary = cdnctl.parallel(nexti, function(d) return shortpixel.read_domain(d) end,
    { concurrency = 3, on_result = function(i, r) got[i] = r and r.Status end })
  t.eq(pulled, 7)
  t.eq(summary.done, 7)
  t.eq(summary.total, 7)
  for i = 1, 7 do t.eq(got[i], 2) end
end)

t.test("an iterator that yields (it fetches its next page) hands out each index once, in order", function()
  local k = 0
  local function pages()
    if k >= 10 then return nil end
    cdnctl.sleep(0.01)                                   -- yields inside parallel
    assert(shortpixel.read_domain("page.example.com"))   -- so does a binding
    k = k + 1
    return "it" .. k
  end
  local results, errors, summary = cdnctl.parallel(pages, function(item, i)
    cdnctl.sleep(0.02)
    return item .. "#" .. i
  end, { concurrency = 3 })
  t.eq(next(errors), nil)
  t.eq(summary.done, 10)
  t.eq(summary.total, 10)
  for i = 1, 10 do t.eq(results[i], "it" .. i .. "#" .. i) end
end)

t.test("workers are created as items arrive: a concurrency far above the items costs nothing", function()
  collectgarbage()
  local before, peak = collectgarbage("count"), 0
  local k = 0
  local function three() if k < 3 then k = k + 1; return k end end
  local results, _, summary = cdnctl.parallel(three, function(x)
    peak = math.max(peak, collectgarbage("count"))
    return x
  end, { concurrency = 100000 })
  t.eq(summary.done, 3)
  t.same(results, { 1, 2, 3 })
  t.ok(peak - before < 4096, "memory grew by " .. math.floor(peak - before) .. " KiB")
end)

t.test("a worker yielding a value the scheduler does not know fails that item", function()
  local results, errors, summary = cdnctl.parallel({ 1, 2, 3 }, function(x)
    if x == 2 then coroutine.yield("what?") end
    return x
  end)
  t.eq(results[1], 1)
  t.eq(results[3], 3)
  t.eq(results[2], nil)
  t.match(errors[2], "fn yielded a value cdnctl.parallel does not know %(string%)")
  t.eq(summary.failed, 1)
  t.eq(summary.done, 3)
end)

t.test("fn returning nil, err counts as failed and errors[i] holds err", function()
  fx:queue({ status = 200, body = '{"error": "nope"}' })
  local results, errors, summary = cdnctl.parallel({ "x", "y" }, function(x)
    if x == "x" then return easyio.show_keys() end
    return nil, "no such " .. x
  end, { concurrency = 1 })
  t.eq(results[1], nil)
  t.eq(errors[1].message, "nope")
  t.eq(errors[2], "no such y")
  t.eq(summary.failed, 2)
  t.eq(summary.done, 2)
end)

t.test("a raised error is its message in errors[i] and its traceback in summary.tracebacks[i]", function()
  local _, errors, summary = cdnctl.parallel({ 1, 2 }, function(x)
    if x == 2 then error("boom at two") end
    return x
  end)
  t.match(errors[2], "^[^\n]*boom at two$")
  t.match(summary.tracebacks[2], "boom at two\nstack traceback:\n")
  t.eq(summary.tracebacks[1], nil)
  local _, errs2 = cdnctl.parallel({ 1 }, function() error({ code = 7 }) end)
  t.eq(errs2[1], "(error object is a table value)")
end)

fx:stop()
t.done()
