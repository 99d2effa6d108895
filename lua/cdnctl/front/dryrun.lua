-- cdnctl.front.dryrun: `cdnctl call --dry-run OP ...` prints the exact
-- requests the call would send (method, URL, headers, body; keys masked)
-- and sends nothing, not even a read. Where a request depends on a read
-- (change_key reads the current label and limits with show_keys), the read
-- is shown first and the fields it would supply appear as
-- <NAME read with show_keys>. The requests come from client.build_request,
-- the function the bindings use, so what is shown is what is sent.
--
-- Also M.check(op, raw, opts): the arguments checked by the rules the
-- bindings apply (check.args and check.option), so that `call` can name a destructive
-- operation's target in its question before anything is sent.

local ops = require "cdnctl.ops"
local check = require "cdnctl.check"
local config = require "cdnctl.config"
local client = require "cdnctl.client"
local errors = require "cdnctl.errors"
local redact = require "cdnctl.redact"
local host = require "cdnctl.host"

local M = {}

local function invalid(op, message)
  return nil, errors.new({ op = op.full, kind = "invalid", message = message })
end

-- raw: {[arg name] = value as given}, fields tables included; opts: the
-- binding's options. -> values (checked, normalised) | nil, err (kind invalid)
-- The bindings' own checks (check.args, check.option), so that what is
-- refused here is what a call would refuse.
function M.check(op, raw, opts)
  local values, err = check.args(op, raw)
  if not values then return invalid(op, err) end
  for k, v in pairs(opts) do
    local problem = check.option(op, k, v)
    if problem then return invalid(op, problem) end
  end
  values.both = op.both_hosts and opts.both or nil
  return values
end

-- The key the call would send (registered for masking), nil where none
-- travels, or nil, err as the binding would refuse.
local function key_for(s, op)
  if op.key_in == "none" then return nil end
  local key, from, why = config.key(s, op.service, nil)
  if why then return invalid(op, why) end
  if key == nil then
    if op.key_in == "form_optional" then return nil end
    local svc = ops.services[op.service]
    return invalid(op, "no " .. svc.label .. " API key: set " .. svc.key_env .. " or select a profile")
  end
  local ok, kerr = check.key(key, "key (from " .. tostring(from) .. ")")
  if not ok then return invalid(op, kerr) end
  return key
end

-- A field's value that a read (via: "easyio.show_keys") will supply: letters
-- only, so that it survives percent-encoding; format() turns it into words.
local function marker(name, via)
  return "CDNCTLREAD" .. name:gsub("_", "X") .. "CDNCTLVIA" .. via:match("[%w_]+$"):gsub("_", "X") .. "CDNCTLREAD"
end

-- The read an operation sends before it (op.reads_first, cdnctl.ops), added
-- to steps; the fields that read would supply show as <NAME read with ...>.
local function read_first(s, op, values, key, opts, steps)
  local rf = op.reads_first
  if not rf or (rf.unless and opts[rf.unless]) then return end
  steps[#steps + 1] = { req = client.build_request(s, ops.by_name[rf.name], {}, key, opts), note = rf.note }
  if not rf.fills then return end
  local fields = {}
  for _, spec in ipairs(op.args) do
    if spec.name == rf.fills then
      for name in pairs(spec.fields) do fields[name] = marker(name, rf.name) end
    end
  end
  for name, v in pairs(values[rf.fills] or {}) do fields[name] = v end
  values[rf.fills] = fields
end

-- The requests, in order: {{req =, note =}, ...} | nil, err
local function plan(s, op, values, key, opts)
  local steps = {}
  read_first(s, op, values, key, opts, steps)
  if values.both then -- apex and www, one request each, as the binding does
    for _, h in ipairs(check.hosts(values.domain)) do
      local v = {}
      for k, x in pairs(values) do v[k] = x end
      v.domain = h
      steps[#steps + 1] = { req = client.build_request(s, op, v, key, opts) }
    end
  else
    steps[#steps + 1] = { req = client.build_request(s, op, values, key, opts) }
  end
  for _, step in ipairs(steps) do
    local ok, terr = config.transport_ok(s, step.req.url)
    if not ok and key then return invalid(op, terr) end
  end
  return steps
end

-- One request as text: "METHOD URL", the headers, a blank line, the body.
local function format(req)
  local lines = { req.method .. " " .. req.url, "User-Agent: cdnctl/" .. host.version }
  for _, h in ipairs(req.headers or {}) do lines[#lines + 1] = h end
  if req.body then lines[#lines + 1] = ""; lines[#lines + 1] = req.body end
  local text = table.concat(lines, "\n")
  return (text:gsub("CDNCTLREAD(%w-)CDNCTLVIA(%w-)CDNCTLREAD", function(n, via)
    return "<" .. n:gsub("X", "_") .. " read with " .. via:gsub("X", "_") .. ">"
  end))
end

-- M.text(op, raw, opts, s) -> the requests as text, keys masked | nil, err
-- (the call would be refused). s: the settings value (cdnctl.settings).
function M.text(op, raw, opts, s)
  local values, err = M.check(op, raw, opts)
  local key, steps
  if values then
    config.note_secrets(values) -- a sub-key given shows masked
    key, err = key_for(s, op)
  end
  if not err then steps, err = plan(s, op, values, key, opts) end
  if err then return nil, err end
  local out = {}
  for i, step in ipairs(steps) do
    if #steps > 1 then out[#out + 1] = string.format("# %d of %d%s", i, #steps, step.note and (": " .. step.note) or "") end
    out[#out + 1] = format(step.req)
    out[#out + 1] = ""
  end
  return redact.mask(table.concat(out, "\n"))
end

-- M.run(op, raw, opts, s) -> exit status: 0 shown, 2 the call would be refused.
function M.run(op, raw, opts, s)
  local text, err = M.text(op, raw, opts, s)
  if not text then io.stderr:write("cdnctl: ", tostring(err), "\n"); return 2 end
  io.stdout:write(text)
  io.stderr:write("cdnctl call: dry run: nothing was sent\n")
  return 0
end

return M
