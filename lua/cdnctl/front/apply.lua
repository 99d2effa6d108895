-- cdnctl.front.apply: `cdnctl apply INVENTORY.csv | PLAN.json [--yes]
-- [--dry-run] [--journal FILE] [--json] [--target client:NAME | profile:NAME ...]`.
-- Makes the calls of a plan (cdnctl.plan): one made now from an inventory,
-- or one saved by `cdnctl plan --out`, told apart by their content. Each
-- client's actions run in the plan's order (creates, settings, CNAMEs,
-- then revokes and removals), clients in parallel, each under its row's
-- profile. Every call made goes to the journal (STEM.apply.journal beside
-- the input; fsync'd, locked, bound to its target) before the next, so a
-- run that stops can be run again. A saved plan is checked action by
-- action: what an action depends on (its `read`) is read again first, and
-- an action whose state changed is not made, nor those that depend on it.
-- Removals and changes to what exists ask first (script.confirm). Exit: 0
-- every action made and nothing left in conflict; 1 the journal or a
-- profile cannot be used; 2 usage, or not confirmed; 3 an action failed,
-- was stale or was not made, or the plan has conflicts or unreadable parts.

local plan = require "cdnctl.plan"
local planfront = require "cdnctl.front.plan"
local script = require "cdnctl.kit.script"
local files = require "cdnctl.kit.files"
local check = require "cdnctl.check"
local config = require "cdnctl.config"
local ops = require "cdnctl.ops"
local json = require "cdnctl.json"

local M = {}

M.USAGE = [[
usage: cdnctl apply INVENTORY.csv | PLAN.json [--yes] [--dry-run] [--journal FILE] [--json]
                    [--target client:NAME | profile:NAME ...] [--concurrency N]
  Makes the calls of the plan (`cdnctl plan` shows it): from an inventory, a
  plan made now; from a plan saved with `cdnctl plan --out`, that plan, each
  action checked first against what it read (a changed state: "stale", not made).
  Removals and changes to existing sites ask first on a terminal.
  --yes                   do not ask (without a terminal, nothing is sent without it)
  --dry-run               print the plan and each action's exact request; send nothing
  --journal FILE          the journal (default STEM.apply.journal beside the input)
  --json                  the outcome as JSON on standard output
  --target client:NAME    only this client's actions (repeatable)
  --target profile:NAME   only this profile's actions (repeatable)
  --concurrency N         clients worked on at once (default 8)
exit status: 0 done, 1 the journal or a profile cannot be used, 2 usage or not
confirmed, 3 some action failed, was stale or not made, or conflicts remain]]

M.OPTIONS = { "--yes", "--dry-run", "--journal", "--json", "--target", "--concurrency", "--help", "-h" }

local SPEC = { ["--yes"] = "flag", ["--dry-run"] = "flag", ["--journal"] = "value", ["--json"] = "flag",
               ["--target"] = "list", ["--concurrency"] = "value" }

local function usage_error(msg)
  io.stderr:write("cdnctl apply: ", msg, "\n", M.USAGE, "\n")
  return script.EXIT_USAGE
end

-- A saved plan ---------------------------------------------------------------

local function is_arg(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean" or t == "table"
end

-- The one check of a saved plan's action i (0-based) -> nil | what is wrong
local function bad_action(a, i)
  if type(a) ~= "table" then return "not an object" end
  if not plan.KIND[a.op] then return "op: " .. tostring(a.op) .. " is not an action a plan makes" end
  if type(a.args) ~= "table" then return "args: not a list" end
  for j, v in ipairs(a.args) do
    if not is_arg(v) then return "args[" .. (j - 1) .. "]: not a value" end
    if type(v) == "table" and v.known_after ~= nil then
      local n = math.tointeger(v.known_after)
      if not n or n < 0 or n >= i then return "args[" .. (j - 1) .. "]: known_after must name an earlier action" end
    end
  end
  if a.profile ~= nil and a.profile ~= json.null and type(a.profile) ~= "string" then return "profile: not a name" end
  return nil
end

-- M.saved(text, path) -> p | nil, message: a plan as `plan --out` writes it.
function M.saved(text, path)
  local doc = json.decode(text)
  if type(doc) ~= "table" or type(doc.actions) ~= "table" then
    return nil, path .. ": not a plan (a JSON object with \"actions\", as `cdnctl plan --out` writes)"
  end
  for i, a in ipairs(doc.actions) do
    local why = bad_action(a, i - 1)
    if why then return nil, path .. ": action " .. (i - 1) .. ": " .. why end
    if a.profile == json.null then a.profile = nil end
    if a.client == json.null then a.client = nil end
  end
  doc.findings = type(doc.findings) == "table" and doc.findings or {}
  for _, f in ipairs(doc.findings) do
    for k, v in pairs(f) do if v == json.null then f[k] = nil end end
  end
  doc.notes = type(doc.notes) == "table" and doc.notes or {}
  doc.summary = type(doc.summary) == "table" and doc.summary or {}
  doc.saved, doc.problems = true, {}
  if type(doc.id) ~= "string" then doc.id = require("cdnctl.codec").sha256_hex(text):sub(1, 16) end
  return doc
end

-- The plan of the command line's input -> p | nil, message, status
local function load(path, opts)
  local text, err = script.read_input(path)
  if not text then return nil, err, script.EXIT_USAGE end
  if text:gsub("^\239\187\191", ""):match("^%s*{") then
    local p, perr = M.saved(text, path)
    if not p then return nil, perr, script.EXIT_USAGE end
    local t, terr = planfront.targets(opts.target)
    if terr then return nil, terr, script.EXIT_USAGE end
    p.selected = t
    return p
  end
  local p, perr, status = planfront.compute(path, opts)
  if not p then return nil, perr, status end
  return p
end

-- Whether a target selects action a (every action without one).
local function selected(t, a)
  if not t then return true end
  return (a.client and t.client[a.client]) or (a.profile and t.profile[a.profile]) or false
end

-- Asking first ----------------------------------------------------------------

-- The actions that change or remove what exists (a site's settings made by
-- this plan's create are an addition's and need no question).
local function needs_question(a, created)
  local kind = plan.KIND[a.op]
  if kind == "remove" then return true end
  if kind ~= "change" then return false end
  local id = a.args[1]
  return not (type(id) == "table" and id.known_after ~= nil) and not created[tostring(id)]
end

local function action_words(a)
  return string.format("  %s %s(%s)  %s%s", a.client or "", a.op, planfront.args_text(a.args), a.why or "",
    a.profile and (" [profile " .. a.profile .. "]") or "")
end

-- -> true | false (not confirmed: nothing is sent)
local function ask(actions, created, yes)
  local asked = {}
  for _, a in ipairs(actions) do
    if needs_question(a, created) then asked[#asked + 1] = action_words(a) end
  end
  if #asked == 0 then return true end
  local what = string.format("apply %d change%s and removal%s to what exists", #asked, #asked == 1 and "" or "s",
    #asked == 1 and "" or "s")
  return script.confirm(what, yes, function() return ":\n" .. table.concat(asked, "\n") .. "\n" end)
end

-- The dry run ------------------------------------------------------------------

local SENTINEL = 987654321 -- an id made by an earlier action, shown as words

-- The exact requests of action a (keys masked) -> text
local function requests_text(a, i)
  local op = ops.by_name[a.op]
  local raw, after = {}, nil
  for j, spec in ipairs(op.args) do
    local v = a.args[j]
    if type(v) == "table" and v.known_after ~= nil then v, after = SENTINEL, v end
    raw[spec.name] = v
  end
  local text, err = require("cdnctl.front.dryrun").text(op, raw, {}, cdnctl.settings)
  if not text then return "# action " .. i .. ": would be refused: " .. tostring(err) .. "\n" end
  if after then
    text = text:gsub(tostring(SENTINEL), "<" .. after.field .. " of action " .. after.known_after .. ">")
  end
  return "# action " .. i .. ": " .. a.op .. (a.client and (" for " .. a.client) or "") .. "\n" .. text
end

-- M.dry_run(p, path) -> 0: the plan, then each action's requests under its profile
function M.dry_run(p, path, t)
  local out = { planfront.text(p, path), "\nThe requests (nothing is sent):\n" }
  local own = cdnctl.settings.profile
  for i, a in ipairs(p.actions) do
    if selected(t, a) then
      local ok, err = plan.use_source(a, own)
      out[#out + 1] = ok and requests_text(a, i - 1) or ("# action " .. (i - 1) .. ": profile: " .. tostring(err) .. "\n")
    end
  end
  require("cdnctl.settings").change(cdnctl.settings, { profile = own or false })
  local ok, err = script.write_stdout(table.concat(out, "\n"))
  if not ok then io.stderr:write("cdnctl apply: ", tostring(err), "\n"); return 1 end
  io.stderr:write("cdnctl apply: dry run: nothing was sent\n")
  return 0
end

-- The journal ------------------------------------------------------------------

-- An action's step in the journal: the plan's id, the action's index, its
-- call and profile (an argument an earlier action made is named by that
-- action's step). A plan made now is new each run, so only a saved plan's
-- steps are found again.
local function step_call(p, i)
  local a = p.actions[i + 1]
  local args = {}
  for j, v in ipairs(a.args) do
    args[j] = type(v) == "table" and v.known_after ~= nil and ("<" .. v.field .. " of #" .. v.known_after .. ">")
      or (type(v) == "table" and json.encode(v) or tostring(v))
  end
  return string.format("%s(%s)@%s", a.op, table.concat(args, ","), a.profile or "")
end

local function step_id(p, i)
  return string.format("%s#%d %s", tostring(p.id), i, step_call(p, i))
end

-- The journal's name: STEM.apply.journal beside the input (.sandbox.journal
-- against a sandbox that lives as long as this process).
local function journal_name(path, sandbox)
  local dir, base = path:match("^(.-)([^/]*)$")
  local stem = base:gsub("%.[Jj][Ss][Oo][Nn]$", ""):gsub("%.[Cc][Ss][Vv]$", "")
  return dir .. (stem ~= "" and stem or "inventory") .. ".apply" .. (sandbox and ".sandbox" or "") .. ".journal"
end

-- The profiles the actions use, each with its base URLs and its keys'
-- fingerprints -> {[profile or ""] = {target words, fp}} , target | nil, message
local function sources_of(p, t)
  local own = cdnctl.settings.profile
  local by, target = {}, {}
  for _, a in ipairs(p.actions) do
    local k = a.profile or ""
    if selected(t, a) and not by[k] then
      local ok, err = plan.use_source(a, own)
      if not ok then return nil, (a.profile and ("profile '" .. a.profile .. "': ") or "") .. tostring(err) end
      local name = a.profile or "(run's source)"
      target[name .. " shortpixel"] = config.url(cdnctl.settings, "sp")
      target[name .. " easyio"] = config.url(cdnctl.settings, "ez")
      by[k] = { shortpixel = script.fingerprint((config.key(cdnctl.settings, "shortpixel"))),
                easyio = script.fingerprint((config.key(cdnctl.settings, "easyio"))) }
    end
  end
  require("cdnctl.settings").change(cdnctl.settings, { profile = own or false })
  return by, target
end

-- Making the calls ---------------------------------------------------------------

-- The state an action of a saved plan depends on, read now -> {host =} | {site =}
local function read_now(a, sites)
  local r = a.read or {}
  if r.owner then return { host = plan.read_host(a.args[1]) } end
  if sites == nil then return {} end
  if r.site == "missing" then return { site = ops.find_site({ sites = sites }, a.args[1]) or false } end
  for _, s in ipairs(sites) do
    if type(s) == "table" and tostring(s.site_id) == tostring(r.site_id) then return { site = s } end
  end
  return { site = false }
end

-- The arguments of action a with what earlier actions made filled in -> args | nil, why
local function filled(run, a)
  local args = {}
  for j, v in ipairs(a.args) do
    if type(v) == "table" and v.known_after ~= nil then
      local made = run.made[v.known_after]
      if not made then return nil, "not made: it needs the " .. v.field .. " of action " .. v.known_after .. ", which was not made" end
      args[j] = made[v.field]
    else
      args[j] = v
    end
  end
  return args
end

-- What a call made that a later action may need (a site's id).
local function product(a, r)
  if a.op == "easyio.create_site" and type(r) == "table" then return { id = math.tointeger(tonumber(r.id)) or r.id } end
  return {}
end

-- One action: filled, checked against now (a saved plan), made, journaled.
-- -> outcome {status = made|done|failed|stale|skipped, error}
local function act(run, i, a)
  local args, why = filled(run, a)
  if not args then return { status = "skipped", error = why } end
  local id = step_id(run.p, i)
  local fp = run.fps[a.profile or ""][a.op:match("^%a+")]
  local was = run.done[id]
  if was and was.key == fp then
    run.made[i] = was.product or {}
    return { status = "done", error = "done by an earlier run (the journal)" }
  end
  if run.p.saved then
    local stale = plan.stale(a, read_now(a, run.sites[a.profile or ""]))
    if stale then return { status = "stale", error = "stale: " .. stale } end
  end
  local svc, name = a.op:match("^(%a+)%.([%w_]+)$")
  local r, err = _G[svc][name](table.unpack(args))
  if not r then
    if type(err) == "table" and err.code == "unknown_outcome" then
      run.journal:write({ step = id, ok = false, unknown = true, key = fp, message = err.message })
    end
    return { status = "failed", error = tostring(type(err) == "table" and err.message or err) }
  end
  run.made[i] = product(a, r)
  local ok, jerr = run.journal:write({ step = id, ok = true, key = fp, product = run.made[i] })
  if not ok then run.stop = jerr; return { status = "failed", error = "made, but " .. jerr } end
  return { status = "made" }
end

-- One client's actions, in order: after a failure the rest of this
-- client's are not made (they may depend on it).
local function client_run(run, group)
  for _, i in ipairs(group) do
    local a = run.p.actions[i + 1]
    local o
    if run.stop then o = { status = "skipped", error = "not made: " .. run.stop }
    elseif group.failed then o = { status = "skipped", error = "not made: an earlier action of this client was not made" }
    else o = act(run, i, a) end
    run.outcomes[i] = o
    if o.status ~= "made" and o.status ~= "done" then group.failed = true end
  end
  return true
end

-- The selected actions grouped: profile -> clients -> action indexes (0-based)
local function groups(p, t)
  local profiles, by = {}, {}
  for i, a in ipairs(p.actions) do
    if selected(t, a) then
      local k = a.profile or ""
      if not by[k] then by[k] = { profile = a.profile, clients = {}, idx = {} }; profiles[#profiles + 1] = by[k] end
      local g = by[k]
      local ck = (a.client or "") .. "\0" .. tostring(a.line)
      if not g.idx[ck] then g.idx[ck] = { client = a.client }; g.clients[#g.clients + 1] = g.idx[ck] end
      table.insert(g.idx[ck], i - 1)
    end
  end
  table.sort(profiles, function(x, y) return (x.profile or "") < (y.profile or "") end)
  return profiles
end

-- Every selected action, profile by profile -> run.outcomes
local function make_all(run, opts)
  local own = cdnctl.settings.profile
  for _, g in ipairs(groups(run.p, run.t)) do
    local ok, err = plan.use_source(g, own)
    if ok and run.p.saved then
      local r, serr = easyio.show_sites()
      run.sites[g.profile or ""] = r and ops.as_list(r.sites) or nil
      if not r and serr.kind == "invalid" then run.sites[g.profile or ""] = {} end
    end
    if ok then
      cdnctl.parallel(g.clients, function(c) return client_run(run, c) end, {
        concurrency = tonumber(opts.concurrency) or 8, drain = 30,
        label = "apply " .. (g.profile and ("profile " .. g.profile) or "the run's source"), progress = not opts.json })
    end
    for _, c in ipairs(g.clients) do
      for _, i in ipairs(c) do
        run.outcomes[i] = run.outcomes[i] or { status = "skipped", error = ok and "not made: the run stopped first"
          or ("not made: profile: " .. tostring(err)) }
      end
    end
  end
  require("cdnctl.settings").change(cdnctl.settings, { profile = own or false })
end


-- The outcome -------------------------------------------------------------------

local MARK = { made = "made", done = "done", failed = "FAILED", stale = "STALE", skipped = "not made" }

local function tally(run)
  local n = { made = 0, done = 0, failed = 0, stale = 0, skipped = 0 }
  for i in ipairs(run.p.actions) do
    local o = run.outcomes[i - 1]
    if o then n[o.status] = n[o.status] + 1 end
  end
  local s = run.p.summary
  n.conflict, n.unreadable = s.conflict or 0, s.unreadable or 0
  return n
end

local function report_text(run, n)
  local out = {}
  for i, a in ipairs(run.p.actions) do
    local o = run.outcomes[i - 1]
    if o then
      out[#out + 1] = string.format("%-8s %s%s", MARK[o.status], action_words(a):gsub("^%s+", ""),
        o.error and (": " .. o.error) or "")
    end
  end
  for _, f in ipairs(run.p.findings) do
    if f.kind == "conflict" or f.kind == "unreadable" then
      out[#out + 1] = string.format("%-8s %s %s: %s", f.kind, f.client or "", f.target or "", f.message or "")
    end
  end
  out[#out + 1] = string.format("Apply: %d made, %d failed, %d stale, %d not made, %d done before; %d conflict%s, %d unreadable%s",
    n.made, n.failed, n.stale, n.skipped, n.done, n.conflict, n.conflict == 1 and "" or "s", n.unreadable,
    n.stale > 0 and " (the saved plan is stale: run `cdnctl plan` again)" or "")
  return table.concat(out, "\n") .. "\n"
end

local function report_json(run, n, path)
  local actions = {}
  for i, a in ipairs(run.p.actions) do
    local o = run.outcomes[i - 1]
    if o then
      actions[#actions + 1] = { index = i - 1, client = a.client or json.null, profile = a.profile or json.null,
        op = a.op, args = a.args, status = o.status, error = o.error or json.null }
    end
  end
  if #actions == 0 then actions = json.empty_array end
  return json.encode({ input = path, journal = run.journal_path, actions = actions, summary = n,
    error = run.stop or json.null }) .. "\n"
end

-- Running ------------------------------------------------------------------------

local function in_process_sandbox()
  return config.resolve(cdnctl.settings, "shortpixel", true).kind == "sandbox"
end

-- The journal, opened and read back -> run | nil, message, status
local function open_run(p, t, path, opts)
  local sandbox = in_process_sandbox()
  local jpath = opts.journal or journal_name(path == "-" and "inventory" or path, sandbox)
  local outs, oerr = files.check({ ["--journal"] = { path = jpath, journal = true, mode = 384 } },
    { files.input_path(path) }, opts.json and "--json")
  if not outs then return nil, oerr, script.EXIT_USAGE end
  outs["--journal"]:close()
  local fps, target = sources_of(p, t)
  if not fps then return nil, target, 1 end
  local run = { p = p, t = t, made = {}, outcomes = {}, done = {}, sites = {}, fps = fps, journal_path = jpath }
  local j, jerr, kind = script.journal(jpath, { target = target, fresh = sandbox, open_target = true, on_entry = function(e)
    if e.ok and type(e.step) == "string" then run.done[e.step] = { key = e.key, product = e.product } end
  end })
  if not j then return nil, jerr, kind == "io" and 1 or script.EXIT_USAGE end
  run.journal = j
  return run
end

-- The sites this journal's runs created (their settings need no question).
local function created_ids(run)
  local ids = {}
  for step, e in pairs(run.done) do
    if step:match("^%S+ easyio%.create_site%(") and type(e.product) == "table" and e.product.id then ids[tostring(e.product.id)] = true end
  end
  return ids
end

local function finish(run, path, opts)
  run.journal:close()
  local n = tally(run)
  local ok, werr = script.write_stdout(opts.json and report_json(run, n, path) or report_text(run, n))
  if not ok then io.stderr:write("cdnctl apply: ", tostring(werr), "\n"); return 1 end
  if run.stop then io.stderr:write("cdnctl apply: ", run.stop, "; no new call was made after it\n"); return 1 end
  if n.failed + n.stale + n.skipped + n.conflict + n.unreadable > 0 then return script.EXIT_FAILED end
  return 0
end

-- M.main(args): args the words after "apply".
function M.main(args)
  local opts, pos = planfront.parse(args, M.USAGE, SPEC)
  if not opts then return usage_error(pos) end
  if opts.help then io.stdout:write(M.USAGE, "\n"); return 0 end
  if #pos ~= 1 then return usage_error(#pos == 0 and "an inventory CSV or a saved plan is needed" or "one input only") end
  local c = tonumber(opts.concurrency or "8")
  if not c or c < 1 or c > 256 or c ~= math.floor(c) then return usage_error("--concurrency: an integer from 1 to 256") end
  local p, err, status = load(pos[1], opts)
  if not p then io.stderr:write("cdnctl apply: ", err, "\n"); return status end
  for _, pr in ipairs(p.problems or {}) do io.stderr:write("cdnctl apply: ", pos[1], ":", pr.message, "\n") end
  local t = p.selected
  if opts.dry_run then return M.dry_run(p, pos[1], t) end
  local run, rerr, rstatus = open_run(p, t, pos[1], opts)
  if not run then io.stderr:write("cdnctl apply: ", rerr, "\n"); return rstatus end
  local chosen = {}
  for _, a in ipairs(p.actions) do if selected(t, a) then chosen[#chosen + 1] = a end end
  if not ask(chosen, created_ids(run), opts.yes) then run.journal:close(); return script.EXIT_USAGE end
  make_all(run, opts)
  return finish(run, pos[1], opts)
end

return M
