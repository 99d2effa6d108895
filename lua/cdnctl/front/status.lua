-- cdnctl.front.status: `cdnctl status INVENTORY.csv [--json | --csv]
-- [--sort COLUMN] [--target client:NAME | profile:NAME ...] [--concurrency N]`.
-- One row per client over every profile the inventory names: its state,
-- hosts ok of total (the worst named), the account's credits left, the
-- Easy IO site and its 30-day bandwidth, and drift (how many actions a
-- plan would make). The reads are plan's (cdnctl.plan.read with the
-- account's figures): once per host and once per account. Sorted worst
-- first. Exit: 0 shown, 1 something could not be read, 2 usage.

local plan = require "cdnctl.plan"
local planfront = require "cdnctl.front.plan"
local script = require "cdnctl.kit.script"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local json = require "cdnctl.json"

local M = {}

M.USAGE = [[
usage: cdnctl status INVENTORY.csv [--json | --csv] [--sort COLUMN]
                     [--target client:NAME | profile:NAME ...] [--concurrency N]
  One row per client, over every profile the inventory names: its state
  (OK, WARNING, CRITICAL, UNKNOWN), hosts ok of total (the worst named), the
  account's credits left, the Easy IO site (live, pending, missing,
  unreadable) and its bandwidth over the last 30 days, and drift (the
  actions `cdnctl plan` would make). Sorted worst first.
  --json | --csv          the rows as JSON or CSV on standard output
  --sort COLUMN           state (default), client, profile, hosts, credits, site, bandwidth, drift
  --target client:NAME    only this client (repeatable); --target profile:NAME its profile's
  --concurrency N         reads in flight (default 16)
exit status: 0 shown, 1 something could not be read, 2 usage error]]

M.OPTIONS = { "--json", "--csv", "--sort", "--target", "--concurrency", "--help", "-h" }
M.COLUMNS = { "state", "client", "profile", "hosts", "credits", "site", "bandwidth", "drift" }

local SPEC = { ["--json"] = "flag", ["--csv"] = "flag", ["--sort"] = "value", ["--target"] = "list",
               ["--concurrency"] = "value" }
local RANK = { OK = 0, WARNING = 1, UNKNOWN = 2, CRITICAL = 3 }

local function worse(a, b) return RANK[b] > RANK[a] and b or a end

-- A host's state and words: read_domain's status, and whether this account holds it.
local function host_state(h, absent)
  if not h or h.err then return "UNKNOWN", "not read: " .. tostring(h and h.err or "no read") end
  if absent then return h.owned and "WARNING" or "OK", h.owned and "still associated" or "offboarded" end
  if not h.owned then return "WARNING", h.has_account and "associated with another account" or "not associated" end
  local s = h.status
  if s == -1 or s == -2 or s == -3 then return "CRITICAL", tostring(h.status_name) end
  if s ~= 2 then return "WARNING", tostring(h.status_name) end
  return "OK", "ok"
end

-- The hosts of a client -> state, ok, total, "worst words"
local function hosts_of(c, w)
  local state, ok, worst = "OK", 0, nil
  for _, host in ipairs(c.hosts) do
    local hs, words = host_state(w and w.hosts[host], c.state == "absent")
    if hs == "OK" then ok = ok + 1 end
    if RANK[hs] > RANK[state] or (hs ~= "OK" and not worst) then worst = host .. ": " .. words end
    state = worse(state, hs)
  end
  return state, ok, #c.hosts, worst
end

-- The percent of credits left of a profile's account -> number | "unlimited" | nil, why
local function credits_of(w)
  if not w or not w.credits then return nil, w and w.credits_err or "not read" end
  local r = w.credits
  if r.Unlimited == "true" or r.Unlimited == true then return "unlimited" end
  local quota = (cdnctl.number(r.APICallsQuota) or 0) + (cdnctl.number(r.APICallsQuotaOneTime) or 0)
  local used = (cdnctl.number(r.APICallsMade) or 0) + (cdnctl.number(r.APICallsMadeOneTime) or 0)
  if quota <= 0 then return 0 end
  return math.max(0, quota - used) * 100 / quota
end

-- The site of a client -> words (live, pending, missing, unreadable, absent), bandwidth, state
local function site_of(c, w)
  if not c.easyio then return "-", nil, "OK" end
  if not w or not w.sites then return "unreadable", nil, "UNKNOWN" end
  local site
  for _, s in ipairs(w.sites) do
    if type(s) == "table" and check.same_site(s.site_url, c.site_url) then site = s; break end
  end
  if c.state == "absent" then return site and "still there" or "absent", nil, site and "WARNING" or "OK" end
  if not site then return "missing", nil, "CRITICAL" end
  local bw = math.tointeger(tonumber(site.bandwidth)) or tonumber(site.bandwidth)
  if site.pending == true or site.pending == 1 or site.pending == "1" then return "pending", bw, "WARNING" end
  return "live", bw, "OK"
end

-- The drift of each client: how many of the plan's actions are its.
local function drift_of(p)
  local n = {}
  for _, a in ipairs(p.actions) do
    local k = tostring(a.client) .. "\0" .. tostring(a.line)
    n[k] = (n[k] or 0) + 1
  end
  return n
end

-- M.rows(clients, world, p) -> the status rows, pure
function M.rows(clients, world, p)
  local drift, rows = drift_of(p), {}
  for _, c in ipairs(clients) do
    local w = world[c.profile or ""]
    local r = { client = c.name, profile = c.profile, line = c.line, site_url = c.easyio and c.site_url or nil,
                absent = c.state == "absent" or nil }
    local state = "OK"
    if c.shortpixel then
      state, r.hosts_ok, r.hosts_total, r.worst_host = hosts_of(c, w)
      local left, why = credits_of(w)
      r.credits_left_percent, r.credits_err = left, why
      if not left then state = worse(state, "UNKNOWN")
      elseif type(left) == "number" and left <= 0 then state = worse(state, "CRITICAL")
      elseif type(left) == "number" and left < 10 then state = worse(state, "WARNING") end
    end
    local sstate
    r.site, r.bandwidth, sstate = site_of(c, w)
    r.drift = drift[tostring(c.name) .. "\0" .. tostring(c.line)] or 0
    if r.drift > 0 then state = worse(state, "WARNING") end
    r.state = worse(state, sstate)
    rows[#rows + 1] = r
  end
  return rows
end

local function human_bytes(n)
  if not n then return "-" end
  local units, i = { "B", "KiB", "MiB", "GiB", "TiB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and string.format("%d B", n) or string.format("%.1f %s", n, units[i])
end

-- A row's cells as people read them.
local function cells(r)
  local credits = r.credits_left_percent
  return {
    state = r.state, client = r.client, profile = r.profile or "(run's source)",
    hosts = r.hosts_total and (string.format("%d/%d %s", r.hosts_ok, r.hosts_total, r.absent and "offboarded" or "ok")
      .. (r.worst_host and (" (" .. r.worst_host .. ")") or "")) or "-",
    credits = credits == nil and (r.hosts_total and "?" or "-") or type(credits) == "string" and credits
      or string.format("%.0f %%", credits),
    site = r.site, bandwidth = human_bytes(r.bandwidth), drift = tostring(r.drift),
  }
end

-- The order: by a column, the worst first (state, drift, bandwidth: highest first).
local function sorter(column)
  local function key(r)
    if column == "state" then return RANK[r.state] end
    if column == "drift" then return r.drift end
    if column == "bandwidth" then return r.bandwidth or -1 end
    if column == "hosts" then return r.hosts_total and (r.hosts_total - r.hosts_ok) or -1 end
    if column == "credits" then local c = r.credits_left_percent; return type(c) == "number" and -c or 1 end
    return nil
  end
  return function(a, b)
    local ka, kb = key(a), key(b)
    if ka ~= nil and ka ~= kb then return ka > kb end
    if ka == nil then
      local sa, sb = tostring(a[column] or ""), tostring(b[column] or "")
      if sa ~= sb then return sa < sb end
    end
    if RANK[a.state] ~= RANK[b.state] then return RANK[a.state] > RANK[b.state] end
    return (a.line or 0) < (b.line or 0)
  end
end

-- The table for people: columns padded to their widest cell.
function M.text(rows)
  local all = { {} }
  for _, name in ipairs(M.COLUMNS) do all[1][name] = name:upper() end
  for _, r in ipairs(rows) do all[#all + 1] = cells(r) end
  local width = {}
  for _, name in ipairs(M.COLUMNS) do
    width[name] = 0
    for _, row in ipairs(all) do width[name] = math.max(width[name], utf8.len(row[name]) or #row[name]) end
  end
  local out = {}
  for _, row in ipairs(all) do
    local line = {}
    for i, name in ipairs(M.COLUMNS) do
      local cell = row[name]
      line[i] = i == #M.COLUMNS and cell or (cell .. string.rep(" ", width[name] - (utf8.len(cell) or #cell)))
    end
    out[#out + 1] = table.concat(line, "  ")
  end
  return table.concat(out, "\n") .. "\n"
end

function M.csv(rows)
  local head = {}
  for _, n in ipairs(M.COLUMNS) do head[n] = n end
  local out = { csv.format_row(head, M.COLUMNS) }
  for _, r in ipairs(rows) do out[#out + 1] = csv.format_row(cells(r), M.COLUMNS) end
  return table.concat(out)
end

function M.json(rows, path)
  local list = {}
  for i, r in ipairs(rows) do
    list[i] = { state = r.state, client = r.client, profile = r.profile or json.null, line = r.line,
      hosts_ok = r.hosts_ok or json.null, hosts_total = r.hosts_total or json.null, worst_host = r.worst_host or json.null,
      credits_left_percent = r.credits_left_percent or json.null, site = r.site, site_url = r.site_url or json.null,
      bandwidth = r.bandwidth or json.null, drift = r.drift }
  end
  return json.encode({ inventory = path, clients = #list > 0 and list or json.empty_array }) .. "\n"
end

local function usage_error(msg)
  io.stderr:write("cdnctl status: ", msg, "\n", M.USAGE, "\n")
  return script.EXIT_USAGE
end

-- The command line's checks -> opts, path | nil, message
local function parse(args)
  local opts, pos = planfront.parse(args, M.USAGE, SPEC)
  if not opts then return nil, pos end
  if opts.help then return opts end
  if #pos ~= 1 then return nil, #pos == 0 and "an inventory CSV is needed" or "one inventory only" end
  if opts.json and opts.csv then return nil, "--json or --csv, not both" end
  opts.sort = opts.sort or "state"
  local known = false
  for _, c in ipairs(M.COLUMNS) do known = known or c == opts.sort end
  if not known then
    local near = require("cdnctl.suggest").closest(opts.sort, M.COLUMNS)
    return nil, "--sort: no column '" .. opts.sort .. "'" .. (near and ("; did you mean " .. near .. "?") or "")
      .. " (" .. table.concat(M.COLUMNS, ", ") .. ")"
  end
  local c = tonumber(opts.concurrency or "16")
  if not c or c < 1 or c > 256 or c ~= math.floor(c) then return nil, "--concurrency: an integer from 1 to 256" end
  return opts, pos[1]
end

-- M.main(args): args the words after "status".
function M.main(args)
  local opts, path = parse(args)
  if not opts then return usage_error(path) end
  if opts.help then io.stdout:write(M.USAGE, "\n"); return 0 end
  opts.account = true
  local p, err, status = planfront.compute(path, opts)
  if not p then io.stderr:write("cdnctl status: ", err, "\n"); return status end
  for _, pr in ipairs(p.problems) do io.stderr:write("cdnctl status: ", path, ":", pr.message, "\n") end
  local rows = M.rows(p.clients, p.world, p)
  table.sort(rows, sorter(opts.sort))
  local text = opts.json and M.json(rows, path) or opts.csv and M.csv(rows) or M.text(rows)
  local ok, werr = script.write_stdout(text)
  if not ok then io.stderr:write("cdnctl status: ", tostring(werr), "\n"); return 1 end
  local unread = #p.problems > 0
  for _, r in ipairs(rows) do unread = unread or r.state == "UNKNOWN" end
  return unread and 1 or 0
end

return M
