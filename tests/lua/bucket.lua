-- The token bucket behind cdnctl.parallel's opts.rate, with the clock given:
-- no sleeping, no wall time.
local t = require "t"
local bucket = require "cdnctl.bucket"

t.test("a full bucket lets the first request through at once", function()
  local b = bucket.new(10, 0)
  t.eq(bucket.take(b, 0), 0)
end)

t.test("at 10 per second, the next request waits a tenth of a second", function()
  local b = bucket.new(10, 0)
  t.eq(bucket.take(b, 0), 0)
  local w = bucket.take(b, 0)
  t.ok(math.abs(w - 0.1) < 1e-9, "wait " .. w)
  t.eq(bucket.take(b, 0.1), 0, "after the wait it goes")
end)

t.test("six requests at 10 per second take half a second of waiting in all", function()
  local b, now = bucket.new(10, 0), 0
  for _ = 1, 6 do
    local w = bucket.take(b, now)
    while w > 0 do now = now + w; w = bucket.take(b, now) end
  end
  t.ok(math.abs(now - 0.5) < 1e-9, "the sixth went at " .. now)
end)

t.test("the burst is the rate (at least 1): an idle bucket fills up to it, no further", function()
  local b = bucket.new(5, 0)
  for _ = 1, 5 do t.eq(bucket.take(b, 100), 0) end
  t.ok(bucket.take(b, 100) > 0, "the sixth at once waits")
  local b2 = bucket.new(0.5, 0)
  t.eq(bucket.take(b2, 0), 0)
  t.ok(math.abs(bucket.take(b2, 0) - 2) < 1e-9, "at 0.5/s the next waits 2 s")
end)
t.done()
