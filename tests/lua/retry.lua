-- The retry policy as plain functions (no clock, no network): Retry-After,
-- backoff with injected randomness, and the retry budget per base URL.
local t = require "t"
local retry = require "cdnctl.retry"

local NOW = 1445412480 -- Wed, 21 Oct 2015 07:28:00 GMT

t.test("Retry-After as delta-seconds: a non-negative decimal integer", function()
  t.eq(retry.after("120", NOW), 120)
  t.eq(retry.after("0", NOW), 0)
  t.eq(retry.after(" 7 ", NOW), 7)
end)

t.test("Retry-After that is no decimal integer or date is ignored", function()
  for _, v in ipairs { "0x10", "-1", "1.5", "1e3", "", "soon", "12abc", "99999999999999999999" } do
    t.eq(retry.after(v, NOW), nil, v)
  end
  t.eq(retry.after(nil, NOW), nil)
end)

t.test("Retry-After as an HTTP date: IMF-fixdate and the two obsolete forms", function()
  t.eq(retry.after("Wed, 21 Oct 2015 07:28:30 GMT", NOW), 30)
  t.eq(retry.after("Wednesday, 21-Oct-15 07:29:00 GMT", NOW), 60)
  t.eq(retry.after("Wed Oct 21 07:28:10 2015", NOW), 10)
  t.eq(retry.after("Wed, 21 Oct 2015 07:27:00 GMT", NOW), 0, "a date in the past: now")
  t.eq(retry.after("Wed, 32 Oct 2015 07:27:00 GMT", NOW), nil, "not a date")
end)

t.test("backoff: full jitter in [0, min(cap, base * 2^(n-1))]", function()
  local p = { base = 0.5, cap = 20 }
  t.eq(retry.backoff(p, 1, function() return 1 end), 0.5)
  t.eq(retry.backoff(p, 3, function() return 1 end), 2.0)
  t.eq(retry.backoff(p, 10, function() return 1 end), 20)
  t.eq(retry.backoff(p, 3, function() return 0.25 end), 0.5)
  t.eq(retry.backoff(p, 3, function() return 0 end), 0)
end)

t.test("the budget: 500 tokens, a retry costs 5, one after a timeout 10, a first-try success gives 1 back", function()
  local p = { budget = 500, retry_cost = 5, timeout_cost = 10, refund = 1 }
  local b = retry.new_budget(p)
  t.eq(b.tokens, 500)
  t.ok(retry.take(b, p, false))
  t.eq(b.tokens, 495)
  t.ok(retry.take(b, p, true))
  t.eq(b.tokens, 485)
  retry.refund(b, p)
  t.eq(b.tokens, 486)
  for _ = 1, 20 do retry.refund(b, p) end
  t.eq(b.tokens, 500, "never above the budget")
end)

t.test("an empty budget refuses retries; 500 tokens allow exactly 100 retries", function()
  local p = { budget = 500, retry_cost = 5, timeout_cost = 10, refund = 1 }
  local b = retry.new_budget(p)
  local n = 0
  while retry.take(b, p, false) do n = n + 1 end
  t.eq(n, 100)
  t.eq(retry.take(b, p, false), false)
  t.eq(b.tokens, 0)
end)

t.test("a delay: Retry-After wins over backoff; past the cap it ends the retries, saying when", function()
  local p = { base = 0.5, cap = 20, retry_after_cap = 60 }
  local r1 = function() return 1 end
  t.eq(retry.delay(p, 1, nil, NOW, r1), 0.5)
  t.eq(retry.delay(p, 1, "10", NOW, r1), 10)
  t.eq(retry.delay(p, 1, "0x10", NOW, r1), 0.5, "an unreadable Retry-After: backoff")
  local d, why = retry.delay(p, 1, "7200", NOW, r1)
  t.eq(d, nil)
  t.match(why, "asked to be called again in 2 h 0 min %(at 2015%-10%-21 09:28:00 UTC%)")
end)

t.done()
