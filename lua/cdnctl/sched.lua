-- cdnctl.sched: cdnctl.parallel, the scheduler of concurrent calls.
--
-- Each worker is a coroutine adopted by the C request primitive: a binding
-- called inside it yields its transfer here instead of blocking, and
-- http.wait() hands back the transfers that ended so that their coroutines
-- resume. Sleeps (backoff, rate limit) yield a wake-up time. Outside
-- parallel, the same bindings block, so one script works both ways.

local http = require "cdnctl.http"
local host = require "cdnctl.host"
local fs = require "cdnctl.fs"

local M = {}

local SLEEP = setmetatable({}, { __name = "cdnctl.sleep" })
local current -- the running scheduler's state, or nil

local function in_worker()
  if not current then return false end
  local co = coroutine.running()
  return current.workers[co] ~= nil
end

-- Sleep without stopping other workers (blocks outside parallel).
function M.sleep(seconds)
  if seconds <= 0 then return end
  if in_worker() then
    coroutine.yield(SLEEP, http.now() + seconds)
  else
    http.sleep(seconds)
  end
end

-- True once Ctrl-C asked the running parallel to stop.
function M.stopping()
  return current ~= nil and current.stop
end

-- Token bucket for opts.rate: called before every request.
function M.before_request()
  local s = current
  if not s or not s.rate or not in_worker() then return end
  while true do
    local now = http.now()
    s.tokens = math.min(s.burst, s.tokens + (now - s.last) * s.rate)
    s.last = now
    if s.tokens >= 1 then s.tokens = s.tokens - 1; return end
    M.sleep((1 - s.tokens) / s.rate)
  end
end

local function fmt_eta(sec)
  if sec ~= sec or sec == math.huge then return "?" end
  if sec >= 3600 then return string.format("%dh%02dm", sec // 3600, (sec % 3600) // 60) end
  if sec >= 60 then return string.format("%dm%02ds", sec // 60, sec % 60) end
  return string.format("%ds", math.floor(sec + 0.5))
end

local function draw_progress(s, final)
  local now = http.now()
  if not final and now - s.drawn < 0.1 then return end
  s.drawn = now
  local elapsed = math.max(now - s.started, 1e-6)
  local rate = s.done / elapsed
  local eta = (rate > 0 and s.total ~= math.huge) and (s.total - s.done) / rate or math.huge
  local line = string.format("\r[%d/%s] %.1f/s ETA %s failures %d%s", s.done,
    s.total == math.huge and "?" or tostring(s.total), rate,
    fmt_eta(eta), s.failed, s.stop and " (stopping: finishing what is in flight)" or "")
  io.stderr:write(line, "\027[K", final and "\n" or "")
  io.stderr:flush()
end

-- cdnctl.parallel(items, fn [, opts]) -> results, errors, summary
-- opts: concurrency (8), rate (requests/s), progress (bool), on_result(i, result, err)
function M.parallel(items, fn, opts)
  if type(items) ~= "table" and type(items) ~= "function" then
    error("bad argument #1 to 'parallel' (table or iterator function expected, got " .. type(items) .. ")", 2)
  end
  if type(fn) ~= "function" then error("bad argument #2 to 'parallel' (function expected, got " .. type(fn) .. ")", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #3 to 'parallel' (table expected, got " .. type(opts) .. ")", 2) end
  local known = { concurrency = "number", rate = "number", progress = "boolean", on_result = "function" }
  for k, v in pairs(opts) do
    if not known[k] then error("bad argument #3 to 'parallel' (unknown option '" .. tostring(k) .. "')", 2) end
    if type(v) ~= known[k] then error("bad argument #3 to 'parallel' (option '" .. k .. "' must be a " .. known[k] .. ")", 2) end
  end
  local conc = math.tointeger(opts.concurrency or 8)
  if not conc or conc < 1 then error("bad argument #3 to 'parallel' (concurrency must be a positive integer)", 2) end
  if opts.rate and opts.rate <= 0 then error("bad argument #3 to 'parallel' (rate must be positive)", 2) end
  if current then error("cdnctl.parallel cannot be nested: call the bindings directly inside fn", 2) end

  -- items: a list, or a function returning the next item (nil at the end),
  -- so that a long input is never held in memory at once
  local iter = type(items) == "function" and items or nil
  local n = iter and math.huge or #items
  local on_result = opts.on_result
  local results, errs = {}, {}
  local s = {
    workers = {}, total = n, done = 0, failed = 0, stop = false, next = 1,
    rate = opts.rate, tokens = 1, burst = math.max(1, opts.rate or 1), last = http.now(),
    started = http.now(), drawn = 0,
    progress = opts.progress ~= false and not M.quiet and fs.isatty(2),
  }
  local waiting, sleepers = {}, {}

  local function worker()
    while not s.stop do
      local i = s.next
      if i > n then return end
      local item
      if iter then
        item = iter()
        if item == nil then n = i - 1; s.total = n; return end
      else
        item = items[i]
      end
      s.next = i + 1
      local ok, r, e = xpcall(fn, host.traceback, item, i)
      if not ok then
        errs[i] = tostring(r)
        s.failed = s.failed + 1
        r, e = nil, errs[i]
      elseif r == nil and e ~= nil then
        s.failed = s.failed + 1
      end
      s.done = s.done + 1
      if on_result then
        local cok, cerr = xpcall(on_result, host.traceback, i, r, e)
        if not cok then s.stop = true; s.callback_error = cerr end
      elseif ok then
        results[i] = r
      end
    end
  end

  local function resume(co, ...)
    local ok, y, wake = coroutine.resume(co, ...)
    if not ok then
      s.stop = true
      s.callback_error = s.callback_error or y
    end
    if coroutine.status(co) == "dead" then
      s.workers[co] = nil
      s.live = s.live - 1
    elseif y == SLEEP then
      sleepers[#sleepers + 1] = { wake, co }
    elseif type(y) == "userdata" then
      waiting[y] = co
    else
      -- fn yielded on its own: nothing to wait for, so carry on at once
      sleepers[#sleepers + 1] = { 0, co }
    end
  end

  current = s
  s.live = 0
  local armed = host.arm(false) -- Ctrl-C now means: finish what is in flight
  local ok, perr = pcall(function()
    for _ = 1, math.min(conc, iter and conc or n) do
      local co = coroutine.create(worker)
      http.adopt(co)
      s.workers[co] = true
      s.live = s.live + 1
    end
    for co in pairs(s.workers) do resume(co) end
    while s.live > 0 do
      local timeout
      if #sleepers > 0 then
        local earliest = math.huge
        for _, sl in ipairs(sleepers) do earliest = math.min(earliest, sl[1]) end
        timeout = math.max(0, earliest - http.now())
      end
      local done, interrupted = http.wait(timeout)
      if interrupted and not s.stop then s.stop = true; s.interrupted = true end
      for _, t in ipairs(done) do
        local co = waiting[t]
        waiting[t] = nil
        if co then resume(co) end
      end
      if #sleepers > 0 then
        local now, keep, wake = http.now(), {}, {}
        for _, sl in ipairs(sleepers) do
          if sl[1] <= now or s.stop then wake[#wake + 1] = sl[2] else keep[#keep + 1] = sl end
        end
        sleepers = keep
        for _, co in ipairs(wake) do resume(co) end
      end
      if s.progress then draw_progress(s) end
    end
  end)
  current = nil
  host.arm(armed)
  if s.progress then draw_progress(s, true) end
  if not ok then error(perr, 0) end
  if s.callback_error then error(s.callback_error, 0) end
  return results, errs, { done = s.done, failed = s.failed, total = s.total == math.huge and s.done or s.total,
    interrupted = s.interrupted or false }
end

return M
