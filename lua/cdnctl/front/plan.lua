-- cdnctl.front.plan: `cdnctl plan INVENTORY.csv [--json] [--out PLAN.json]
-- [--detailed-exitcode] [--target client:NAME | profile:NAME ...]
-- [--concurrency N]`. Reads each row's live state with that row's profile
-- (cdnctl.plan.read) and prints what `apply` would do (cdnctl.plan.make),
-- changing nothing. docs/inventory.md describes the plan and its JSON.
-- Exit: 0 the plan was made; 1 it could not be made whole (a read failed,
-- a row could not be read, a profile could not be used); 2 usage. With
-- --detailed-exitcode (Terraform's): 0 no changes, 2 changes or conflicts,
-- 1 an error of any kind, usage errors included.

local inventory = require "cdnctl.inventory"
local plan = require "cdnctl.plan"
local script = require "cdnctl.kit.script"
local json = require "cdnctl.json"

local M = {}

M.USAGE = [[
usage: cdnctl plan INVENTORY.csv [--json] [--out PLAN.json] [--detailed-exitcode]
                   [--target client:NAME | profile:NAME ...] [--concurrency N]
  Reads the live state of every row with the row's profile (an empty profile
  cell: the run's own source, --profile or the environment) and prints what
  `cdnctl apply` would do, grouped by client: + add, ~ change, - remove,
  ! conflict, ? unmanaged, ... pending. Nothing is changed.
  --json                  the plan as JSON on standard output
  --out PLAN.json         also save the plan as JSON, for review and `cdnctl apply PLAN.json`
  --detailed-exitcode     0 no changes, 2 changes or conflicts, 1 an error
  --target client:NAME    only this client's rows (repeatable)
  --target profile:NAME   only this profile's rows (repeatable)
  --concurrency N         reads in flight (default 16)
exit status: 0 the plan was made, 1 it is incomplete (a read failed, a row or
a profile could not be used), 2 usage error (with --detailed-exitcode:
0 no changes, 2 changes or conflicts, 1 any error)]]

M.OPTIONS = { "--json", "--out", "--detailed-exitcode", "--target", "--concurrency", "--help", "-h" }

-- The command line -> opts, inventory path | nil, message
function M.parse(args, usage, spec)
  local opts, pos = { target = {} }, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local kind = spec[name]
    local function value()
      if inline then return inline end
      i = i + 1
      if args[i] == nil or args[i]:sub(1, 2) == "--" then return nil end
      return args[i]
    end
    if name == "--help" or name == "-h" then opts.help = true
    elseif kind == "flag" then opts[name:sub(3):gsub("-", "_")] = true
    elseif kind == "value" or kind == "list" then
      local v = value()
      if not v then return nil, name .. " needs a value" end
      local field = name:sub(3):gsub("-", "_")
      if kind == "list" then opts[field] = opts[field] or {}; table.insert(opts[field], v)
      elseif opts[field] ~= nil and opts[field] ~= v then return nil, name .. " given twice"
      else opts[field] = v end
    elseif a == "--" then
      for j = i + 1, #args do pos[#pos + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local names = {}
      for k in pairs(spec) do names[#names + 1] = k end
      local near = require("cdnctl.suggest").closest(name, names)
      return nil, "unknown option '" .. name .. "'" .. (near and ("; did you mean " .. near .. "?") or "")
    else pos[#pos + 1] = a end
    i = i + 1
  end
  return opts, pos
end

-- --target words -> {client = {NAME = true}, profile = {NAME = true}} | nil, message
function M.targets(words)
  if #words == 0 then return nil end
  local t = { client = {}, profile = {} }
  for _, w in ipairs(words) do
    local kind, name = w:match("^(%a+):(.+)$")
    if not t[kind or ""] then return nil, "--target " .. w .. ": client:NAME or profile:NAME" end
    t[kind][name] = true
  end
  return t
end

-- The clients a target selects (all without one); unmatched targets are an error.
function M.select(inv, t)
  if not t then return inv.clients end
  local out, hit = {}, { client = {}, profile = {} }
  for _, c in ipairs(inv.clients) do
    local by_client, by_profile = t.client[c.name], c.profile and t.profile[c.profile]
    if by_client then hit.client[c.name] = true end
    if by_profile then hit.profile[c.profile] = true end
    if by_client or by_profile then out[#out + 1] = c end
  end
  for kind, names in pairs(t) do
    for n in pairs(names) do
      if not hit[kind][n] then return nil, "--target " .. kind .. ":" .. n .. ": no row of the inventory has it" end
    end
  end
  return out
end

-- Reads the inventory file with the output rules' inputs. -> inv | nil, message
function M.read_inventory(path, opts)
  local text, err = script.read_input(path)
  if not text then return nil, err end
  local inv, ierr = inventory.parse(text, opts)
  if not inv then return nil, path .. ": " .. ierr end
  return inv
end

local SIGN = { add = "+", change = "~", remove = "-" }
local FSIGN = { conflict = "!", unmanaged = "?", pending = "...", unreadable = "?!" }

local function arg_text(v)
  if type(v) == "table" and v.known_after then return "<" .. v.field .. " of action " .. v.known_after .. ">" end
  if type(v) == "table" then return (json.encode(v)) end
  return tostring(v)
end

-- An action's arguments as people read them.
function M.args_text(args)
  local words = {}
  for i, v in ipairs(args) do words[i] = arg_text(v) end
  return table.concat(words, ", ")
end

local function action_line(a)
  return string.format("  %s %s(%s)   %s\n", SIGN[plan.KIND[a.op]], a.op, M.args_text(a.args), a.why or "")
end

-- The plan for people: notes, then per client its actions and findings,
-- the summary last. emit(text) is called a client at a time (a plan of
-- thousands of clients is never one string); without it, the text is returned.
function M.text(p, inv_path, emit)
  local out = {}
  emit = emit or function(t) out[#out + 1] = t end
  emit("Plan for " .. inv_path .. " (read " .. p.made .. ")\n")
  for _, n in ipairs(p.notes) do emit("note: " .. n .. "\n") end
  local order, by = {}, {}
  local function group(name, profile, line)
    local k = (name or "") .. "\0" .. (profile or "")
    if not by[k] then
      by[k] = { name = name or "(no client)", profile = profile, line = line }
      order[#order + 1] = by[k]
    end
    return by[k]
  end
  for _, a in ipairs(p.actions) do table.insert(group(a.client, a.profile, a.line), a) end
  for _, f in ipairs(p.findings) do
    table.insert(f.client and group(f.client, f.profile, f.line) or group("unmanaged", f.profile, nil), f)
  end
  for _, g in ipairs(order) do
    local lines = { string.format("\n%s (%s, line %s)\n", g.name,
      g.profile and ("profile " .. g.profile) or "the run's source", tostring(g.line or "-")) }
    for _, x in ipairs(g) do
      lines[#lines + 1] = x.op and action_line(x)
        or string.format("  %s %s %s: %s\n", FSIGN[x.kind], x.kind, x.target, x.message)
    end
    emit(table.concat(lines))
  end
  local s = p.summary
  emit(string.format("\nPlan: %d to add, %d to change, %d to remove; %d conflict%s, %d pending, %d unmanaged, %d unreadable\n",
    s.add, s.change, s.remove, s.conflict, s.conflict == 1 and "" or "s", s.pending, s.unmanaged, s.unreadable))
  return table.concat(out)
end

local function list(t)
  if #t == 0 then return json.empty_array end
  return t
end

-- The plan as JSON (keys never appear: a row's account is its profile's name).
function M.json(p, inv_path)
  local actions, findings = {}, {}
  for i, a in ipairs(p.actions) do
    actions[i] = { client = a.client, profile = a.profile or json.null, line = a.line, op = a.op,
                   args = a.args, why = a.why, read = a.read }
  end
  for i, f in ipairs(p.findings) do
    findings[i] = { client = f.client or json.null, profile = f.profile or json.null, line = f.line or json.null,
                    kind = f.kind, service = f.service, target = f.target, message = f.message }
  end
  return json.encode({ inventory = inv_path, made = p.made, id = p.id, actions = list(actions), findings = list(findings),
                       notes = list(p.notes), summary = p.summary }) .. "\n"
end

-- The plan of an inventory, read now. -> p, inv | nil, message, status
function M.compute(path, opts)
  local inv, err = M.read_inventory(path)
  if not inv then return nil, err, 2 end
  local t, terr = M.targets(opts.target or {})
  if terr then return nil, terr, 2 end
  local clients, serr = M.select(inv, t)
  if not clients then return nil, serr, 2 end
  local sub = { clients = clients, withheld = inv.withheld, problems = inv.problems }
  local world = plan.read(sub, { concurrency = tonumber(opts.concurrency), account = opts.account })
  local p = plan.make(sub, world, { all = inv })
  p.made = os.date("!%Y-%m-%dT%H:%M:%SZ")
  -- the plan's name in apply's journal: its steps are this plan's
  p.id = require("cdnctl.codec").sha256_hex(table.concat({ p.made, require("cdnctl.host").pid(),
    tostring(os.clock()), tostring(p) }, "\0")):sub(1, 16)
  p.problems, p.world, p.inventory, p.clients = inv.problems, world, inv, clients
  return p, inv
end

local SPEC = { ["--json"] = "flag", ["--out"] = "value", ["--detailed-exitcode"] = "flag",
               ["--target"] = "list", ["--concurrency"] = "value" }

local function usage_error(msg, detailed)
  io.stderr:write("cdnctl plan: ", msg, "\n", M.USAGE, "\n")
  return detailed and 1 or 2
end

-- M.main(args, lib): args the words after "plan".
function M.main(args)
  collectgarbage("incremental", 100, 400)
  local opts, pos = M.parse(args, M.USAGE, SPEC)
  local detailed = opts and opts.detailed_exitcode
  if not opts then return usage_error(pos, false) end
  if opts.help then io.stdout:write(M.USAGE, "\n"); return 0 end
  if #pos ~= 1 then return usage_error(#pos == 0 and "an inventory CSV is needed" or "one inventory only", detailed) end
  local c = tonumber(opts.concurrency or "16")
  if not c or c < 1 or c > 256 or c ~= math.floor(c) then return usage_error("--concurrency: an integer from 1 to 256", detailed) end
  local outs, oerr = script.outputs({ ["--out"] = opts.out }, { pos[1] })
  if not outs then return usage_error(oerr, detailed) end
  local p, err, status = M.compute(pos[1], opts)
  if not p then
    io.stderr:write("cdnctl plan: ", err, "\n")
    return detailed and 1 or status
  end
  for _, pr in ipairs(p.problems) do io.stderr:write("cdnctl plan: ", pos[1], ":", pr.message, "\n") end
  local doc = (opts.json or outs["--out"]) and M.json(p, pos[1])
  if outs["--out"] then
    local ok, werr = outs["--out"]:replace(doc)
    if not ok then io.stderr:write("cdnctl plan: --out: ", tostring(werr), "\n"); return 1 end
  end
  local ok, werr = true, nil
  if opts.json then ok, werr = script.write_stdout(doc)
  else
    M.text(p, pos[1], function(t) if ok then ok, werr = script.write_stdout(t) end end)
  end
  if not ok then io.stderr:write("cdnctl plan: ", werr, "\n"); return 1 end
  local incomplete = #p.problems > 0 or p.summary.unreadable > 0
  if incomplete then return 1 end
  if detailed then
    local s = p.summary
    return (s.add + s.change + s.remove + s.conflict > 0) and 2 or 0
  end
  return 0
end

return M
