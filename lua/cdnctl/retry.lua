-- cdnctl.retry: the retry policy as plain functions of their inputs (the
-- clock and the random source are arguments), so each rule is a unit test:
--   after(value, now)              Retry-After: seconds to wait, or nil
--   backoff(policy, n, random)     full jitter before retry n
--   delay(policy, n, ra, now, rnd) the wait before retry n, or nil and why
--   new_budget / take / refund     the retry budget of one base URL, as the
--                                  AWS SDKs' standard retry mode keeps it
-- client.lua applies them; cdnctl.retry{} sets the policy's numbers.

local M = {}

-- The defaults (README, "Retries"): 3 attempts in all; backoff base 0.5 s,
-- cap 20 s; a Retry-After honoured up to 60 s; 60 s a request; a budget of
-- 500 tokens per base URL, 5 a retry, 10 a retry after a timeout, 1 back
-- for each first-try success; 5 s of settling before a create's last look
-- (client.lua: what a request still in the server's hands may yet do).
M.DEFAULTS = { attempts = 3, base = 0.5, cap = 20, retry_after_cap = 60, timeout = 60,
               budget = 500, retry_cost = 5, timeout_cost = 10, refund = 1, settle = 5 }

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
                 Nov = 11, Dec = 12 }

-- Seconds since the epoch of a UTC calendar time (no time zone involved).
local function utc(y, mo, d, h, mi, s)
  if not (mo and d >= 1 and d <= 31 and h <= 23 and mi <= 59 and s <= 60) then return nil end
  local days_before = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 }
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  if d > ({ 31, leap and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[mo] then return nil end
  local yd = days_before[mo] + d - 1 + ((leap and mo > 2) and 1 or 0)
  local y1 = y - 1
  local days = 365 * (y - 1970) + (y1 // 4 - 1969 // 4) - (y1 // 100 - 1969 // 100) + (y1 // 400 - 1969 // 400) + yd
  return ((days * 24 + h) * 60 + mi) * 60 + s
end

-- An HTTP date (RFC 9110 5.6.7: IMF-fixdate, RFC 850, asctime) -> epoch seconds | nil
local function http_date(v)
  local d, mon, y, h, mi, s = v:match("^%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, h, mi, s = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then mon, d, h, mi, s, y = v:match("^%a%a%a (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$") end
  if not d then return nil end
  return utc(tonumber(y), MONTHS[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
end

-- Retry-After: delta-seconds (a non-negative decimal integer) or an HTTP
-- date; anything else is ignored (nil). A date in the past means now (0).
function M.after(value, now)
  if type(value) ~= "string" then return nil end
  local v = value:match("^%s*(.-)%s*$")
  local secs = v:match("^%d+$") and #v <= 12 and tonumber(v)
  if secs then return secs end
  local at = http_date(v)
  if not at then return nil end
  return math.max(0, at - now)
end

-- Full jitter: a random delay in [0, min(cap, base * 2^(n-1))] before retry n.
function M.backoff(policy, n, random)
  return random() * math.min(policy.cap, policy.base * 2 ^ (n - 1))
end

local function span(s)
  if s >= 3600 then return string.format("%d h %d min", s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format("%d min %d s", s // 60, s % 60) end
  return string.format("%d s", s)
end

-- The wait before retry n: the service's Retry-After when it gives a
-- readable one (up to retry_after_cap), else backoff. -> seconds | nil, why
function M.delay(policy, n, retry_after, now, random)
  local ra = M.after(retry_after, now)
  if not ra then return M.backoff(policy, n, random) end
  if ra > policy.retry_after_cap then
    return nil, string.format("the service asked to be called again in %s (at %s), beyond the %g s cdnctl waits "
      .. "(cdnctl.retry{retry_after_cap = ...})", span(math.floor(ra)), os.date("!%Y-%m-%d %H:%M:%S UTC", now + ra),
      policy.retry_after_cap)
  end
  return ra
end

-- The retry budget of one base URL.
function M.new_budget(policy) return { tokens = policy.budget } end

-- Take a retry's cost from the budget -> true | false (empty: no retry).
function M.take(budget, policy, timed_out)
  local cost = timed_out and policy.timeout_cost or policy.retry_cost
  if budget.tokens < cost then return false end
  budget.tokens = budget.tokens - cost
  return true
end

-- A first-try success gives some back, never above the budget.
function M.refund(budget, policy)
  budget.tokens = math.min(policy.budget, budget.tokens + policy.refund)
end

return M
