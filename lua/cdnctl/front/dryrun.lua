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
local function key_for(op)
  if op.key_in == "none" then return nil end
  local key, from, why = config.key(op.service)
  if why then return invalid(op, why) end
  if key == nil then
    if op.key_in == "form_optional" then return nil end
    return invalid(op, "no " .. (op.service == "shortpixel" and "ShortPixel" or "Easy IO") .. " API key: set "
      .. config.KEY_ENV[op.service] .. " or select a profile")
  end
  local ok, kerr = check.key(key, "key (from " .. tostring(from) .. ")")
  if not ok then return invalid(op, kerr) end
  return key
end

local function marker(name) return "CDNCTLREAD" .. name:gsub("_", "X") .. "CDNCTLREAD" end

-- The requests, in order: {{req =, note =}, ...} | nil, err
local function plan(op, values, key, opts)
  local steps = {}
  if op.keep_omitted and not opts.replace then
    local read = ops.by_name["easyio.show_keys"]
    steps[#steps + 1] = { req = client.build_request(read, {}, key, opts),
      note = "read first: the current label, allowed and site_limit (change.php blanks the fields it is not given)" }
    local fields = {}
    for name in pairs(op.args[2].fields) do fields[name] = marker(name) end
    for name, v in pairs(values.fields or {}) do fields[name] = v end
    values.fields = fields
  elseif op.reconcile == "key" then
    steps[#steps + 1] = { req = client.build_request(ops.by_name["easyio.show_keys"], {}, key, opts),
      note = "read first: the sub-keys, to tell after a lost answer or a Ctrl-C whether the key was made" }
  end
  if values.both then -- apex and www, one request each, as the binding does
    for _, h in ipairs(check.hosts(values.domain)) do
      local v = {}
      for k, x in pairs(values) do v[k] = x end
      v.domain = h
      steps[#steps + 1] = { req = client.build_request(op, v, key, opts) }
    end
  else
    steps[#steps + 1] = { req = client.build_request(op, values, key, opts) }
  end
  for _, s in ipairs(steps) do
    local ok, terr = config.transport_ok(s.req.url)
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
  return (text:gsub("CDNCTLREAD(%w-)CDNCTLREAD", function(n) return "<" .. n:gsub("X", "_") .. " read with show_keys>" end))
end

-- M.run(op, raw, opts) -> exit status: 0 shown, 2 the call would be refused.
function M.run(op, raw, opts)
  local values, err = M.check(op, raw, opts)
  local key, steps
  if values then
    config.note_secrets(values) -- a sub-key given shows masked
    key, err = key_for(op)
  end
  if not err then steps, err = plan(op, values, key, opts) end
  if err then io.stderr:write("cdnctl: ", tostring(err), "\n"); return 2 end
  local out = {}
  for i, s in ipairs(steps) do
    if #steps > 1 then out[#out + 1] = string.format("# %d of %d%s", i, #steps, s.note and (": " .. s.note) or "") end
    out[#out + 1] = format(s.req)
    out[#out + 1] = ""
  end
  io.stdout:write(redact.mask(table.concat(out, "\n")))
  io.stderr:write("cdnctl call: dry run: nothing was sent\n")
  return 0
end

return M
