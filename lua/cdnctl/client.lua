-- cdnctl.client: turns the table of operations into bindings. One pipeline
-- serves every operation: check the arguments, find the key, build the URL
-- or the form body, send through the one C primitive, read the answer as
-- the table says, retry what is safe to retry, reconcile what is not.

local http = require "cdnctl.http"
local json = require "cdnctl.json"
local percent = require "cdnctl.percent"
local check = require "cdnctl.check"
local errors = require "cdnctl.errors"
local config = require "cdnctl.config"
local ops = require "cdnctl.ops"
local sched = require "cdnctl.sched"
local retry = require "cdnctl.retry"
local har = require "cdnctl.har"
local host = require "cdnctl.host"
local lock = require "cdnctl.lock"

local M = {}

-- A path template, read once per template text ("{sp}/add-domain/{domain}/{key}"):
-- {base = the leading "{name}"'s name, parts = literal strings and {name}
-- placeholders in order ({name*}: rest = true, cdnctl.ops)}. Read per call, it was a gsub with a closure; the
-- parts are what that gsub scanned, in the same order, so a URL built from
-- them is the same. Keyed by the text, not the operation, so that a
-- template is never read stale.
local TEMPLATES = {}
local function template(path)
  local t = TEMPLATES[path]
  if t then return t end
  t = { base = path:match("^{(%w+)}"), parts = {} }
  local at = 1
  while true do
    local first, last, name, star = path:find("{(%w+)(%*?)}", at)
    if not first then break end
    if first > at then t.parts[#t.parts + 1] = path:sub(at, first - 1) end
    t.parts[#t.parts + 1] = { name = name, rest = star == "*" or nil }
    at = last + 1
  end
  if at <= #path then t.parts[#t.parts + 1] = path:sub(at) end
  TEMPLATES[path] = t
  return t
end

-- Every function here that reads a setting takes the settings value
-- (cdnctl.settings) `s`: the retry policy (s.policy: attempts in all, first
-- try included, backoff with full jitter, Retry-After honoured up to
-- retry_after_cap seconds), where keys and URLs come from (cdnctl.config),
-- and the run's retry budgets, one per base URL (s.budgets: so that one
-- service's outage does not starve the other's retries).
local function budget_for(s, base)
  local b = s.budgets[base]
  if not b then b = retry.new_budget(s.policy); b.base = base; s.budgets[base] = b end
  return b
end
local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
local NOT_SENT_CURL = { [6] = true, [7] = true } -- could not resolve / connect: nothing reached the server
-- A certificate that fails verification fails the same way next time:
-- CURLE_SSL_CERTPROBLEM, PEER_FAILED_VERIFICATION, SSL_CACERT_BADFILE,
-- SSL_ISSUER_ERROR, SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS.
local NO_RETRY_CURL = { [58] = true, [60] = true, [77] = true, [83] = true, [90] = true, [91] = true }

local function debug_log(fmt, ...)
  if http.debug() then io.stderr:write("cdnctl: ", string.format(fmt, ...), "\n") end
end

local function raise_arg(op, n, msg)
  error(string.format("bad argument #%d to '%s' (%s)", n, op.full, msg), 4)
end

local function invalid(op, message, key)
  return nil, errors.new({ op = op.full, kind = "invalid", message = message }, key)
end

-- A binding's arguments by the table's list: positional values (a fields
-- table where the operation has one, optional ones skipped by nil or by
-- the options table), then the options table.
-- -> values (unchecked), opts (nil when none), the options' position | nil, position, message
-- (Every call of every binding runs this and check.args: numeric loops and
-- select, not ipairs and a table of the arguments, spare calls into C.)
local function split_args(op, ...)
  local n, args = select("#", ...), op.args
  local values, pos = {}, 1
  for i = 1, #args do
    local spec = args[i]
    local v = (select(pos, ...)) -- past the end: nil
    if spec.optional and (v == nil or type(v) == "table") then
      if v == nil then pos = pos + 1 end
    elseif spec.fields then
      if type(v) ~= "table" then return nil, pos, "table of " .. spec.name .. " expected, got " .. type(v) end
      values[spec.name] = v
      pos = pos + 1
    else
      if v == nil then return nil, pos, (spec.label or spec.name) .. " expected, got no value" end
      local tv = type(v)
      if tv ~= "string" and not (tv == "number" and (spec.check == "site_id")) then
        return nil, pos, (spec.label or spec.name) .. ": string expected, got " .. tv
      end
      values[spec.name] = v
      pos = pos + 1
    end
  end
  local opts = (select(pos, ...))
  if opts ~= nil and type(opts) ~= "table" then return nil, pos, "options table expected, got " .. type(opts) end
  if n > pos then return nil, pos + 1, "no value expected (too many arguments)" end
  return values, opts, pos
end

-- Split a binding's arguments into checked values and options (cdnctl.check:
-- check.option, check.args). Programming errors (types, unknown options)
-- raise; bad values return nil, message, opts.
local function parse_args(op, ...)
  local values, opts, pos = split_args(op, ...)
  if not values then raise_arg(op, opts, pos) end
  if opts == nil then
    opts = {}
  else
    for k, v in pairs(opts) do
      local problem = check.option(op, k, v)
      if problem then raise_arg(op, pos, problem) end
    end
  end
  local checked, err = check.args(op, values)
  return checked, err, opts
end

-- The form body, fields in a stable order (api_key first).
local function form_encode(pairs_list)
  local parts = {}
  for _, p in ipairs(pairs_list) do
    parts[#parts + 1] = percent.escape(p[1]) .. "=" .. percent.escape(tostring(p[2]))
  end
  return table.concat(parts, "&")
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- The URL of op's request: its path template filled (the base URL, the
-- checked values and the key percent-encoded; a {name*} value as it is,
-- through op.rest[name]), then its path options.
local function url_of(s, op, values, key, opts)
  local parts, url = template(op.path).parts, ""
  for i = 1, #parts do
    local part = parts[i]
    local name = part.name
    if not name then url = url .. part
    elseif ops.base_urls[name] then url = url .. config.url(s, name)
    elseif name == "key" then url = url .. (key and percent.escape(key) or "")
    elseif part.rest then url = url .. (op.rest and op.rest[name] or tostring)(values[name], opts)
    else url = url .. percent.escape(tostring(values[name])) end
  end
  if op.key_in == "path" and not key then url = url:gsub("/$", "") end -- add_domain without a key
  if op.path_options then
    for _, name in ipairs(sorted_keys(op.path_options)) do
      if opts[name] then url = url .. op.path_options[name] end -- read_domain {refresh = true}
    end
  end
  return url
end

-- The form body of a POST: the key (unless it travels in the path), then
-- the values in the order of op.args, a fields table's fields sorted.
local function form_body(op, values, key)
  local fields = {}
  if key and op.key_in ~= "path" then fields[#fields + 1] = { op.key_field or "api_key", key } end
  for _, spec in ipairs(op.args) do
    local v = values[spec.name]
    if spec.fields and v then
      for _, k in ipairs(sorted_keys(v)) do fields[#fields + 1] = { k, v[k] } end
    elseif v ~= nil then
      fields[#fields + 1] = { spec.name, v }
    end
  end
  return form_encode(fields)
end

-- The headers of a request: one table each for every request, which no one
-- changes (http.start, har and --dry-run read them).
local GET_HEADERS = { "Accept: application/json" }
local POST_HEADERS = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json" }

-- Build {method, url, body, headers, secret} for op with checked values.
-- (Made whole in one constructor: a table that grows field by field is
-- rehashed on the way.)
local function build_request(s, op, values, key, opts)
  local post = op.method == "POST"
  return {
    method = op.method, secret = key, url = url_of(s, op, values, key, opts),
    body = post and form_body(op, values, key) or nil,
    headers = post and POST_HEADERS or GET_HEADERS,
    timeout = opts.timeout or s.policy.timeout,
    -- never let libcurl resend on its own what must not run twice
    fresh_connect = (not op.idempotent) or op.reconcile ~= nil,
  }
end
M.build_request = build_request

-- What came back, in a few words, for messages about answers that are not
-- what the operation expects: "[]", "an empty body", "an HTML page (text/html,
-- HTTP 200) starting '<!DOCTYPE html>...'".
local function what_came_back(resp)
  local text = resp.body
  if text:find("^%s*$") then return "an empty body (HTTP " .. resp.status .. ")" end
  local ctype = resp.headers["content-type"] or "no content type"
  local first = text:sub(1, 48):gsub("[%c]", " ")
  if #text > 48 then first = first .. "..." end
  if #text <= 16 and not ctype:find("html", 1, true) then return first end
  local what = (ctype:find("html", 1, true) or text:find("^%s*<")) and "an HTML page" or "a body"
  return string.format("%s (%s, HTTP %d) starting '%s'", what, ctype, resp.status, first)
end

local as_list = ops.as_list

-- A hint for a transport failure against a host that is known to have moved.
local function transport_hint(url)
  local host = url:match("^%a+://([^/:]+)")
  return host and ops.TRANSPORT_HINTS[host:lower()]
end

-- An answer that is not a JSON object where one is expected.
local function not_object(op, values, resp, key)
  local what = what_came_back(resp)
  local hint = op.not_object
  if hint then
    local msg = hint.message:gsub("{(%w+)}", function(n) return tostring(values[n]) end)
    return errors.new({ op = op.full, kind = "api", http_status = resp.status, code = hint.code,
                        message = msg .. " (the service answered " .. what .. ", not a JSON object)" }, key)
  end
  return errors.new({ op = op.full, kind = "decode", http_status = resp.status,
                      message = "the service answered " .. what .. " where a JSON object was expected" }, key)
end

local function transport_error(op, req, terr, key)
  local kind = terr.code == "interrupted" and "interrupted" or "transport"
  local hint = kind == "transport" and transport_hint(req.url)
  local err = errors.new({ op = op.full, kind = kind, message = terr.message .. (hint and ("; " .. hint) or ""),
                           code = terr.code, curl_code = terr.curl_code, http_status = 0 }, key)
  local retryable = kind == "transport" and terr.code ~= "too_big" and not NO_RETRY_CURL[terr.curl_code]
  return nil, err, retryable, not NOT_SENT_CURL[terr.curl_code]
end

-- An operation that takes any 2xx answer (op.any_answer, cdnctl.ops): its
-- reading of the decoded object (nil when the answer is not a JSON object).
local function any_answer(op, values, opts, resp, body, key)
  local is_object = type(body) == "table" and resp.body:find("^%s*{") ~= nil
  local result, msg, code = op.any_answer(is_object and body or nil, values, opts or {})
  if result then return result end
  return nil, errors.new({ op = op.full, kind = "api", http_status = resp.status, message = msg, code = code,
                           body = body }, key), false
end

-- What came back, for cdnctl.meta of an any_answer result: the decoded
-- JSON, or the text when it is not JSON.
local function answer_kept(resp)
  local v = json.decode(resp.body)
  if v == nil then return resp.body end
  return v
end

-- Read one answer: result | nil, err, retryable, maybe_done (the answer
-- does not prove that the request did not take effect: anything but a 4xx,
-- a refusal in the service's words, or a connection never made). A plain function of the answer (resp:
-- status, headers, body) or the transport failure (terr), so that its
-- rules are tested as units (tests/lua/classify.lua).
local function classify(op, values, req, resp, terr, key, opts)
  if not resp then return transport_error(op, req, terr, key) end
  local body, derr = json.decode(resp.body)
  local status = resp.status
  if status < 200 or status >= 300 then
    local said = ops.http_error_message(body)
    local err = errors.new({ op = op.full, kind = "http", http_status = status,
                             message = "HTTP " .. status .. (said and ("; the answer says: " .. said) or ""),
                             retry_after = resp.headers["retry-after"] }, key)
    -- a 4xx (429 included) is the server refusing: not done; anything else may be
    return nil, err, RETRY_STATUS[status] or false, not (status >= 400 and status < 500)
  end
  if op.any_answer then return any_answer(op, values, opts, resp, body, key) end
  local is_object = type(body) == "table" and resp.body:find("^%s*{") ~= nil
  if not is_object and op.bare and op.bare(body) then body, is_object = op.bare(body), true end
  if not is_object then
    -- a 2xx that is not the JSON object expected proves nothing about the work: maybe done
    if body == nil and not resp.body:find("^%s*$") and not op.not_object then
      return nil, errors.new({ op = op.full, kind = "decode", http_status = status,
                               message = "the answer is not JSON (" .. tostring(derr):gsub(" at character %d+", "")
                                 .. "): " .. what_came_back(resp) }, key), false, true
    end
    return nil, not_object(op, values, resp, key), false, op.not_object == nil
  end
  if op.lists then
    for _, field in ipairs(op.lists) do body[field] = as_list(body[field]) end
  end
  local ok, msg, code = op.accept(body)
  if not ok then
    local low = msg:lower()
    for text, name in pairs(op.refusals or {}) do
      if low:find(text, 1, true) then code = name end
    end
    return nil, errors.new({ op = op.full, kind = "api", http_status = status, message = msg, code = code,
                             body = body }, key), false, false
  end
  if op.finish then op.finish(body) end
  return body
end
M.classify = classify

-- Forward declaration: checks and preparations (cdnctl.ops) call other operations.
local call

-- The key for op, checked, and where it came from (config.resolve):
-- key (or nil where none travels), nil, from | nil, err
local function find_key(s, op, opts)
  if op.key_in == "none" or (opts.key == false and op.key_optional) then return nil end
  local key, from, why, src = config.key(s, op.service, opts.key)
  if why then return nil, errors.new({ op = op.full, kind = "invalid", message = why }) end
  if key == nil and op.key_in ~= "form_optional" then
    return nil, errors.new({ op = op.full, kind = "invalid",
      message = "no " .. ops.services[op.service].label .. " API key: " .. (src.missing or ("set "
        .. ops.services[op.service].key_env .. ", pass opts.key, or select a profile")) })
  end
  -- check.key is a function of the key alone (its argname shows only in a
  -- refusal), so a key it passed once passes again: the source's memo
  -- (src.key_passed, in s.resolved) spares the check on later calls.
  if key ~= nil and src.key_passed ~= key then
    local ok, kerr = check.key(key, "key (from " .. tostring(from) .. ")")
    if not ok then return nil, select(2, invalid(op, kerr)) end
    src.key_passed = key
  end
  return key, nil, from
end

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

-- What an operation's check sees now: "made", result | "not_made" | "unknown", why.
local function look_now(run)
  return run.op.reconcile(ctx_of(run), run.values, run.before)
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
  local outcome, v = look_now(run)
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
  outcome, v = look_now(run)
  if outcome ~= "not_made" then return outcome, v end
  return "unknown", calm and string.format("not seen after waiting %.3g s%s", wait, cut)
    or "not seen, and a stop signal ended the wait before it could settle"
end

-- The failure of a call whose outcome is unknown (err: what happened; why:
-- the check's words, an error or {message, appeared}): it names what may
-- be left and how to see it (op.unchecked), every time.
local function unknown_outcome(run, err, why)
  local op = run.op
  local hint = (op.unchecked or "it may have taken effect"):gsub("{([%w_]+)}", function(n) return tostring(run.values[n]) end)
  local reason = why
  if type(why) == "table" then
    reason = why.kind == "interrupted" and "not checked: a second signal came"
      or why.op and ("checking failed: " .. tostring(why.message)) or tostring(why.message)
  end
  local interrupted = err.kind == "interrupted"
  return errors.new({ op = op.full, kind = "unknown", code = "unknown_outcome", http_status = err.http_status,
    attempts = err.attempts, interrupted = interrupted or nil, appeared = type(why) == "table" and why.appeared or nil,
    message = (interrupted and "interrupted" or err.message) .. "; the outcome is unknown (" .. reason .. "): " .. hint },
    run.key)
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
  local result, err, retryable, maybe_done = classify(run.op, run.values, req, resp, transport_err, run.key, run.opts)
  if result and run.op.any_answer then run.answer, run.http_status = answer_kept(resp), resp.status end
  return result, err, retryable, maybe_done
end

-- The attempts of one call, with one exit per outcome: answered; made
-- (found by the check); unknown; refused (the operation reads the
-- refusal); not made (a failure that proves it, or the check saw nothing
-- and nothing more is sent); the deadline passed before an attempt.
-- -> result | nil, err
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
    if op.reconcile and maybe_done then
      local outcome, v = look(run, err, delay ~= nil)
      if outcome == "made" then
        debug_log("%s: %s; checked: it took effect", op.full, err.message)
        s.meta[v] = meta_of(run, attempt, true, err.kind == "interrupted" or nil)
        return v
      end
      if outcome == "unknown" then return nil, unknown_outcome(run, err, v) end
      after_lost = true
    end
    local refusal = err.code and op.on_refusal and op.on_refusal[err.code]
    if refusal then
      local found, ferr = refusal(ctx_of(run), run.values, err, after_lost)
      if found then s.meta[found] = meta_of(run, attempt, true) end
      return found, ferr
    end
    if not delay then return nil, err end
    debug_log("%s: attempt %d of %d failed (%s); retrying in %.2f s", op.full, attempt, attempts, err.message, delay)
    if not pause(delay) then err.message = err.message .. "; not retried: stopping (Ctrl-C)"; return nil, err end
  end
  return nil, errors.new({ op = op.full, kind = "transport", code = "deadline", http_status = 0,
                           message = string.format("the deadline of %g s passed", run.opts.deadline) }, run.key)
end

-- The failure of a create or remove whose read before failed: it is not
-- sent, and says why (the read's own failure, or interrupted before it);
-- err.not_sent is true when the read failed.
local function not_sent(op, rerr)
  if rerr.op == op.full then return rerr end -- the read answered already: a duplicate, not_found
  if rerr.kind == "api" then rerr.op = op.full; return rerr end -- the key is refused for the call as for its read
  if rerr.kind == "interrupted" then
    rerr.op, rerr.message = op.full, "interrupted before anything was sent"
    return rerr
  end
  return errors.new({ op = op.full, kind = rerr.kind, code = rerr.code, http_status = rerr.http_status, not_sent = true,
    message = "not sent: " .. rerr.op .. ", the read that tells afterwards whether it took effect, failed ("
      .. tostring(rerr.message) .. ")" })
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
  if not before then return nil, not_sent(op, rerr) end
  run.before = before
  return attempts_of(run)
end

-- One operation, with retries. values are checked; opts validated.
local call_keyed
function call(s, op, values, opts)
  local key, kerr, from = find_key(s, op, opts)
  if kerr then return nil, kerr end
  return with_key_source(key, from, call_keyed(s, op, values, opts, key))
end

function call_keyed(s, op, values, opts, key)
  if op.prepare then
    local ctx = context(s, op, key, opts, opts.deadline and (http.now() + opts.deadline))
    local ok, err = op.prepare(ctx, values, opts)
    if not ok then return nil, err end
  end
  local req = build_request(s, op, values, key, opts)
  local base = config.url(s, template(op.path).base)
  local tok, terr = config.transport_ok_on(s, base, req.url)
  if not tok and key then return invalid(op, terr, key) end
  local run = { s = s, op = op, values = values, key = key, opts = opts, req = req, started = http.now(),
                deadline = opts.deadline and (http.now() + opts.deadline), budget = budget_for(s, base) }
  if not op.reconcile then return attempts_of(run) end
  return uninterrupted(checked_call, run)
end
M.call = call

-- Both hosts (apex and www) for the purges.
-- opts.both: the apex and www, separately. -> {[host] = result} | nil, err
-- where err is the first host's error, with err.results the hosts that
-- succeeded and err.failed {[host] = message} (no cycle: safe to encode).
local function call_both(s, op, values, opts)
  local hosts = check.hosts(values.domain)
  local out, failed, words, first_err = {}, {}, {}, nil
  for _, h in ipairs(hosts) do
    local r, err = call(s, op, { domain = h }, opts)
    if r then out[h] = r
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
    local values, err, opts = parse_args(op, ...)
    if not values then return invalid(op, err) end
    if op.both_hosts and opts.both then
      local o = {}
      for k, v in pairs(opts) do if k ~= "both" then o[k] = v end end
      return call_both(s, op, values, o)
    end
    config.note_secrets(values) -- sub-keys given and answered are masked from now on (cdnctl.config)
    return config.note_secrets(call(s, op, values, opts))
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
