-- cdnctl.bucket: the token bucket behind cdnctl.parallel's opts.rate, as
-- plain functions of the clock (tests give `now`; the scheduler gives
-- http.now()). The bucket holds at most `rate` tokens (at least 1) and
-- refills at `rate` a second; every request takes one.

local M = {}

-- A bucket at time now holding one token: requests are spaced from the
-- start; a bucket left idle fills up to its burst.
function M.new(rate, now)
  return { rate = rate, burst = math.max(1, rate), tokens = 1, last = now }
end

-- Take a token at time now -> 0 (go) or the seconds to wait before trying again.
function M.take(b, now)
  b.tokens = math.min(b.burst, b.tokens + (now - b.last) * b.rate)
  b.last = now
  if b.tokens >= 1 then b.tokens = b.tokens - 1; return 0 end
  return (1 - b.tokens) / b.rate
end

return M
