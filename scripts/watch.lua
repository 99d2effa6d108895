-- scripts/watch.lua: a monitoring check for cron, Nagios/Icinga and
-- Prometheus's node_exporter (textfile collector).
--
--   cdnctl scripts/watch.lua DOMAINS.csv [--profile NAME ... | --all-profiles]
--          [--warn PERCENT] [--critical PERCENT] [--prometheus FILE] [--json]
--
-- For every host of the CSV (apex and www): read-domain's status, and
-- whether the account's key owns it (read-domain-cdn-usage); for every
-- account: its credits (api-status); for the Easy IO sites of the CSV
-- (`site_url`, else https://www.DOMAIN/): pending, and the account's
-- bandwidth against its quota. Exit status, the monitoring-plugin
-- convention (watch.lua is the documented exception to the scripts' exit
-- table): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; the worst state wins, in
-- the order CRITICAL, UNKNOWN, WARNING. The first line on stdout is the
-- plugin's one-line summary; with --json, stdout is one JSON document and
-- the summary goes to stderr. --timeout SECONDS (default 50) bounds the whole
-- check: what is not read by then is UNKNOWN. A stop signal (SIGTERM, SIGHUP,
-- the first Ctrl-C) abandons the reads at once; the check is then UNKNOWN
-- (cdnctl_watch_success 0), with one status line, and exits 143, 129 or 130.

local script = require "cdnctl.kit.script"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local json = require "cdnctl.json"
local host = require "cdnctl.host"
local http = require "cdnctl.http"
local sched = require "cdnctl.sched"

-- A stop signal never cuts this script in the middle of its Lua code (the
-- hook is off): it ends the read it comes in (sched), and the script then
-- writes its status line and its Prometheus file as on any other end.
host.arm(false)

local OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
local NAMES = { [OK] = "OK", [WARNING] = "WARNING", [CRITICAL] = "CRITICAL", [UNKNOWN] = "UNKNOWN" }
local RANK = { [OK] = 0, [WARNING] = 1, [UNKNOWN] = 2, [CRITICAL] = 3 } -- the worst wins

local USAGE = "usage: cdnctl scripts/watch.lua DOMAINS.csv [--profile NAME ... | --all-profiles] "
  .. "[--warn PERCENT] [--critical PERCENT] [--prometheus FILE] [--json] [--concurrency N] [--timeout SECONDS]"

local HELP = USAGE .. [[


A monitoring check (Nagios/Icinga plugin, cron, Prometheus textfile): exit 0
OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; the first line on stdout is the summary.

The rows are read as every inventory is (docs/inventory.md): each row's
calls run under its `profile` (empty: the run's own source) or its key
columns; `service` is both by default, so a row's Easy IO site (`site_url`,
default https://www.DOMAIN/) is checked too; a domain listed twice is one.

  --timeout SECONDS  the whole check's time (default 50, under Nagios' 60):
                     what is not read by then is UNKNOWN, said as "no answer
                     within --timeout". A binding's `timeout` bounds one
                     attempt and its `deadline` one call, retries included;
                     this bounds every call of the check together.
  --prometheus FILE  node_exporter's textfile, written atomically (0644);
                     cdnctl_watch_success is 0 when the check is UNKNOWN
  --warn, --critical percent left of credits and bandwidth (10 and 0)

SIGTERM, SIGHUP and the first Ctrl-C abandon the reads: one status line (CDN
UNKNOWN - stopped ...), cdnctl_watch_success 0, exit 143, 129 or 130.]]

-- Usage errors are UNKNOWN (3) here, as monitoring plugins report them.
local function unknown(msg)
  io.stdout:write("CDN UNKNOWN - ", msg:gsub("\n", " "), "\n")
  io.stderr:write(USAGE, "\n")
  cdnctl.exit(UNKNOWN)
end

local argv = { ... }
for _, a in ipairs(argv) do
  if a == "--help" or a == "-h" then
    io.stdout:write(HELP, "\n\n", script.KEYS_HELP, "\n\n", script.OUTPUTS_HELP, "\n",
      "--profile selects the rows of its profile (the CSV's 'profile' column): each row's calls run under it.\n")
    cdnctl.exit(0)
  end
end
-- script.args ends a bad command line with exit 2 (after its message on
-- stderr); a monitoring plugin says UNKNOWN (3) instead.
local opts, pos
do
  local ok, err = pcall(function()
    opts, pos = script.args(argv, { ["--profile"] = "list", ["--all-profiles"] = "flag", ["--warn"] = "value",
      ["--critical"] = "value", ["--prometheus"] = "value", ["--json"] = "flag", ["--concurrency"] = "integer",
      ["--timeout"] = "value" }, USAGE)
  end)
  if not ok then
    if type(err) == "table" and err.exit_status == script.EXIT_USAGE then
      io.stdout:write("CDN UNKNOWN - bad command line (see the message above)\n")
      cdnctl.exit(UNKNOWN)
    end
    error(err, 0)
  end
end

local function percent(name, v, default)
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= n or n < 0 or n > 100 or not tostring(v):match("^%d+%.?%d*$") then
    unknown(name .. " must be a percentage from 0 to 100, not '" .. tostring(v) .. "'")
  end
  return n
end
-- --timeout: seconds for the whole check, in (0, 86400]; its end, on http.now()'s clock.
local function check_timeout(v)
  if v == nil then return 50 end
  local n = tostring(v):match("^%d+%.?%d*$") and tonumber(v)
  if not n or not (n > 0 and n <= 86400) then
    unknown("--timeout must be a number of seconds in (0, 86400], not '" .. tostring(v) .. "'")
  end
  return n
end
local TIMEOUT = check_timeout(opts.timeout)
local ENDS = http.now() + TIMEOUT
local TIMED_OUT = string.format("no answer within --timeout (%g s)", TIMEOUT)
local WARN = percent("--warn", opts.warn, 10)
local CRIT = percent("--critical", opts.critical, 0)
if CRIT > WARN then unknown("--critical (" .. CRIT .. ") must not be above --warn (" .. WARN .. ")") end
if #pos ~= 1 then unknown(#pos == 0 and "a DOMAINS.csv file is needed" or "only one CSV file, please") end
if opts.all_profiles and opts.profile then unknown("--profile and --all-profiles do not go together") end

-- Which profiles: the ones named, every one of the config (--all-profiles),
-- or none (the keys as cdnctl finds them: environment, default profile).
local function selected_profiles()
  if opts.all_profiles then
    local cfg, err = require("cdnctl.config_file").load()
    if not cfg then unknown(cfg == false and err or "--all-profiles: there is no config file") end
    local names = {}
    for name in pairs(cfg.profiles) do names[#names + 1] = name end
    table.sort(names)
    if #names == 0 then unknown("--all-profiles: the config file has no profile") end
    return names
  end
  return opts.profile or { false }
end
local PROFILES = selected_profiles()
local IS_SELECTED = {}
for _, p in ipairs(PROFILES) do if p then IS_SELECTED[p] = true end end

-- Reading the CSV: groups of rows by profile ------------------------------------

-- The outputs (--prometheus, --har) against the input, each other and
-- standard output, before any request; --prometheus is written at the end.
do
  local outs, oerr = script.outputs({ ["--prometheus"] = opts.prometheus }, { pos[1] }, opts.json and "--json")
  if not outs then unknown(oerr) end
  if outs["--prometheus"] then outs["--prometheus"]:close() end
end

local text, rerr = script.read_file(pos[1])
if not text then unknown("cannot read " .. pos[1] .. ": " .. tostring(rerr)) end
-- The rows through the inventory's reader (docs/inventory.md), keys read:
-- a row's profile is its calls' source, its key columns too.
local inv, ierr = require("cdnctl.inventory").parse(text, { keys = "rows" })
if not inv then unknown(pos[1] .. ": " .. ierr) end
local has = {}
for _, h in ipairs(inv.header) do has[h] = true end
if opts.all_profiles and not has.profile then unknown("--all-profiles needs a 'profile' column in " .. pos[1]) end

-- Groups: one per source (a profile, or the run's own; a row's keys). With
-- the script's --profile, rows of other profiles are skipped, and rows
-- with an empty profile cell take the first one named.
local groups, by_source, notes = {}, {}, {}
local function group_of(c)
  local name = c.profile
  if opts.profile then
    if name and not IS_SELECTED[name] then
      notes[#notes + 1] = pos[1] .. ":" .. c.line .. ": profile '" .. name .. "' not selected: skipped"
      return nil
    end
    name = name or PROFILES[1]
  end
  local k = table.concat({ name or "", c.keys.shortpixel or "", c.keys.easyio or "" }, "\0")
  if not by_source[k] then
    by_source[k] = { profile = name, keys = c.keys, hosts = {}, sites = {}, problems = {} }
    groups[#groups + 1] = by_source[k]
  end
  return by_source[k]
end
if opts.profile then for _, p in ipairs(PROFILES) do group_of({ profile = p, keys = {}, line = 0 }) end end

local bad_rows = {}
for _, pr in ipairs(inv.problems) do bad_rows[#bad_rows + 1] = pr.message end
for _, c in ipairs(inv.clients) do
  local g = group_of(c)
  if g then
    if c.shortpixel then
      for _, h in ipairs(c.hosts) do g.hosts[#g.hosts + 1] = { domain = c.domain, host = h } end
    end
    if c.easyio then g.sites[#g.sites + 1] = { site_url = c.site_url, domain = c.domain } end
  end
end
if #groups == 0 then groups[1] = { hosts = {}, sites = {}, problems = {}, keys = {} } end
local current -- the group being read: its row keys go with each call

-- Checking ----------------------------------------------------------------------

local function worse(a, b) return RANK[b] > RANK[a] and b or a end

-- read(fn, ...) -> fn(..., {deadline = what is left of --timeout}) | nil, err
-- Past the check's end nothing is sent; a read the end cut short says so.
local function read(service, fn, ...)
  local left = ENDS - http.now()
  if left < 0.001 then return nil, { message = TIMED_OUT } end
  local args = table.pack(...)
  args[args.n + 1] = { deadline = left, key = current and current.keys[service] or nil }
  local r, err = fn(table.unpack(args, 1, args.n + 1))
  if not r and type(err) == "table" and (err.code == "deadline" or err.code == "timeout")
    and ENDS - http.now() < 0.5 then
    return nil, { message = TIMED_OUT }
  end
  return r, err
end

-- One host: its status (read_domain) and whether the account's key owns it.
local function check_host(h)
  local r, err = read("shortpixel", shortpixel.read_domain, h.host)
  if not r then h.state, h.reason = UNKNOWN, "status not read: " .. tostring(err.message); return true end
  h.status, h.status_name = cdnctl.ops.status_code(r.Status), r.status_name
  if h.status == -1 or h.status == -2 or h.status == -3 then h.state, h.reason = CRITICAL, r.status_name
  elseif h.status == 1 or h.status == 0 then h.state, h.reason = WARNING, r.status_name
  elseif h.status ~= 2 then h.state, h.reason = WARNING, r.status_name
  else h.state = OK end
  local u, uerr = read("shortpixel", shortpixel.read_domain_cdn_usage, h.host)
  if not u and uerr.code == "not_owner" then
    h.state, h.reason = worse(h.state, WARNING), h.state == OK and "not associated with the account" or h.reason
    h.not_associated = true
  elseif not u then
    h.state, h.reason = worse(h.state, UNKNOWN), "usage not read: " .. tostring(uerr.message)
  end
  return true
end

-- The account's credits: remaining = quota (monthly + one-time) - used.
local function check_credits(g)
  local r, err = read("shortpixel", shortpixel.api_status)
  if not r then
    g.problems[#g.problems + 1] = { state = UNKNOWN, text = "credits not read: " .. tostring(err.message) }
    return
  end
  local quota = (cdnctl.number(r.APICallsQuota) or 0) + (cdnctl.number(r.APICallsQuotaOneTime) or 0)
  local used = (cdnctl.number(r.APICallsMade) or 0) + (cdnctl.number(r.APICallsMadeOneTime) or 0)
  g.credits = { quota = quota, used = used, remaining = math.max(0, quota - used) }
  if r.Unlimited == "true" or r.Unlimited == true or quota <= 0 then return end
  local left = g.credits.remaining * 100 / quota
  g.credits.percent_left = left
  if left <= CRIT then
    g.problems[#g.problems + 1] = { state = CRITICAL, text = string.format("credits exhausted (%.1f %% left)", left) }
  elseif left < WARN then
    g.problems[#g.problems + 1] = { state = WARNING, text = string.format("credits almost exhausted (%.1f %% left)", left) }
  end
end

-- The CSV's Easy IO sites on the account: pending, and bandwidth against the quota.
local function check_sites(g)
  if #g.sites == 0 then return end
  local r, err = read("easyio", easyio.show_sites)
  if not r then
    g.problems[#g.problems + 1] = { state = UNKNOWN, text = "Easy IO sites not read: " .. tostring(err.message) }
    return
  end
  local by_key, total = {}, 0
  for _, s in ipairs(r.sites or {}) do
    by_key[check.site_key(s.site_url) or s.site_url] = s
    total = total + (cdnctl.number(s.bandwidth) or 0)
  end
  for _, site in ipairs(g.sites) do
    local s = by_key[check.site_key(site.site_url)]
    if not s then site.state, site.reason = WARNING, "not on the Easy IO account"
    else
      site.bandwidth, site.alias = cdnctl.number(s.bandwidth) or 0, s.alias
      if s.pending == true or s.pending == 1 or s.pending == "1" then site.state, site.reason = WARNING, "pending"
      else site.state = OK end
    end
  end
  local quota = cdnctl.number(r.quota)
  if quota and quota > 0 then
    local left = (quota - total) * 100 / quota
    g.bandwidth = { quota = quota, used = total, percent_left = left }
    if left <= CRIT then g.problems[#g.problems + 1] = { state = CRITICAL, text = "Easy IO bandwidth quota used up" }
    elseif left < WARN then
      g.problems[#g.problems + 1] = { state = WARNING, text = string.format("Easy IO bandwidth almost used up (%.1f %% left)", left) }
    end
  end
end

-- One account's reads: its hosts (in parallel), its credits, its sites.
-- A stop signal abandons the reads in flight at once (drain 0: they are
-- reads) and starts no other -> nil | the signal's name.
local function check_group(g)
  if #g.hosts > 0 then
    local _, errs, run = cdnctl.parallel(g.hosts, check_host, { concurrency = opts.concurrency or 8, progress = false,
      drain = 0 })
    local stop = run.interrupted and select(2, host.stop_signal()) or nil
    for i, h in ipairs(g.hosts) do
      if errs[i] or not h.state then
        h.state, h.reason = UNKNOWN, "not checked: " .. tostring(errs[i] or (stop and ("stopped (" .. stop .. ")"))
          or "interrupted"):match("^[^\n]*")
      end
    end
    if stop then return stop end
    local ok, signame = sched.unless_stopped(check_credits, g)
    if not ok then
      g.problems[#g.problems + 1] = { state = UNKNOWN, text = "credits not read: stopped (" .. signame .. ")" }
      return signame
    end
  end
  local ok, signame = sched.unless_stopped(check_sites, g)
  if not ok then return signame end
end

-- After a stop, or when its profile cannot be used: what a group did not
-- read is UNKNOWN, "not checked".
local function not_checked(g, signame, why)
  why = "not checked: " .. (why or ("stopped (" .. signame .. ")"))
  for _, h in ipairs(g.hosts) do
    if not h.state then h.state, h.reason = UNKNOWN, why end
  end
  for _, site in ipairs(g.sites) do
    if not site.state then site.state, site.reason = UNKNOWN, why end
  end
end

local stopped -- the name of the stop signal that ended the reads, or nil
local own = cdnctl.settings.profile
for _, g in ipairs(groups) do
  local ok, perr = true, nil
  if not stopped then ok, perr = require("cdnctl.plan").use_source(g, own) end
  current = g
  if not ok then
    -- a profile that cannot be used: its rows are UNKNOWN, the others are read
    g.problems[#g.problems + 1] = { state = UNKNOWN, text = tostring(perr) }
    not_checked(g, nil, tostring(perr))
  else
    stopped = stopped or check_group(g)
    if stopped then not_checked(g, stopped) end
  end
end

-- The verdict ---------------------------------------------------------------------

local state = OK
local counts = { [OK] = 0, [WARNING] = 0, [CRITICAL] = 0, [UNKNOWN] = 0 }
local findings, order, nhosts = {}, {}, 0
-- A finding: a state and its words; host findings are counted ("3 of 120 hosts ...").
local function note(st, what, is_host)
  state = worse(state, st)
  if st == OK then return end
  local k = NAMES[st] .. "|" .. what
  if not findings[k] then findings[k] = { state = st, what = what, host = is_host, n = 0 }; order[#order + 1] = k end
  findings[k].n = findings[k].n + 1
end
for _, g in ipairs(groups) do
  for _, h in ipairs(g.hosts) do
    nhosts = nhosts + 1
    counts[h.state] = counts[h.state] + 1
    note(h.state, h.reason or "", true)
  end
  for _, s in ipairs(g.sites) do
    note(s.state or UNKNOWN, (s.reason or "not checked") .. ": " .. s.site_url)
  end
  for _, p in ipairs(g.problems) do note(p.state, p.text .. (g.profile and (" (" .. g.profile .. ")") or "")) end
end
if #bad_rows > 0 then note(UNKNOWN, #bad_rows .. " bad rows in " .. pos[1]) end
if stopped then state = UNKNOWN end -- what was read is not the whole check

-- "CDN WARNING - 3 of 120 hosts credits almost exhausted | ok=117 warn=3 crit=0", worst first.
local function summary_text()
  table.sort(order, function(a, b)
    local fa, fb = findings[a], findings[b]
    if fa.state ~= fb.state then return RANK[fa.state] > RANK[fb.state] end
    return a < b
  end)
  local parts = {}
  for _, k in ipairs(order) do
    local f = findings[k]
    parts[#parts + 1] = f.host and string.format("%d of %d hosts %s", f.n, nhosts, f.what) or f.what
  end
  if #parts == 0 then parts[1] = string.format("%d hosts ok", nhosts) end
  if stopped then table.insert(parts, 1, "stopped (" .. stopped .. ") before the check ended") end
  return string.format("CDN %s - %s | ok=%d warn=%d crit=%d unknown=%d", NAMES[state], table.concat(parts, "; "),
    counts[OK], counts[WARNING], counts[CRITICAL], counts[UNKNOWN])
end

-- Prometheus textfile collector ------------------------------------------------

local function label(v) return (tostring(v or ""):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"')) end

local function prometheus_text()
  local out = {}
  local function metric(name, help, kind)
    out[#out + 1] = "# HELP " .. name .. " " .. help
    out[#out + 1] = "# TYPE " .. name .. " " .. kind
  end
  metric("cdnctl_shortpixel_host_status", "ShortPixel read-domain Status of a host (2 ok, 1 almost exhausted, 0 near limit, -1 exhausted, -2 exhausted long ago, -3 not reachable)", "gauge")
  for _, g in ipairs(groups) do
    for _, h in ipairs(g.hosts) do
      if h.status then
        out[#out + 1] = string.format('cdnctl_shortpixel_host_status{domain="%s",host="%s",profile="%s"} %d',
          label(h.domain), label(h.host), label(g.profile or ""), h.status)
      end
    end
  end
  metric("cdnctl_shortpixel_credits_remaining", "ShortPixel credits left on the account (monthly plus one-time)", "gauge")
  for _, g in ipairs(groups) do
    if g.credits then
      out[#out + 1] = string.format('cdnctl_shortpixel_credits_remaining{profile="%s"} %d', label(g.profile or ""),
        math.tointeger(g.credits.remaining) or math.floor(g.credits.remaining))
    end
  end
  metric("cdnctl_easyio_bandwidth_bytes", "Easy IO bandwidth of a site over the last 30 days, in bytes", "gauge")
  for _, g in ipairs(groups) do
    for _, s in ipairs(g.sites) do
      if s.bandwidth then
        out[#out + 1] = string.format('cdnctl_easyio_bandwidth_bytes{site="%s",profile="%s"} %d', label(s.site_url),
          label(g.profile or ""), math.tointeger(s.bandwidth) or math.floor(s.bandwidth))
      end
    end
  end
  metric("cdnctl_watch_success", "1 when the check ran (state OK, WARNING or CRITICAL), 0 when it could not (UNKNOWN)", "gauge")
  out[#out + 1] = "cdnctl_watch_success " .. (state == UNKNOWN and 0 or 1)
  return table.concat(out, "\n") .. "\n"
end

local function json_text(summary)
  local doc = { state = NAMES[state], exit = state, summary = summary, warn_percent = WARN, critical_percent = CRIT,
                accounts = {}, hosts = {}, sites = {}, bad_rows = bad_rows, notes = notes }
  for _, g in ipairs(groups) do
    local problems = {}
    for _, p in ipairs(g.problems) do problems[#problems + 1] = { state = NAMES[p.state], text = p.text } end
    doc.accounts[#doc.accounts + 1] = { profile = g.profile or json.null, credits = g.credits, easyio_bandwidth = g.bandwidth,
      problems = problems }
    for _, h in ipairs(g.hosts) do
      doc.hosts[#doc.hosts + 1] = { profile = g.profile or json.null, domain = h.domain, host = h.host, status = h.status,
        status_name = h.status_name, state = NAMES[h.state], reason = h.reason }
    end
    for _, s in ipairs(g.sites) do
      doc.sites[#doc.sites + 1] = { profile = g.profile or json.null, site_url = s.site_url, alias = s.alias,
        bandwidth = s.bandwidth, state = NAMES[s.state or UNKNOWN], reason = s.reason }
    end
  end
  for _, k in ipairs { "accounts", "hosts", "sites", "bad_rows", "notes" } do
    if #doc[k] == 0 then doc[k] = json.empty_array end
  end
  return json.encode(doc) .. "\n"
end

local summary = summary_text()
if opts.prometheus then
  local okw, werr = script.write_file(opts.prometheus, prometheus_text(), tonumber("644", 8))
  if not okw then
    state = UNKNOWN
    summary = "CDN UNKNOWN - cannot write " .. opts.prometheus .. ": " .. tostring(werr)
  end
end
if opts.json then
  io.stderr:write(summary, "\n")
  io.stdout:write(json_text(summary))
elseif stopped then
  io.stdout:write(summary, "\n") -- stopped: the one status line, nothing after it
else
  io.stdout:write(summary, "\n")
  for _, g in ipairs(groups) do
    for _, h in ipairs(g.hosts) do
      if h.state ~= OK then io.stdout:write(NAMES[h.state], " ", h.host, ": ", h.reason or "", "\n") end
    end
    for _, s in ipairs(g.sites) do
      if s.state ~= OK then io.stdout:write(NAMES[s.state or UNKNOWN], " ", s.site_url, ": ", s.reason or "", "\n") end
    end
    for _, p in ipairs(g.problems) do io.stdout:write(NAMES[p.state], " ", p.text, "\n") end
  end
  for _, b in ipairs(bad_rows) do io.stdout:write("UNKNOWN ", b, "\n") end
end
for _, n in ipairs(notes) do io.stderr:write(n, "\n") end
cdnctl.exit(state)
