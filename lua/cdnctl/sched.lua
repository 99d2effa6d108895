-- cdnctl.sched: the one owner of waiting. Every request (client.lua's
-- send) and every sleep (backoff, the rate limit, cdnctl.sleep) comes here,
-- and here alone it is decided whether the caller waits or yields:
--
--   inside a worker of cdnctl.parallel (a coroutine this module made, and
--   listed in its run's `workers`): yield to the scheduler, which polls for
--   all of them and resumes each when its transfer ended or its sleep is
--   over;
--   anywhere else (a plain script, the prompt, a user's own coroutine):
--   wait, polling until its own transfer ended or its sleep is over.
--
-- C (cdnctl.http) only starts transfers, polls the loop and reports a stop
-- signal through http.poll's second result; it never yields or decides. The
-- meaning of a stop signal is decided here too: outside parallel a wait
-- raises "interrupted"; inside, the first stops new work (first_interrupt).
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

local SLEEP = setmetatable({}, { __name = "cdnctl.sleep" })       -- yield SLEEP, wake-up time
local TRANSFER = setmetatable({}, { __name = "cdnctl.transfer" }) -- yield TRANSFER, t
local current -- the running scheduler's state, or nil

-- The decision, as a function of the running parallel's state s (or nil)
-- and the running coroutine co: "yield" inside one of s's workers (the
-- feeder included), "wait" anywhere else.
function M.mode(s, co)
  if s and co and s.workers[co] ~= nil then return "yield" end
  return "wait"
end

-- Wait here, driving the loop, until t ended (with t) or the time `wake`
-- came (without). Transfers of the running parallel that end meanwhile are
-- kept in s.ended for its scheduler. A stop signal outside parallel raises
-- "interrupted" (t is cancelled by its <close>); inside, it is the
-- scheduler's (s.interrupt_pending), and a sleep ends early.
local function block(s, t, wake)
  while true do
    local left = wake and wake - http.now()
    if left and left <= 0 then return end
    local ended, interrupted = http.poll(left)
    local mine = false
    for _, e in ipairs(ended) do
      if e == t then mine = true elseif s then s.ended[#s.ended + 1] = e end
    end
    if interrupted then
      if not s then error("interrupted", 0) end
      s.interrupt_pending = true
      if not t then return end
    end
    if mine then return end
  end
end

-- Sleep without stopping other workers. Inside a worker even 0 yields: the
-- others run first.
local function pause(seconds)
  local s = current
  if M.mode(s, coroutine.running()) == "yield" then
    coroutine.yield(SLEEP, http.now() + seconds)
  elseif seconds > 0 then
    block(s, nil, http.now() + seconds)
  end
end

-- cdnctl.sleep(seconds): seconds in [0, 86400]
function M.sleep(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0 and seconds <= 86400) then
    error("bad argument #1 to 'sleep' (seconds must be a number in [0, 86400], got " .. tostring(seconds) .. ")", 2)
  end
  pause(seconds)
end

-- True when a wait here yields to the running parallel (the caller is one
-- of its workers), so that other workers run meanwhile (cdnctl.lock).
function M.yields()
  return M.mode(current, coroutine.running()) == "yield"
end

-- True once Ctrl-C asked the running parallel to stop.
function M.stopping()
  return current ~= nil and current.stop
end

-- sched.request(req) -> resp | nil, transport_err: one HTTP exchange
-- (req as http.start takes it). Inside a worker it first takes a token of
-- opts.rate, then yields; elsewhere it waits. The transfer is released
-- however this ends (its <close>: an error, or a worker closed by a drain).
function M.request(req)
  local s = current
  local mode = M.mode(s, coroutine.running())
  if mode == "yield" and s.bucket then
    local wait = bucket.take(s.bucket, http.now())
    while wait > 0 do
      coroutine.yield(SLEEP, http.now() + wait)
      wait = bucket.take(s.bucket, http.now())
    end
  end
  local t <close> = http.start(req)
  if mode == "yield" then coroutine.yield(TRANSFER, t) else block(s, t) end
  return t:result()
end

-- An ETA of sec seconds in words: "?" when it is not known (no rate yet,
-- NaN, negative, infinite), else rounded to the second: "45s", "1m05s",
-- "2h03m", "3d04h", and ">999d" past 999 days. Every branch formats an
-- integer, whatever float it is given.
function M.eta_text(sec)
  if type(sec) ~= "number" or sec ~= sec or sec < 0 or sec == math.huge then return "?" end
  if sec >= 1000 * 86400 then return ">999d" end
  local n = math.floor(sec + 0.5) -- an integer: sec is below 2^53 here
  if n < 60 then return string.format("%ds", n) end
  if n < 3600 then return string.format("%dm%02ds", n // 60, n % 60) end
  if n < 86400 then return string.format("%dh%02dm", n // 3600, n % 3600 // 60) end
  return string.format("%dd%02dh", n // 86400, n % 86400 // 3600)
end

-- The progress line's text at time now (no carriage return, no erase):
-- p = {label, done, total (nil: not known), failed, started, stop}.
--   "purge: 35/70 (50%) 2.1/s ETA 17s, 3 failed"
--   "onboard: 12 done 3.0/s, 1 failed"        (an iterator without a total)
-- A total below done (an iterator that gave more than it said) shows as done.
function M.progress_line(p, now)
  local elapsed = math.max(now - p.started, 1e-6)
  local rate = p.done / elapsed
  local parts = { p.label and (p.label .. ":") or nil }
  if p.total then
    local total = math.max(p.total, p.done)
    local eta = total == p.done and 0 or rate > 0 and (total - p.done) / rate or nil
    parts[#parts + 1] = string.format("%d/%d (%d%%) %.1f/s ETA %s,", p.done, total,
      total > 0 and p.done * 100 // total or 100, rate, M.eta_text(eta))
  else
    parts[#parts + 1] = string.format("%d done %.1f/s,", p.done, rate)
  end
  parts[#parts + 1] = string.format("%d failed%s", p.failed, p.stop and " (stopping: finishing what is in flight)" or "")
  return table.concat(parts, " ")
end

-- Draw the progress line (at most every 0.1 s) over the last one; `final`
-- erases it, so that what the script prints next starts on a clean line.
local function draw_progress(s, final)
  if final then
    io.stderr:write("\r\027[K")
    io.stderr:flush()
    return
  end
  local now = http.now()
  if now - s.drawn < 0.1 then return end
  s.drawn = now
  local line = M.progress_line({ label = s.label, done = s.done, failed = s.failed, started = s.started,
    stop = s.stop, total = s.total ~= math.huge and s.total or nil }, now)
  io.stderr:write("\r", line, "\027[K")
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
  local known = { concurrency = "number", rate = "number", progress = "boolean", on_result = "function",
                  max_host_connections = "number", failed = "function", label = "string", total = "number",
                  drain = "number" }
  for k, v in pairs(opts) do
    if not known[k] then error("bad argument #3 to 'parallel' (unknown option '" .. tostring(k) .. "')", 3) end
    if type(v) ~= known[k] then error("bad argument #3 to 'parallel' (option '" .. k .. "' must be a " .. known[k] .. ")", 3) end
  end
  local conc = math.tointeger(opts.concurrency or 8)
  if not conc or conc < 1 then error("bad argument #3 to 'parallel' (concurrency must be a positive integer)", 3) end
  if opts.rate and not (opts.rate > 0 and opts.rate <= 1e6) then
    error("bad argument #3 to 'parallel' (rate must be a number of requests per second in (0, 1000000])", 3)
  end
  local mhc = opts.max_host_connections
  if mhc ~= nil and not (math.tointeger(mhc) and mhc >= 1 and mhc <= 65536) then
    error("bad argument #3 to 'parallel' (max_host_connections must be an integer in [1, 65536])", 3)
  end
  local label = opts.label
  if label ~= nil and (label == "" or #label > 40 or label:find("%c")) then
    error("bad argument #3 to 'parallel' (label must be 1 to 40 bytes without control characters)", 3)
  end
  local total = opts.total
  if total ~= nil and not (math.tointeger(total) and total >= 0) then
    error("bad argument #3 to 'parallel' (total must be a whole number of items, 0 or more)", 3)
  end
  if total ~= nil and type(items) == "table" and total ~= #items then
    error("bad argument #3 to 'parallel' (total is " .. total .. " but the list has " .. #items .. " items)", 3)
  end
  if opts.drain ~= nil and not (opts.drain >= 0 and opts.drain <= 86400) then
    error("bad argument #3 to 'parallel' (drain must be a number of seconds in [0, 86400])", 3)
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
  elseif r ~= nil and s.is_failed then -- a result that the script counts as a failure (a "failed" row)
    local fok, verdict = xpcall(s.is_failed, host.traceback, r)
    if not fok then
      if is_exit(verdict) then error(verdict, 0) end
      s.stop = true
      s.callback_error = s.callback_error or verdict
    elseif verdict then
      s.failed = s.failed + 1
    end
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
  elseif y == TRANSFER then
    s.waiting[v] = co
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

-- The line first_interrupt prints for n transfers in flight, the longest of
-- which may run `longest` more seconds, after signal signame ("" or
-- "SIGINT" for Ctrl-C) -> line, drain (seconds before abandoning, or nil).
-- opts.drain (the run's, or nil) replaces the default for every signal;
-- 0 abandons what is in flight at once (a run of reads only, watch.lua).
function M.stop_notice(n, longest, signame, opt_drain)
  local drain = opt_drain
  if drain == nil and (signame == "SIGTERM" or signame == "SIGHUP") then drain = M.DRAIN end
  if drain then longest = math.min(longest, drain) end
  local other = signame ~= "" and signame ~= "SIGINT"
  local named = other and (" (" .. signame .. ")") or ""
  if drain == 0 then
    return string.format("stopping%s: %d request%s in flight abandoned\n", named, n, n == 1 and "" or "s"), 0
  end
  return string.format("stopping%s: waiting for %d request%s in flight (up to %d s); %s again to quit now\n",
    named, n, n == 1 and "" or "s", math.ceil(longest), other and signame or "Ctrl-C"), drain
end

-- Whether e is the error a stop signal raises in a wait ("interrupted") or
-- through the hook ("interrupted!", after the position it fired at).
function M.is_interrupt(e)
  return type(e) == "string" and (e == "interrupted" or e == "interrupted!"
    or e:match("^[^\n]-:%d+: interrupted!$") ~= nil)
end

-- sched.unless_stopped(fn, ...) -> true, fn(...)'s results | false, signame
-- For a script's plain calls (outside parallel): fn runs unless a stop
-- signal came already (then false and its name, and nothing is sent); a
-- stop signal during fn abandons its request (a binding then fails with
-- "interrupted", or the hook raises), says so in one line on stderr, and
-- returns false and the name, so that the script accounts for what it did
-- not read instead of ending with a traceback. Any other error goes on up.
function M.unless_stopped(fn, ...)
  local sig, name = host.stop_signal()
  if sig ~= 0 then return false, name end
  local r = table.pack(pcall(fn, ...))
  if not r[1] and not M.is_interrupt(r[2]) then error(r[2], 0) end
  local after, signame = host.stop_signal()
  if r[1] and after == 0 then return table.unpack(r, 1, r.n) end
  io.stderr:write(string.format("stopping%s: the request in flight is abandoned\n",
    signame ~= "SIGINT" and (" (" .. signame .. ")") or ""))
  io.stderr:flush()
  return false, signame
end

local function first_interrupt(s)
  s.stop, s.interrupted = true, true
  local n, longest = 0, 0
  for t in pairs(s.waiting) do
    n = n + 1
    longest = math.max(longest, t:remaining())
  end
  local _, signame = host.stop_signal()
  local line, drain = M.stop_notice(n, longest, signame, s.drain)
  if drain then s.drain_until = http.now() + drain end
  io.stderr:write(s.progress and "\n" or "", line)
  io.stderr:flush()
  host.sigint_quits(true)
end

-- After SIGTERM or SIGHUP: what is still in flight past the drain time is
-- abandoned (its items count as not done). Closing a worker releases its
-- transfer (sched.request's <close>).
local function drain_over(s)
  for _, co in pairs(s.waiting) do
    local i = s.workers[co]
    s.workers[co] = nil
    coroutine.close(co)
    if i and i > 0 then s.live = s.live - 1
    elseif i == 0 then s.pulling, s.exhausted = false, true end
  end
  s.waiting = {}
end

-- How long the scheduler may poll at time now: until the earliest sleeper
-- wakes or the drain ends, 0 if ended transfers wait already, nil (until a
-- transfer ends) when nothing is timed.
function M.poll_timeout(s, now)
  if #s.ended > 0 then return 0 end
  local t
  for _, sl in ipairs(s.sleepers) do t = math.min(t or math.huge, sl[1]) end
  if s.drain_until then t = math.min(t or math.huge, s.drain_until) end
  return t and math.max(0, t - now)
end

-- Split the sleepers at time now: those due (all of them once stopping:
-- a backoff ends early) -> the coroutines to wake, in order.
function M.due(s, now)
  local keep, wake = {}, {}
  for _, sl in ipairs(s.sleepers) do
    if sl[1] <= now or s.stop then wake[#wake + 1] = sl[2] else keep[#keep + 1] = sl end
  end
  s.sleepers = keep
  return wake
end

-- Resume what ended or woke up after one http.poll.
local function step(s)
  local done, interrupted = http.poll(M.poll_timeout(s, http.now()))
  if (interrupted or s.interrupt_pending) and not s.interrupted then first_interrupt(s) end
  s.interrupt_pending = false
  if s.drain_until and http.now() >= s.drain_until then drain_over(s) end
  local ended = s.ended
  if #ended > 0 then
    s.ended = {}
    table.move(done, 1, #done, #ended + 1, ended)
    done = ended
  end
  for _, t in ipairs(done) do
    local co = s.waiting[t]
    s.waiting[t] = nil
    if co then resume(s, co) end
  end
  if #s.sleepers > 0 then
    for _, co in ipairs(M.due(s, http.now())) do resume(s, co) end
  end
end

-- Drop whatever is left (after cdnctl.exit or an internal error): cancel
-- the transfers, close the coroutines.
local function abandon(s)
  s.waiting = {}
  for co in pairs(s.workers) do coroutine.close(co) end -- each releases its transfer
  s.workers = {}
end

-- cdnctl.parallel(items, fn [, opts]) -> results, errors, summary
-- opts: concurrency (8), rate (requests/s), progress (bool), on_result(i, result, err),
-- max_host_connections (MAX_HOST_CONNECTIONS): connections to one host at
-- once, so that a very wide run cannot hold more than a service allows;
-- failed(result) -> boolean: which results count as failures too (progress
-- line, summary.failed); label: the phase the progress line names; total:
-- the number of items an iterator gives (for done/total, percent and ETA);
-- drain: seconds what is in flight gets after the first stop signal before
-- it is abandoned (default: Ctrl-C until it ends, SIGTERM/SIGHUP DRAIN).
M.MAX_HOST_CONNECTIONS = 256
function M.parallel(items, fn, opts)
  local conc
  opts, conc = check_parallel_args(items, fn, opts)
  -- items: a list, or a function returning the next item (nil at the end),
  -- so that a long input is never held in memory at once
  local iter = type(items) == "function" and items or nil
  local s = {
    items = items, fn = fn, on_result = opts.on_result, conc = conc,
    results = {}, errs = {}, tracebacks = {},
    workers = {}, live = 0, waiting = {}, sleepers = {}, ended = {},
    total = iter and (opts.total or math.huge) or #items, done = 0, failed = 0, stop = false, next = 1,
    is_failed = opts.failed, label = opts.label, drain = opts.drain,
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
    s.workers[s.feeder] = 0
  end

  current = s
  local armed = host.arm(false) -- Ctrl-C now means: finish what is in flight
  local quits = host.sigint_quits(false)
  local max_host = http.max_host_connections(math.tointeger(opts.max_host_connections or M.MAX_HOST_CONNECTIONS))
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
  http.max_host_connections(max_host)
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
