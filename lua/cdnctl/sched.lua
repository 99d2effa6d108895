-- cdnctl.sched: cdnctl.parallel, the scheduler of concurrent calls.
--
-- Each worker is a coroutine adopted by the C request primitive: a binding
-- called inside it yields its transfer here instead of blocking, and
-- http.wait() hands back the transfers that ended so that their coroutines
-- resume. Sleeps (backoff, rate limit) yield a wake-up time. Outside
-- parallel, the same bindings block, so one script works both ways.
--
-- Each item gets a worker of its own when it arrives, while fewer than
-- `concurrency` run. An iterator runs in one feeder coroutine (it may call
-- bindings itself), so items are pulled one at a time and numbered once, in
-- order. Anything else yielded is refused: that item fails.

local http = require "cdnctl.http"
local bucket = require "cdnctl.bucket"
local host = require "cdnctl.host"
local fs = require "cdnctl.fs"
local redact = require "cdnctl.redact"

local M = {}

local SLEEP = setmetatable({}, { __name = "cdnctl.sleep" })
local current -- the running scheduler's state, or nil

local function in_worker()
  if not current then return false end
  local co = coroutine.running()
  return current.workers[co] ~= nil
end

-- Sleep without stopping other workers (blocks outside parallel). Inside a
-- worker even 0 yields: the others run first.
local function pause(seconds)
  if in_worker() then
    coroutine.yield(SLEEP, http.now() + seconds)
  elseif seconds > 0 then
    http.sleep(seconds)
  end
end

-- cdnctl.sleep(seconds): seconds in [0, 86400]
function M.sleep(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0 and seconds <= 86400) then
    error("bad argument #1 to 'sleep' (seconds must be a number in [0, 86400], got " .. tostring(seconds) .. ")", 2)
  end
  pause(seconds)
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
    local wait = bucket.take(s.bucket, http.now())
    if wait == 0 then return end
    pause(wait)
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

-- An error raised by fn (or on_result): its message alone for errors[i],
-- and the message with a traceback for summary.tracebacks[i], keys masked.
-- cdnctl.exit's object passes through untouched.
local FAILURE = {}
local function is_exit(e)
  return type(e) == "table" and getmetatable(e) ~= FAILURE and math.type(e.exit_status) == "integer"
end
local function on_error(e)
  if is_exit(e) then return e end
  local msg = type(e) == "string" and e or type(e) == "number" and tostring(e) or nil
  if msg == nil then
    local mt = getmetatable(e)
    local ts = type(mt) == "table" and mt.__tostring
    msg = ts and tostring(e) or "(error object is a " .. type(e) .. " value)"
  end
  return setmetatable({ message = redact.mask(msg), traceback = redact.mask(debug.traceback(msg, 2)) }, FAILURE)
end

local ITEM = setmetatable({}, { __name = "cdnctl.item" }) -- the feeder hands over an item

local function check_parallel_args(items, fn, opts)
  if type(items) ~= "table" and type(items) ~= "function" then
    error("bad argument #1 to 'parallel' (table or iterator function expected, got " .. type(items) .. ")", 3)
  end
  if type(fn) ~= "function" then error("bad argument #2 to 'parallel' (function expected, got " .. type(fn) .. ")", 3) end
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #3 to 'parallel' (table expected, got " .. type(opts) .. ")", 3) end
  local known = { concurrency = "number", rate = "number", progress = "boolean", on_result = "function" }
  for k, v in pairs(opts) do
    if not known[k] then error("bad argument #3 to 'parallel' (unknown option '" .. tostring(k) .. "')", 3) end
    if type(v) ~= known[k] then error("bad argument #3 to 'parallel' (option '" .. k .. "' must be a " .. known[k] .. ")", 3) end
  end
  local conc = math.tointeger(opts.concurrency or 8)
  if not conc or conc < 1 then error("bad argument #3 to 'parallel' (concurrency must be a positive integer)", 3) end
  if opts.rate and not (opts.rate > 0 and opts.rate <= 1e6) then
    error("bad argument #3 to 'parallel' (rate must be a number of requests per second in (0, 1000000])", 3)
  end
  if current then error("cdnctl.parallel cannot be nested: call the bindings directly inside fn", 3) end
  return opts, conc
end

-- One item's outcome, inside its worker: count it, then hand it to
-- on_result or keep it. cdnctl.exit (in fn or on_result) ends the worker
-- with the exit object, which ends the run.
local function record(s, i, ok, r, e)
  if not ok then
    if is_exit(r) then error(r, 0) end
    s.errs[i], s.tracebacks[i] = r.message, r.traceback
    r, e = nil, r.message
    s.failed = s.failed + 1
  elseif r == nil and e ~= nil then
    s.errs[i] = e
    s.failed = s.failed + 1
  end
  s.done = s.done + 1
  if s.on_result then
    local cok, cerr = xpcall(s.on_result, host.traceback, i, r, e)
    if not cok then
      if is_exit(cerr) then error(cerr, 0) end
      s.stop = true
      s.callback_error = s.callback_error or cerr
    end
  elseif r ~= nil then
    s.results[i] = r
  end
end

local resume

-- Start a coroutine running body(...) for item i (0: the feeder).
local function spawn(s, i, body, ...)
  local co = coroutine.create(body)
  http.adopt(co)
  s.workers[co] = i
  if i > 0 then s.live = s.live + 1 end
  resume(s, co, ...)
end

local function run_item(s, i, item)
  record(s, i, xpcall(s.fn, on_error, item, i))
end

-- A coroutine yielded something nobody will answer: close it; for a worker
-- that is a failure of its item, for the feeder an error of the run.
local function refuse(s, co, y)
  local i = s.workers[co]
  local what = i > 0 and "fn" or "the items iterator"
  local msg = what .. " yielded a value cdnctl.parallel does not know (" .. type(y) .. "); "
    .. "only the bindings and cdnctl.sleep may yield inside it"
  s.workers[co] = nil
  coroutine.close(co)
  if i > 0 then
    s.live = s.live - 1
    spawn(s, i, function() record(s, i, false, setmetatable({ message = msg, traceback = msg }, FAILURE)) end)
  else
    s.pulling, s.exhausted, s.stop = false, true, true
    s.callback_error = s.callback_error or msg
  end
end

-- Resume co and file it by what it yielded: a sleep, a transfer, an item
-- (the feeder), or nothing (it ended).
function resume(s, co, ...)
  if s.exit then return end
  local ok, y, v = coroutine.resume(co, ...)
  local i = s.workers[co]
  if not ok then
    if is_exit(y) then s.exit = y
    else s.stop = true; s.callback_error = s.callback_error or y end
  end
  if coroutine.status(co) == "dead" then
    s.workers[co] = nil
    if i > 0 then s.live = s.live - 1
    else s.pulling, s.exhausted, s.total = false, true, s.next - 1 end
  elseif y == SLEEP then
    s.sleepers[#s.sleepers + 1] = { v, co }
  elseif y == ITEM and i == 0 then
    s.pulling = false
    if not s.stop then
      local n = s.next
      s.next = n + 1
      spawn(s, n, run_item, s, n, v)
    end
  elseif http.awaitable(y) then
    s.waiting[y] = co
  else
    refuse(s, co, y)
  end
end

-- Start items while there is room: each gets the next index, once, in the
-- order the items come, whatever the iterator does (it may yield).
local function fill(s)
  while not s.exit and not s.stop and not s.exhausted and not s.pulling and s.live < s.conc do
    if s.feeder then
      s.pulling = true
      resume(s, s.feeder)
    elseif s.next > s.total then
      s.exhausted = true
    else
      local n = s.next
      s.next = n + 1
      spawn(s, n, run_item, s, n, s.items[n])
    end
  end
end

-- The first Ctrl-C: start nothing new, let what is in flight finish, and
-- say so on stderr; from now on a Ctrl-C ends the process at once.
-- SIGTERM and SIGHUP do the same, but give what is in flight DRAIN seconds
-- at most (docker stop waits 10): then it is abandoned.
M.DRAIN = 8
local function first_interrupt(s)
  s.stop, s.interrupted = true, true
  local n, longest = 0, 0
  for t in pairs(s.waiting) do
    n = n + 1
    longest = math.max(longest, http.remaining(t))
  end
  local _, signame = host.stop_signal()
  if signame == "SIGTERM" or signame == "SIGHUP" then
    s.drain_until = http.now() + M.DRAIN
    longest = math.min(longest, M.DRAIN)
  end
  io.stderr:write(s.progress and "\n" or "", string.format(
    "stopping%s: waiting for %d request%s in flight (up to %d s); %s again to quit now\n",
    signame ~= "" and signame ~= "SIGINT" and (" (" .. signame .. ")") or "", n, n == 1 and "" or "s",
    math.ceil(longest), signame ~= "" and signame ~= "SIGINT" and signame or "Ctrl-C"))
  io.stderr:flush()
  host.sigint_quits(true)
end

-- After SIGTERM or SIGHUP: what is still in flight past the drain time is
-- abandoned (its items count as not done).
local function drain_over(s)
  for t, co in pairs(s.waiting) do
    http.cancel(t)
    local i = s.workers[co]
    s.workers[co] = nil
    coroutine.close(co)
    if i and i > 0 then s.live = s.live - 1
    elseif i == 0 then s.pulling, s.exhausted = false, true end
  end
  s.waiting = {}
end

-- Resume what ended or woke up after one http.wait.
local function step(s)
  local timeout
  if #s.sleepers > 0 then
    local earliest = math.huge
    for _, sl in ipairs(s.sleepers) do earliest = math.min(earliest, sl[1]) end
    timeout = math.max(0, earliest - http.now())
  end
  if s.drain_until then timeout = math.max(0, math.min(timeout or math.huge, s.drain_until - http.now())) end
  local done, interrupted = http.wait(timeout)
  if interrupted and not s.interrupted then first_interrupt(s) end
  if s.drain_until and http.now() >= s.drain_until then drain_over(s) end
  for _, t in ipairs(done) do
    local co = s.waiting[t]
    s.waiting[t] = nil
    if co then resume(s, co) end
  end
  if #s.sleepers > 0 then
    local now, keep, wake = http.now(), {}, {}
    for _, sl in ipairs(s.sleepers) do
      if sl[1] <= now or s.stop then wake[#wake + 1] = sl[2] else keep[#keep + 1] = sl end
    end
    s.sleepers = keep
    for _, co in ipairs(wake) do resume(s, co) end
  end
end

-- Drop whatever is left (after cdnctl.exit or an internal error): cancel
-- the transfers, close the coroutines.
local function abandon(s)
  for t in pairs(s.waiting) do http.cancel(t) end
  s.waiting = {}
  for co in pairs(s.workers) do coroutine.close(co) end
  s.workers = {}
end

-- cdnctl.parallel(items, fn [, opts]) -> results, errors, summary
-- opts: concurrency (8), rate (requests/s), progress (bool), on_result(i, result, err)
function M.parallel(items, fn, opts)
  local conc
  opts, conc = check_parallel_args(items, fn, opts)
  -- items: a list, or a function returning the next item (nil at the end),
  -- so that a long input is never held in memory at once
  local iter = type(items) == "function" and items or nil
  local s = {
    items = items, fn = fn, on_result = opts.on_result, conc = conc,
    results = {}, errs = {}, tracebacks = {},
    workers = {}, live = 0, waiting = {}, sleepers = {},
    total = iter and math.huge or #items, done = 0, failed = 0, stop = false, next = 1,
    rate = opts.rate, bucket = opts.rate and bucket.new(opts.rate, http.now()),
    started = http.now(), drawn = 0,
    progress = opts.progress ~= false and fs.isatty(2),
  }
  if iter then
    s.feeder = coroutine.create(function()
      while true do
        local item = iter()
        if item == nil then return end
        coroutine.yield(ITEM, item)
      end
    end)
    http.adopt(s.feeder)
    s.workers[s.feeder] = 0
  end

  current = s
  local armed = host.arm(false) -- Ctrl-C now means: finish what is in flight
  local quits = host.sigint_quits(false)
  local ok, perr = pcall(function()
    while true do
      fill(s)
      if s.exit or (s.live == 0 and not s.pulling) then break end
      step(s)
      if s.progress then draw_progress(s) end
    end
  end)
  current = nil
  abandon(s)
  host.sigint_quits(quits)
  host.arm(armed)
  if s.progress then draw_progress(s, true) end
  if s.exit then error(s.exit, 0) end
  if not ok then error(perr, 0) end
  if s.callback_error then error(s.callback_error, 0) end
  return s.results, s.errs, { done = s.done, failed = s.failed, tracebacks = s.tracebacks,
    total = iter and s.next - 1 or s.total, interrupted = s.interrupted or false }
end

return M
