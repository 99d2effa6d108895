-- cdnctl.client: turns the table of operations into bindings. One pipeline
-- serves every operation: the request (cdnctl.request: arguments, key, URL
-- and body, decided once), sent through the one primitive (sched.request),
-- the answer read as the table says, a retry of what is safe to retry, and
-- a check of what is not. It makes the reads a request depends on and runs
-- an operation's own checks (cdnctl.ops) at their moments.

local http = require "cdnctl.http"
local answer = require "cdnctl.answer"
local check = require "cdnctl.check"
local errors = require "cdnctl.errors"
local config = require "cdnctl.config"
local request = require "cdnctl.request"
local ops = require "cdnctl.ops"
local sched = require "cdnctl.sched"
local retry = require "cdnctl.retry"
local har = require "cdnctl.har"
local host = require "cdnctl.host"
local lock = require "cdnctl.lock"

local M = {}

-- The run's retry budget for a base URL (s.budgets: one per base URL, so
-- that one service's outage does not starve the other's retries).
local function budget_for(s, base)
  local b = s.budgets[base]
  if not b then b = retry.new_budget(s.policy); b.base = base; s.budgets[base] = b end
  return b
end

local function debug_log(fmt, ...)
  if http.debug() then io.stderr:write("cdnctl: ", string.format(fmt, ...), "\n") end
end

-- Forward declaration: checks and preparations (cdnctl.ops) call other operations.
local call

-- A failure that involves the key names it, masked, and its source
-- (errors.name_key). Returns its arguments.
local function with_key_source(key, from, r, err, ...)
  if r == nil and key then errors.name_key(err, key, from) end
  return r, err, ...
end

-- The context through which an operation's snapshot, reconcile, prepare
-- and on_refusal (cdnctl.ops) read other operations for one call: the same
-- key, the per-attempt timeout and what is left of the deadline (deadline_at,
-- a time of http.now(), or nil).
local function context(s, op, key, opts, deadline_at)
  local ctx = {}
  function ctx.call(name, values)
    return call(s, ops.by_name[name], values or {}, { key = key, timeout = opts.timeout,
      deadline = deadline_at and math.max(0.001, deadline_at - http.now()) or nil })
  end
  function ctx.fail(message, code)
    return errors.new({ op = op.full, kind = "api", message = message, code = code }, key)
  end
  function ctx.log(fmt, ...) debug_log("%s: " .. fmt, op.full, ...) end
  return ctx
end

-- The context of a run, made when a check first needs it (most calls never do).
local function ctx_of(run)
  run.ctx = run.ctx or context(run.s, run.op, run.key, run.opts, run.deadline)
  return run.ctx
end

-- The metadata of a result (cdnctl.meta): reconciled when a check found it.
local function meta_of(run, attempt, reconciled, interrupted)
  return { op = run.op.full, attempts = attempt, retries = attempt - 1, reconciled = reconciled, interrupted = interrupted,
           time = http.now() - run.started, answer = run.answer, http_status = run.http_status }
end

-- One request. A signal while a plain script waits makes sched.request raise
-- "interrupted" (inside cdnctl.parallel the scheduler decides): here it is
-- an "interrupted" failure like any other, which a create can check. (Where
-- Ctrl-C raises in Lua code, its hook still raises "interrupted!" next.)
local function send(req)
  local ok, resp, terr = pcall(sched.request, req)
  if ok then return resp, terr end
  if type(resp) == "string" and resp:find("interrupted$") then
    return nil, { code = "interrupted", message = "interrupted" }
  end
  error(resp, 0)
end

-- fn(...) on the main thread with a signal not raising "interrupted!" inside
-- Lua code (host.arm): the request in flight still ends, and fn sees it.
local function uninterrupted(fn, ...)
  local _, main = coroutine.running()
  if not main then return fn(...) end
  local armed = host.arm(false)
  local r = table.pack(pcall(fn, ...))
  host.arm(armed)
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end
M.uninterrupted = uninterrupted

-- sched.sleep(seconds) -> true | false when a stop signal ended it (outside
-- parallel the wait raises "interrupted"; inside, it ends early).
local function pause(seconds)
  local ok, e = pcall(sched.sleep, seconds)
  if not ok and not (type(e) == "string" and e:find("interrupted$")) then error(e, 0) end
  return ok and not sched.stopping()
end

-- After an answer that does not prove the work not done (err), did this
-- call do it? -> "made", result | "not_made" | "unknown", why. The check's
-- "not seen" proves nothing while the request may still be in the server's
-- hands: after a signal only "made" counts; an operation with a guard (a
-- refusal a resend meets when the first try did the work) may send again
-- when it will (resend); any other looks again after the settle time
-- (opts.settle; a stop signal ends the wait), and what it still cannot see
-- is unknown. The wait counts against the deadline and ends early enough
-- to leave the second look twice the time the first one took.
local function look(run, err, resend)
  local t0 = http.now()
  local outcome, v = run.op.reconcile(ctx_of(run), run.values, run.before)
  if outcome ~= "not_made" then return outcome, v end
  if err.kind == "interrupted" then return "unknown", "not seen yet" end
  if resend and run.op.guard then return "not_made" end
  local wait, cut = run.opts.settle or run.s.policy.settle, ""
  local room = run.deadline and run.deadline - http.now() - 2 * (http.now() - t0)
  if room and room < wait then
    wait, cut = room, string.format(", all the deadline of %g s allows", run.opts.deadline)
  end
  if wait <= 0 then return "unknown", "not seen, and the deadline leaves no time to wait and look again" end
  debug_log("%s: not seen yet; looking again in %.3g s", run.op.full, wait)
  local calm = pause(wait)
  outcome, v = run.op.reconcile(ctx_of(run), run.values, run.before)
  if outcome ~= "not_made" then return outcome, v end
  return "unknown", calm and string.format("not seen after waiting %.3g s%s", wait, cut)
    or "not seen, and a stop signal ended the wait before it could settle"
end

-- The wait before the next attempt, or nil when there is to be none (the
-- reason is added to err's message): no attempt left, stopping,
-- Retry-After past its cap, a deadline that would pass, an empty retry budget.
local function next_wait(run, attempt, attempts, err)
  local p = run.s.policy
  if attempt >= attempts then return nil end
  if sched.stopping() then err.message = err.message .. "; not retried: stopping (Ctrl-C)"; return nil end
  local delay, why = retry.delay(p, attempt, err.retry_after, os.time(), math.random)
  if not delay then err.message = err.message .. "; " .. why; return nil end
  if run.deadline and http.now() + delay >= run.deadline then
    err.message = string.format("%s; the deadline of %g s would pass before another attempt", err.message, run.opts.deadline)
    return nil
  end
  if not retry.take(run.budget, p, err.code == "timeout") then
    err.message = err.message .. "; not retried: the retry budget for " .. run.budget.base
      .. " is spent (the service has been failing; cdnctl.retry{budget = ...})"
    return nil
  end
  return delay
end

-- One attempt: sent (within the deadline), recorded, read.
-- -> result | nil, err, retryable, maybe_done | nil, nil (the deadline passed first)
local function attempt_once(run)
  local req, s = run.req, run.s
  if run.deadline then
    local left = run.deadline - http.now()
    if left <= 0 then return nil, nil end
    req.timeout = math.max(0.001, math.min(run.opts.timeout or s.policy.timeout, left))
  end
  local resp, transport_err = send(req)
  if s.har then har.record(s.har, req, resp, transport_err) end -- (no recorder: har.record does nothing)
  local result, err, retryable, maybe_done = answer.classify(run.op, run.values, req, resp, transport_err, run.key, run.opts)
  if result and run.op.any_answer then run.answer, run.http_status = answer.kept(resp), resp.status end
  return result, err, retryable, maybe_done
end

-- The attempts of one call, with one exit per outcome: answered; made
-- (the check found this call's work); unknown (the check cannot tell);
-- refused (the operation reads the refusal); failed (a failure that proves
-- nothing was made, or the check saw nothing, and no attempt follows); the
-- deadline passed before an attempt. -> result | nil, err
local function attempts_of(run)
  local op, s = run.op, run.s
  local attempts = run.opts.attempts or s.policy.attempts
  local after_lost = false
  for attempt = 1, attempts do
    local result, err, retryable, maybe_done = attempt_once(run)
    if result then
      if attempt == 1 then retry.refund(run.budget, s.policy) end
      s.meta[result] = meta_of(run, attempt)
      return result
    end
    if not err then break end
    err.attempts = attempt
    local delay = retryable and next_wait(run, attempt, attempts, err)
    local outcome, v = "not_made", nil
    if op.reconcile and maybe_done then
      outcome, v = look(run, err, delay ~= nil)
      after_lost = true
    end
    if outcome == "made" then
      debug_log("%s: %s; checked: it took effect", op.full, err.message)
      s.meta[v] = meta_of(run, attempt, true, err.kind == "interrupted" or nil)
      return v
    end
    if outcome == "unknown" then return nil, answer.unknown_outcome(run.op, run.values, run.key, err, v) end
    local refusal = err.code and op.on_refusal and op.on_refusal[err.code]
    if refusal then
      local found, ferr = refusal(ctx_of(run), run.values, err, after_lost)
      if found then s.meta[found] = meta_of(run, attempt, true) end
      return found, ferr
    end
    if delay then
      debug_log("%s: attempt %d of %d failed (%s); retrying in %.2f s", op.full, attempt, attempts, err.message, delay)
      if not pause(delay) then err.message, delay = err.message .. "; not retried: stopping (Ctrl-C)", nil end
    end
    if not delay then return nil, err end
  end
  return nil, errors.new({ op = op.full, kind = "transport", code = "deadline", http_status = 0,
                           message = string.format("the deadline of %g s passed", run.opts.deadline) }, run.key)
end

-- A create or remove: its turn (op.serial), the read before (op.snapshot),
-- then the attempts. The turn is given on however the call ends.
local function checked_call(run)
  local op = run.op
  local turn
  if op.serial then
    local why, kind
    turn, why, kind = lock.acquire(run.s.locks, op.serial(run.values, run.key), run.deadline)
    if not turn then
      return nil, errors.new({ op = op.full, kind = kind == "deadline" and "transport" or kind,
        code = kind == "deadline" and "deadline" or nil, http_status = 0, message = "not sent: " .. why }, run.key)
    end
  end
  local _ <close> = turn
  local before, rerr = op.snapshot(ctx_of(run), run.values)
  if not before then return nil, answer.not_sent(op, rerr) end
  run.before = before
  return attempts_of(run)
end

-- A call of the request r (cdnctl.request): the values completed first
-- when the operation says so (op.prepare, whose read this call makes),
-- then the attempts; a create or remove with a check runs whole, the
-- first stop signal not raising inside it (uninterrupted).
local function call_made(r)
  local s, op, opts = r.s, r.op, r.opts
  local deadline = opts.deadline and (http.now() + opts.deadline)
  if op.prepare then
    local ok, err = op.prepare(context(s, op, r.key, opts, deadline), r.values, opts)
    if not ok then return nil, err end
    request.build(r)
  end
  local run = { s = s, op = op, values = r.values, key = r.key, opts = opts, req = r.req, started = http.now(),
                deadline = deadline, budget = budget_for(s, r.base) }
  if not op.reconcile then return attempts_of(run) end
  return uninterrupted(checked_call, run)
end

-- One operation, with retries: the request of checked values, then its
-- call; a failure that involves the key names it and its source.
function call(s, op, values, opts)
  local r, err = request.make(s, op, values, opts)
  if not r then return nil, err end
  return with_key_source(r.key, r.key_source, call_made(r))
end
M.call = call

-- Both hosts (apex and www) for the purges.
-- opts.both: the apex and www, separately. -> {[host] = result} | nil, err
-- where err is the first host's error, with err.results the hosts that
-- succeeded and err.failed {[host] = message} (no cycle: safe to encode).
local function call_both(r)
  local op, hosts = r.op, {}
  local out, failed, words, first_err = {}, {}, {}, nil
  for i, one in ipairs(r.split) do
    local h = one.values.domain
    hosts[i] = h
    local res, err = with_key_source(one.key, one.key_source, call_made(one))
    if res then out[h] = res
    else
      failed[h] = tostring(err)
      first_err = first_err or err
      first_err.host = first_err.host or h
      -- each host's own words; its API code only where it differs from the
      -- first failure's, which the line's suffix names once
      words[h] = tostring(err.message) .. ((err.code ~= first_err.code and math.type(err.code) == "integer")
        and (" (API code " .. err.code .. ")") or "")
    end
  end
  if first_err then
    first_err.results, first_err.failed = out, failed
    -- one line naming every host: "www.x.com: Domain not found; x.com purged"
    local parts = {}
    for _, h in ipairs(hosts) do
      if failed[h] then parts[#parts + 1] = h .. ": " .. words[h] end
    end
    for _, h in ipairs(hosts) do
      if not failed[h] then parts[#parts + 1] = h .. " " .. (op.done_word or "done") end
    end
    first_err.message = table.concat(parts, "; ")
    return nil, first_err
  end
  return out
end

-- The Lua function for one operation, with the settings value s.
function M.bind(s, op)
  return function(...)
    local values, opts = request.checked(op, ...)
    if not values then return nil, opts end
    config.note_secrets(values) -- sub-keys given and answered are masked from now on (cdnctl.config)
    local r, err = request.make(s, op, values, opts)
    if not r then return nil, err end
    if r.split then return call_both(r) end
    return config.note_secrets(with_key_source(r.key, r.key_source, call_made(r)))
  end
end

-- shortpixel and easyio modules, built from the table, bound to the
-- settings value s.
function M.modules(s)
  local mods = { shortpixel = {}, easyio = {} }
  for _, op in ipairs(ops.list) do
    mods[op.service][op.name] = M.bind(s, op)
  end
  mods.shortpixel.STATUS = ops.STATUS
  mods.shortpixel.hosts = function(domain)
    local h, err = check.hosts(domain)
    if not h then error("bad argument #1 to 'shortpixel.hosts' (" .. err .. ")", 2) end
    return h
  end
  return mods
end

return M
