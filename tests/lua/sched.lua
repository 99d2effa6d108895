-- The scheduler's decisions as plain functions: whether a caller waits or
-- yields, how long the scheduler polls, which sleepers wake, what the first
-- stop signal prints. The clock is a number given to them: no sleeping.
local t = require "t"
local sched = require "cdnctl.sched"

local function run(workers) return { workers = workers or {}, sleepers = {}, ended = {} } end

t.test("outside cdnctl.parallel every caller waits (plain script, prompt, any coroutine)", function()
  local main = coroutine.running()
  t.eq(sched.mode(nil, main), "wait", "the main chunk")
  t.eq(sched.mode(nil, coroutine.create(function() end)), "wait", "a user's coroutine")
end)

t.test("inside cdnctl.parallel only its own workers and its feeder yield", function()
  local worker, feeder, mine = coroutine.create(print), coroutine.create(print), coroutine.create(print)
  local s = run({ [worker] = 3, [feeder] = 0 })
  t.eq(sched.mode(s, worker), "yield", "a worker")
  t.eq(sched.mode(s, feeder), "yield", "the feeder (item 0)")
  t.eq(sched.mode(s, mine), "wait", "a coroutine fn made itself")
  t.eq(sched.mode(s, coroutine.running()), "wait", "the main chunk while parallel runs")
end)

t.test("with nothing timed the scheduler polls until a transfer ends", function()
  t.eq(sched.poll_timeout(run(), 100), nil)
end)

t.test("the scheduler polls until the earliest sleeper wakes", function()
  local s = run()
  s.sleepers = { { 103, "a" }, { 101.5, "b" }, { 107, "c" } }
  t.eq(sched.poll_timeout(s, 100), 1.5)
  t.eq(sched.poll_timeout(s, 102), 0, "a wake-up time in the past: poll without waiting")
end)

t.test("a drain bounds the poll like a sleeper", function()
  local s = run()
  s.sleepers = { { 110, "a" } }
  s.drain_until = 104
  t.eq(sched.poll_timeout(s, 100), 4)
end)

t.test("transfers handed over by a blocking wait are taken without polling long", function()
  local s = run()
  s.ended = { "t1" }
  s.drain_until = 150
  t.eq(sched.poll_timeout(s, 100), 0)
end)

t.test("sleepers that are due wake, in order; the rest keep sleeping", function()
  local s = run()
  s.sleepers = { { 101, "a" }, { 105, "b" }, { 100, "c" } }
  t.same(sched.due(s, 101), { "a", "c" })
  t.same(s.sleepers, { { 105, "b" } })
  t.same(sched.due(s, 104.9), {})
end)

t.test("once stopping every sleeper wakes: no backoff outlives a Ctrl-C", function()
  local s = run()
  s.sleepers = { { 1e9, "a" }, { 2e9, "b" } }
  s.stop = true
  t.same(sched.due(s, 0), { "a", "b" })
  t.same(s.sleepers, {})
end)

t.test("Ctrl-C: one line, the requests in flight and the longest wait, no drain", function()
  local line, drain = sched.stop_notice(3, 41.2, "SIGINT")
  t.eq(line, "stopping: waiting for 3 requests in flight (up to 42 s); Ctrl-C again to quit now\n")
  t.eq(drain, nil)
  t.eq((sched.stop_notice(1, 0.2, "")), "stopping: waiting for 1 request in flight (up to 1 s); Ctrl-C again to quit now\n")
end)

t.test("SIGTERM and SIGHUP: what is in flight gets DRAIN seconds at most", function()
  local line, drain = sched.stop_notice(2, 60, "SIGTERM")
  t.eq(line, "stopping (SIGTERM): waiting for 2 requests in flight (up to 8 s); SIGTERM again to quit now\n")
  t.eq(drain, sched.DRAIN)
  local hline, hdrain = sched.stop_notice(0, 0, "SIGHUP")
  t.eq(hline, "stopping (SIGHUP): waiting for 0 requests in flight (up to 0 s); SIGHUP again to quit now\n")
  t.eq(hdrain, 8)
end)

t.test("a run's opts.drain replaces the default for every signal; 0 abandons at once", function()
  local line, drain = sched.stop_notice(2, 60, "SIGINT", 0)
  t.eq(line, "stopping: 2 requests in flight abandoned\n")
  t.eq(drain, 0)
  t.eq((sched.stop_notice(1, 60, "SIGTERM", 0)), "stopping (SIGTERM): 1 request in flight abandoned\n")
  local hline, hdrain = sched.stop_notice(1, 60, "SIGHUP", 3)
  t.eq(hline, "stopping (SIGHUP): waiting for 1 request in flight (up to 3 s); SIGHUP again to quit now\n")
  t.eq(hdrain, 3)
  t.eq(select(2, sched.stop_notice(1, 5, "SIGINT", 20)), 20, "a drain for Ctrl-C too")
end)

t.test("the errors a stop signal raises, and no other, are interrupts", function()
  t.eq(sched.is_interrupt("interrupted"), true, "a wait's")
  t.eq(sched.is_interrupt("lua/cdnctl/sched.lua:51: interrupted!"), true, "the hook's, where it fired")
  t.eq(sched.is_interrupt("interrupted!"), true)
  t.eq(sched.is_interrupt("x.lua:3: interrupted! or not\nstack traceback:"), false)
  t.eq(sched.is_interrupt("stdin:1: oops"), false)
  t.eq(sched.is_interrupt({ exit_status = 0 }), false, "cdnctl.exit's object")
end)

t.test("an ETA in words, from 0 to days: whole seconds, then m/s, h/m, d/h; never an error", function()
  local cases = {
    { 0, "0s" }, { 0.4, "0s" }, { 0.5, "1s" }, { 1.3, "1s" }, { 59.4, "59s" }, { 59.6, "1m00s" },
    { 60, "1m00s" }, { 61.7, "1m02s" }, { 89.7, "1m30s" }, { 3599.4, "59m59s" }, { 3599.5, "1h00m" },
    { 3600, "1h00m" }, { 7384.9, "2h03m" }, { 86399, "23h59m" }, { 86400, "1d00h" },
    { 3 * 86400 + 4 * 3600 + 59, "3d04h" }, { 999 * 86400, "999d00h" }, { 1000 * 86400, ">999d" },
    { 1e300, ">999d" }, { math.huge, "?" }, { 0 / 0, "?" }, { -1, "?" },
  }
  for _, c in ipairs(cases) do t.eq(sched.eta_text(c[1]), c[2], "ETA of " .. tostring(c[1]) .. " s") end
end)

t.test("the progress line: label, done/total and percent, rate, ETA and failures, clock given", function()
  local p = { label = "purge", done = 1, total = 70, failed = 0, started = 100 }
  t.eq(sched.progress_line(p, 101.3), "purge: 1/70 (1%) 0.8/s ETA 1m30s, 0 failed")
  p.done, p.failed = 35, 3
  t.eq(sched.progress_line(p, 100 + 35 * 3600), "purge: 35/70 (50%) 0.0/s ETA 1d11h, 3 failed")
  p.done, p.failed = 70, 70
  t.eq(sched.progress_line(p, 107), "purge: 70/70 (100%) 10.0/s ETA 0s, 70 failed")
end)

t.test("the progress line before the first item ends: no rate yet, so the ETA is ?", function()
  t.eq(sched.progress_line({ done = 0, total = 2000, failed = 0, started = 5 }, 5), "0/2000 (0%) 0.0/s ETA ?, 0 failed")
  t.eq(sched.progress_line({ done = 0, total = 0, failed = 0, started = 5 }, 6), "0/0 (100%) 0.0/s ETA 0s, 0 failed")
end)

t.test("the progress line of an iterator with no total: the count done, no percent and no ETA", function()
  t.eq(sched.progress_line({ label = "onboard", done = 12, failed = 1, started = 0 }, 4),
    "onboard: 12 done 3.0/s, 1 failed")
end)

t.test("the progress line while stopping says so; a total passed is never below done", function()
  t.eq(sched.progress_line({ label = "report", done = 9, total = 8, failed = 0, started = 0, stop = true }, 3),
    "report: 9/9 (100%) 3.0/s ETA 0s, 0 failed (stopping: finishing what is in flight)")
end)

t.done()
