-- cdnctl.client: turns the table of operations into bindings. One pipeline
-- serves every operation: check the arguments, find the key, build the URL
-- or the form body, send through the one C primitive, read the answer as
-- the table says, retry what is safe to retry, reconcile what is not.

local http = require "cdnctl.http"
local json = require "cdnctl.json"
local codec = require "cdnctl.codec"
local check = require "cdnctl.check"
local errors = require "cdnctl.errors"
local config = require "cdnctl.config"
local ops = require "cdnctl.ops"
local sched = require "cdnctl.sched"

local M = {}

-- Retry policy: attempts in all (first try included), backoff with full
-- jitter: a random delay in [0, min(cap, base * 2^(n-1))] before retry n;
-- a Retry-After header is honoured up to retry_after_cap seconds.
M.policy = { attempts = 3, base = 0.5, cap = 20, retry_after_cap = 60, timeout = 60 }
local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
local NOT_SENT_CURL = { [6] = true, [7] = true } -- could not resolve / connect: nothing reached the server
-- A certificate that fails verification fails the same way next time:
-- CURLE_SSL_CERTPROBLEM, PEER_FAILED_VERIFICATION, SSL_CACERT_BADFILE,
-- SSL_ISSUER_ERROR, SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS.
local NO_RETRY_CURL = { [58] = true, [60] = true, [77] = true, [83] = true, [90] = true, [91] = true }

-- Metadata of results (attempts, retries, time), kept beside them.
M.meta = setmetatable({}, { __mode = "k" })

local function debug_log(fmt, ...)
  if http.debug() then io.stderr:write("cdnctl: ", string.format(fmt, ...), "\n") end
end
M.debug_log = debug_log

local function raise_arg(op, n, msg)
  error(string.format("bad argument #%d to '%s' (%s)", n, op.full, msg), 4)
end

local function invalid(op, message, key)
  return nil, errors.new({ op = op.full, kind = "invalid", message = message }, key)
end

-- Validate a fields table (config of update_site_config, fields of change_key).
local function check_fields(op, spec, t)
  local out = {}
  for name, v in pairs(t) do
    local kind = type(name) == "string" and spec.fields[name]
    if not kind then
      local known = {}
      for k in pairs(spec.fields) do known[#known + 1] = k end
      table.sort(known)
      return nil, string.format("%s: unknown field '%s' (the API has %s)", spec.name, tostring(name), table.concat(known, ", "))
    end
    local val, err = check[kind](v, spec.name .. "." .. name)
    if val == nil then return nil, err end
    out[name] = val
  end
  return out
end

-- Split a binding's arguments into checked values and options.
-- Programming errors (types, unknown options) raise; bad values return nil, message.
local function parse_args(op, ...)
  local argv, n = { ... }, select("#", ...)
  local values, pos = {}, 1
  for _, spec in ipairs(op.args) do
    local v = argv[pos]
    if spec.optional and (v == nil or type(v) == "table") then
      if v == nil then pos = pos + 1 end
    elseif spec.fields then
      if type(v) ~= "table" then raise_arg(op, pos, "table of " .. spec.name .. " expected, got " .. type(v)) end
      values[spec.name] = v
      pos = pos + 1
    else
      if v == nil then raise_arg(op, pos, (spec.label or spec.name) .. " expected, got no value") end
      local tv = type(v)
      if tv ~= "string" and not (tv == "number" and (spec.check == "site_id")) then
        raise_arg(op, pos, (spec.label or spec.name) .. ": string expected, got " .. tv)
      end
      values[spec.name] = v
      pos = pos + 1
    end
  end
  local opts = argv[pos]
  if opts ~= nil and type(opts) ~= "table" then raise_arg(op, pos, "options table expected, got " .. type(opts)) end
  if n > pos then raise_arg(op, pos + 1, "no value expected (too many arguments)") end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = ops.common_options[k] or (op.options and op.options[k])
    if not want then raise_arg(op, pos, "unknown option '" .. tostring(k) .. "'") end
    if k == "key" then
      if not (type(v) == "string" or (v == false and op.key_optional)) then
        raise_arg(op, pos, "option 'key' must be a string" .. (op.key_optional and " or false" or ""))
      end
    elseif want == "boolean" and type(v) ~= "boolean" then raise_arg(op, pos, "option '" .. k .. "' must be a boolean")
    elseif k == "timeout" and (type(v) ~= "number" or not (v >= 0.001 and v <= 86400)) then
      raise_arg(op, pos, "option 'timeout' must be a number of seconds in [0.001, 86400]")
    elseif want == "number" and (type(v) ~= "number" or v <= 0) then raise_arg(op, pos, "option '" .. k .. "' must be a positive number")
    elseif want == "integer" and (math.type(v) ~= "integer" or v < 1) then raise_arg(op, pos, "option '" .. k .. "' must be a positive integer")
    end
  end
  -- values: check each
  local checked = {}
  for _, spec in ipairs(op.args) do
    local v = values[spec.name]
    if v ~= nil then
      local val, err
      if spec.fields then val, err = check_fields(op, spec, v)
      else val, err = check[spec.check](v, spec.label or spec.name) end
      if val == nil then return nil, err, opts end
      checked[spec.name] = val
    end
  end
  return checked, nil, opts
end

-- The form body, fields in a stable order (api_key first).
local function form_encode(pairs_list)
  local parts = {}
  for _, p in ipairs(pairs_list) do
    parts[#parts + 1] = codec.escape(p[1]) .. "=" .. codec.escape(tostring(p[2]))
  end
  return table.concat(parts, "&")
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- Build {method, url, body, headers, secret} for op with checked values.
local function build_request(op, values, key, opts)
  local req = {
    method = op.method, secret = key,
    timeout = opts.timeout or M.policy.timeout,
    -- never let libcurl resend on its own what must not run twice
    fresh_connect = (not op.idempotent) or op.reconcile ~= nil,
  }
  local url = op.path:gsub("{(%w+)}", function(name)
    if name == "sp" or name == "api" or name == "ez" then return config.url(name) end
    if name == "key" then return key and codec.escape(key) or "" end
    return codec.escape(tostring(values[name]))
  end)
  if op.key == "path" and not key then url = url:gsub("/$", "") end -- add_domain without a key
  req.url = url
  if op.method == "POST" then
    local fields = {}
    if key then fields[#fields + 1] = { "api_key", key } end
    for _, spec in ipairs(op.args) do
      local v = values[spec.name]
      if spec.fields and v then
        for _, k in ipairs(sorted_keys(v)) do fields[#fields + 1] = { k, v[k] } end
      elseif v ~= nil then
        fields[#fields + 1] = { spec.name, v }
      end
    end
    req.body = form_encode(fields)
    req.headers = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json" }
  else
    req.headers = { "Accept: application/json" }
  end
  return req
end
M.build_request = build_request

-- Read one answer: result | nil, err, retryable, ambiguous
local function classify(op, resp, terr, key)
  if not resp then
    local kind = terr.code == "interrupted" and "interrupted" or "transport"
    local err = errors.new({ op = op.full, kind = kind, message = terr.message, code = terr.code,
                             curl_code = terr.curl_code, http_status = 0 }, key)
    local retryable = kind == "transport" and terr.code ~= "too_big" and not NO_RETRY_CURL[terr.curl_code]
    return nil, err, retryable, not NOT_SENT_CURL[terr.curl_code]
  end
  local body, derr = json.decode(resp.body)
  local status = resp.status
  if status < 200 or status >= 300 then
    local msg
    if type(body) == "table" then msg = body.error or body.Message or body.message end
    if type(msg) ~= "string" then msg = "HTTP " .. status end
    local err = errors.new({ op = op.full, kind = "http", http_status = status, message = msg,
                             retry_after = resp.headers["retry-after"] }, key)
    return nil, err, RETRY_STATUS[status] or false, status ~= 429 and status ~= 503
  end
  if body == nil then
    return nil, errors.new({ op = op.full, kind = "decode", http_status = status,
                             message = "the answer is not JSON: " .. tostring(derr) }, key), false
  end
  if type(body) == "number" and op.status_name then body = { Status = body } end
  local ok, msg, code = op.accept(body)
  if not ok then
    return nil, errors.new({ op = op.full, kind = "api", http_status = status, message = msg, code = code,
                             body = type(body) == "table" and body or nil }, key), false
  end
  if op.status_name and type(body) == "table" then body.status_name = ops.STATUS[tonumber(body.Status)] end
  return body
end

local function backoff(attempt, err)
  local p = M.policy
  local delay = math.random() * math.min(p.cap, p.base * 2 ^ (attempt - 1))
  local ra = err.retry_after and tonumber(err.retry_after)
  if ra and ra >= 0 then delay = math.min(ra, p.retry_after_cap) end
  return delay
end

-- Forward declaration: reconciliation calls other operations.
local call

-- After an answer that may have been lost, find out whether a
-- non-idempotent call took effect. Returns result | nil (did not) | false, err (cannot tell).
local reconcilers = {}

function reconcilers.site(op, values, key, opts)
  local r, err = call(ops.by_name["easyio.show_sites"], { site_url = values.site_url }, { key = key, timeout = opts.timeout })
  if not r then return false, err end
  for _, s in ipairs(type(r.sites) == "table" and r.sites or {}) do
    if s.site_url == values.site_url then
      return { id = math.tointeger(tonumber(s.site_id)) or s.site_id, site_url = s.site_url, alias = s.alias,
               dev = (tostring(s.live) == "0") and 1 or 0, status = "success", reconciled = true }
    end
  end
  return nil
end

function reconcilers.site_gone(op, values, key, opts)
  local r, err = call(ops.by_name["easyio.show_sites"], {}, { key = key, timeout = opts.timeout })
  if not r then return false, err end
  for _, s in ipairs(type(r.sites) == "table" and r.sites or {}) do
    if tostring(s.site_id) == tostring(values.site_id) then return nil end
  end
  return { success = true, reconciled = true }
end

local function key_set(r)
  local set = {}
  for _, k in ipairs(type(r.keys) == "table" and r.keys or {}) do set[k] = true end
  return set
end

function reconcilers.key(op, values, key, opts, before)
  if not before then return false, nil end
  local r, err = call(ops.by_name["easyio.show_keys"], {}, { key = key, timeout = opts.timeout })
  if not r then return false, err end
  for k in pairs(key_set(r)) do
    if not before[k] then return { success = 1, sub_key = k, reconciled = true } end
  end
  return nil
end

function reconcilers.key_gone(op, values, key, opts)
  local r, err = call(ops.by_name["easyio.show_keys"], {}, { key = key, timeout = opts.timeout })
  if not r then return false, err end
  if key_set(r)[values.sub_key] then return nil end
  return { success = 1, sub_key = values.sub_key, reconciled = true }
end

-- change_key: the API blanks omitted fields, so send the current ones too.
local function fill_key_fields(op, values, key, opts)
  local r, err = call(ops.by_name["easyio.show_keys"], {}, { key = key, timeout = opts.timeout })
  if not r then return nil, err end
  local sub = values.sub_key
  if not key_set(r)[sub] then
    return nil, errors.new({ op = op.full, kind = "api", message = "sub-key not found on this account (show_keys)" }, key)
  end
  local cur = {
    label = type(r.labels) == "table" and r.labels[sub] or nil,
    allowed = type(r.limits) == "table" and r.limits[sub] or nil,
    site_limit = type(r.site_limit) == "table" and r.site_limit[sub] or nil,
  }
  local merged = {}
  for k, v in pairs(cur) do
    if v ~= nil and v ~= json.null then merged[k] = (k == "label") and tostring(v) or (check.count(v, k) or 0) end
  end
  for k, v in pairs(values.fields or {}) do merged[k] = v end
  values.fields = merged
  return true
end

-- One operation, with retries. values are checked; opts validated.
function call(op, values, opts)
  local key, from
  if op.key ~= "none" then
    if opts.key == false and op.key_optional then
      key = nil
    else
      local why
      key, from, why = config.key(op.service, opts.key)
      if why then return nil, errors.new({ op = op.full, kind = "invalid", message = why }) end
      if key == nil and op.key ~= "form_optional" then
        return nil, errors.new({ op = op.full, kind = "invalid",
          message = "no " .. (op.service == "shortpixel" and "ShortPixel" or "Easy IO") .. " API key: set "
            .. config.KEY_ENV[op.service] .. ", pass opts.key, or select a profile" })
      end
      if key ~= nil then
        local ok, kerr = check.key(key, "key (from " .. tostring(from) .. ")")
        if not ok then return invalid(op, kerr) end
      end
    end
  end
  if op.keep_omitted and not opts.replace then
    local ok, err = fill_key_fields(op, values, key, opts)
    if not ok then return nil, err end
  end
  local req = build_request(op, values, key, opts)
  local tok, terr = config.transport_ok(req.url)
  if not tok and key then return invalid(op, terr, key) end

  local attempts = opts.attempts or M.policy.attempts
  local before
  if op.reconcile == "key" and attempts > 1 then
    local r = call(ops.by_name["easyio.show_keys"], {}, { key = key, timeout = opts.timeout })
    if r then before = key_set(r) end
  end
  local started = http.now()
  local result, err, retryable, ambiguous
  for attempt = 1, attempts do
    sched.before_request()
    local resp, transport_err = http.request(req)
    result, err, retryable, ambiguous = classify(op, resp, transport_err, key)
    if result then
      M.meta[result] = { op = op.full, attempts = attempt, retries = attempt - 1, time = http.now() - started }
      return result
    end
    err.attempts = attempt
    if not retryable or attempt == attempts or sched.stopping() then break end
    if op.reconcile and ambiguous then
      local found, rerr = reconcilers[op.reconcile](op, values, key, opts, before)
      if found then
        debug_log("%s: reconciled after a lost answer: it took effect", op.full)
        M.meta[found] = { op = op.full, attempts = attempt, retries = attempt - 1, reconciled = true,
                          time = http.now() - started }
        return found
      elseif found == false then
        err.message = err.message .. "; the call may have taken effect and checking failed"
          .. (rerr and (": " .. rerr.message) or "") .. ", so it was not retried"
        return nil, err
      end
      debug_log("%s: reconciled after a lost answer: it did not take effect", op.full)
    end
    local delay = backoff(attempt, err)
    debug_log("%s: attempt %d of %d failed (%s); retrying in %.2f s", op.full, attempt, attempts, err.message, delay)
    sched.sleep(delay)
  end
  return nil, err
end
M.call = call

-- Both hosts (apex and www) for the purges.
-- opts.both: the apex and www, separately. -> {[host] = result} | nil, err
-- where err is the first host's error, with err.results the hosts that
-- succeeded and err.failed {[host] = message} (no cycle: safe to encode).
local function call_both(op, values, opts)
  local hosts = check.hosts(values.domain)
  local out, failed, first_err = {}, {}, nil
  for _, h in ipairs(hosts) do
    local r, err = call(op, { domain = h }, opts)
    if r then out[h] = r
    else
      failed[h] = tostring(err)
      first_err = first_err or err
      first_err.host = first_err.host or h
    end
  end
  if first_err then
    first_err.results, first_err.failed = out, failed
    return nil, first_err
  end
  return out
end

-- The Lua function for one operation.
function M.bind(op)
  return function(...)
    local values, err, opts = parse_args(op, ...)
    if not values then return invalid(op, err) end
    if op.both_hosts and opts.both then
      local o = {}
      for k, v in pairs(opts) do if k ~= "both" then o[k] = v end end
      return call_both(op, values, o)
    end
    return call(op, values, opts)
  end
end

-- shortpixel and easyio modules, built from the table.
function M.modules()
  local mods = { shortpixel = {}, easyio = {} }
  for _, op in ipairs(ops.list) do
    local f = M.bind(op)
    mods[op.service][op.name] = f
    op.fn = f
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
