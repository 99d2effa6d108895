-- cdnctl.request: everything a call needs before it sends, decided in one
-- place. request.of(s, op, ...) reads a binding's arguments by the table of
-- operations (cdnctl.ops), checks them (cdnctl.check), takes the key and
-- the base URL from the source config.lua resolved for the settings value
-- s, and builds the request (method, URL, headers, body) with the transport
-- verdict. The bindings (cdnctl.client), `cdnctl call`'s question and
-- --dry-run (front/dryrun.lua) all go through it, so what is shown is what
-- is sent. It sends nothing and reads nothing: a request that depends on a
-- read names it (r.reads_first), and client.lua makes that read.

local percent = require "cdnctl.percent"
local check = require "cdnctl.check"
local errors = require "cdnctl.errors"
local config = require "cdnctl.config"
local ops = require "cdnctl.ops"

local M = {}

local function raise_arg(op, n, msg)
  error(string.format("bad argument #%d to '%s' (%s)", n, op.full, msg), 4)
end

local function invalid(op, message)
  return nil, errors.new({ op = op.full, kind = "invalid", message = message })
end

-- A binding's arguments by the table's list: positional values (a fields
-- table where the operation has one, optional ones skipped by nil or by
-- the options table), then the options table.
-- -> values (unchecked), opts (nil when none), the options' position | nil, position, message
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
      if tv ~= "string" and not (tv == "number" and spec.check == "site_id") then
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

-- The first of opts that op does not take, and why (check.option) | nil
local function option_problem(op, opts)
  for k, v in pairs(opts) do
    local problem = check.option(op, k, v)
    if problem then return problem end
  end
  return nil
end

-- M.checked(op, ...) -> values, opts | nil, err: a binding's arguments
-- split and checked (check.option, check.args). Programming errors (types,
-- unknown options) raise, as luaL_argerror does; bad values are an
-- "invalid" error.
function M.checked(op, ...)
  local values, opts, pos = split_args(op, ...)
  if not values then raise_arg(op, opts, pos) end
  opts = opts or {}
  local problem = option_problem(op, opts)
  if problem then raise_arg(op, pos, problem) end
  local checked, err = check.args(op, values)
  if not checked then return invalid(op, err) end
  return checked, opts
end

-- M.check(op, raw, opts) -> values | nil, err: the same checks of
-- arguments by name ({[arg name] = value as given}), every refusal an
-- "invalid" error (`cdnctl call` builds them from words).
function M.check(op, raw, opts)
  local problem = option_problem(op, opts)
  if problem then return invalid(op, problem) end
  local values, err = check.args(op, raw)
  if not values then return invalid(op, err) end
  return values
end

-- The headers of a request: one table each for every request, which no one
-- changes (http.start, har and --dry-run read them).
local GET_HEADERS = { "Accept: application/json" }
local POST_HEADERS = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json" }

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- The part of op's request that only the settings value decides, made
-- once per operation and value: the base URL and its source, the path
-- template read into literal strings and {name} places ({name*}: rest),
-- and the transport verdict. Every template is "{base}/...", so a URL's
-- scheme and host are its base URL's, which with s.allow_http is all the
-- verdict reads. broken: the message of a profile with an error, which
-- fails every call that uses it. Kept in s.resolved.ops, the one memo of a request:
-- settings.change empties s.resolved whole.
local function part_of(s, op)
  local memo = s.resolved.ops
  if not memo then memo = {}; s.resolved.ops = memo end
  local p = memo[op]
  if p then return p end
  local which = op.path:match("^{(%w+)}/")
  local view = config.resolve(s, ops.base_urls[which].service)
  p = { base = view.urls[which], base_source = view.url_sources[which], parts = { view.urls[which] } }
  local at = #which + 3
  for lit, name, star in op.path:gmatch("([^{]*){(%w+)(%*?)}", at) do
    if lit ~= "" then p.parts[#p.parts + 1] = lit end
    p.parts[#p.parts + 1] = { name = name, rest = star == "*" or nil }
  end
  local tail = op.path:match("[^}]*$")
  if tail ~= "" then p.parts[#p.parts + 1] = tail end
  p.transport_ok, p.transport_why = config.transport_ok(s, p.base .. "/")
  p.broken = view.profile and view.profile.broken -- a profile with an error (config_file.load)
  p.headers = op.method == "POST" and POST_HEADERS or GET_HEADERS
  memo[op] = p
  return p
end

-- The URL: the template's parts filled ({key} and {name}: percent-encoded;
-- {name*}: the value as it is, through op.rest[name]), then the path
-- options that opts sets.
local function url_of(op, part, values, key, opts)
  local parts = part.parts
  local url = parts[1]
  for i = 2, #parts do
    local x = parts[i]
    local name = type(x) == "table" and x.name
    if not name then url = url .. x
    elseif name == "key" then url = url .. (key and percent.escape(key) or "")
    elseif x.rest then url = url .. (op.rest and op.rest[name] or tostring)(values[name], opts)
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
  local parts = {}
  local function add(k, v) parts[#parts + 1] = percent.escape(k) .. "=" .. percent.escape(tostring(v)) end
  if key and op.key_in ~= "path" then add(op.key_field or "api_key", key) end
  for _, spec in ipairs(op.args) do
    local v = values[spec.name]
    if spec.fields and v then
      for _, k in ipairs(sorted_keys(v)) do add(k, v[k]) end
    elseif v ~= nil then
      add(spec.name, v)
    end
  end
  return table.concat(parts, "&")
end

-- The key for op (config.key: checked, check.key) and where it came from:
-- key (nil where none travels), from | nil, nil, err
local function key_of(s, op, opts)
  if op.key_in == "none" or (opts.key == false and op.key_optional) then return nil end
  local key, from, why, src = config.key(s, op.service, opts.key)
  if why then return nil, nil, select(2, invalid(op, why)) end
  local svc = ops.services[op.service]
  if key == nil then
    if op.key_in == "form_optional" then return nil end
    return nil, nil, select(2, invalid(op, "no " .. svc.label .. " API key: " .. (src.missing or ("set "
      .. svc.key_env .. ", pass opts.key, or select a profile"))))
  end
  return key, from
end

-- M.build(r) -> r: r.req made again from r.values (after an operation's
-- prepare completed them), and its transport verdict (r.transport_ok,
-- r.transport_why: a key travels over https, or plain http to loopback or
-- with --allow-http). -> r | nil, err when a key would travel unsafely.
function M.build(r)
  local s, op, values, key, opts = r.s, r.op, r.values, r.key, r.opts
  local part = part_of(s, op)
  r.base, r.base_source, r.transport_ok, r.transport_why = part.base, part.base_source, part.transport_ok, part.transport_why
  r.req = { method = op.method, secret = key, url = url_of(op, part, values, key, opts),
    body = op.method == "POST" and form_body(op, values, key) or nil, headers = part.headers,
    timeout = opts.timeout or s.policy.timeout,
    -- never let libcurl resend on its own what must not run twice
    fresh_connect = (not op.idempotent) or op.reconcile ~= nil }
  if not r.transport_ok and key then
    local err = errors.new({ op = op.full, kind = "invalid", message = r.transport_why }, key)
    return nil, errors.name_key(err, key, r.key_source)
  end
  return r
end

-- M.make(s, op, values, opts) -> r | nil, err: the request of op with
-- checked values. r = {s, op, values, opts, key, key_source, base,
-- base_source, req, transport_ok, transport_why, reads_first, split}.
-- split: with opts.both on a purge, one request per host (apex, www).
function M.make(s, op, values, opts)
  if op.both_hosts and opts.both then
    local o, split = {}, {}
    for k, v in pairs(opts) do if k ~= "both" then o[k] = v end end
    for i, h in ipairs(check.hosts(values.domain)) do
      local one, err = M.make(s, op, { domain = h }, o)
      if not one then return nil, err end
      split[i] = one
    end
    return { s = s, op = op, values = values, opts = opts, split = split, key = split[1].key,
             key_source = split[1].key_source, base = split[1].base, base_source = split[1].base_source }
  end
  local broken = part_of(s, op).broken
  if broken then return invalid(op, broken) end
  local key, from, kerr = key_of(s, op, opts)
  if kerr then return nil, kerr end
  local rf = op.reads_first
  local r = { s = s, op = op, values = values, opts = opts, key = key, key_source = from,
              reads_first = rf and not (rf.unless and opts[rf.unless]) and rf or nil }
  return M.build(r)
end

-- M.of(s, op, ...) -> r | nil, err: the request of a binding's call with
-- the arguments ... (M.make after M.checked). Sub-keys given are
-- registered for masking (config.note_secrets).
function M.of(s, op, ...)
  local values, opts = M.checked(op, ...)
  if not values then return nil, opts end
  config.note_secrets(values)
  return M.make(s, op, values, opts)
end

return M
