-- cdnctl.front.dryrun: `cdnctl call --dry-run OP ...` prints the requests
-- the call would send (method, URL, headers, body; keys masked) and sends
-- nothing, not even a read. They are the requests request.of makes
-- (cdnctl.request), the ones the binding sends. Where a request depends on
-- a read (r.reads_first: change_key reads the current label and limits
-- with show_keys), the read is shown first and the fields it would supply
-- appear as <NAME read with show_keys>.
--
-- M.check(op, raw, opts): the arguments checked as the binding checks them
-- (request.check), so that `call` can name a destructive operation's
-- target in its question before anything is sent.

local ops = require "cdnctl.ops"
local config = require "cdnctl.config"
local request = require "cdnctl.request"
local redact = require "cdnctl.redact"
local host = require "cdnctl.host"

local M = {}

-- raw: {[arg name] = value as given}, fields tables included; opts: the
-- binding's options. -> values (checked, normalised) | nil, err (kind invalid)
function M.check(op, raw, opts)
  local values, err = request.check(op, raw, opts)
  if not values then return nil, err end
  values.both = op.both_hosts and opts.both or nil
  return values
end

-- A field's value that a read (via: "easyio.show_keys") will supply: letters
-- only, so that it survives percent-encoding; format() turns it into words.
local function marker(name, via)
  return "CDNCTLREAD" .. name:gsub("_", "X") .. "CDNCTLVIA" .. via:match("[%w_]+$"):gsub("_", "X") .. "CDNCTLREAD"
end

-- The steps of request r, in order: {{req =, note =}, ...} | nil, err. The
-- read it depends on comes first; the fields that read supplies (rf.fills)
-- are markers in the request that follows it.
local function plan(r)
  local steps, rf = {}, r.reads_first
  if rf then
    local read, err = request.make(r.s, ops.by_name[rf.name], {}, { key = r.key, timeout = r.opts.timeout })
    if not read then return nil, err end
    steps[1] = { req = read.req, note = rf.note }
    if rf.fills then
      local fields = {}
      for _, spec in ipairs(r.op.args) do
        if spec.name == rf.fills then
          for name in pairs(spec.fields) do fields[name] = marker(name, rf.name) end
        end
      end
      for name, v in pairs(r.values[rf.fills] or {}) do fields[name] = v end
      r.values[rf.fills] = fields
      request.build(r)
    end
  end
  for _, one in ipairs(r.split or { r }) do steps[#steps + 1] = { req = one.req } end
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
  local values, err = request.check(op, raw, opts)
  local r, steps
  if values then
    config.note_secrets(values) -- a sub-key given shows masked
    r, err = request.make(s, op, values, opts)
  end
  if r then steps, err = plan(r) end
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
