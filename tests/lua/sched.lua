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

t.done()
