-- scripts/report.lua: a usage report of ShortPixel domains and Easy IO sites.
--
--   cdnctl scripts/report.lua DOMAINS.csv [--csv FILE] [--html FILE] [--json FILE]
--          [--title TEXT] [--all-sites] [--concurrency N] [--profile NAME]
--
-- DOMAINS.csv has a header and a `domain` column (optional: `service` --
-- rows for easyio only have no ShortPixel part -- and `shortpixel_key`, a
-- per-client key; onboard.lua's CSV works as it is). For every domain, for
-- its apex and its www (separate domains to ShortPixel): read_domain's status,
-- and read_domain_cdn_usage's traffic and credits, this month and per day.
-- For the Easy IO account: the client's sites (the CSV's site_url column
-- where it has one, else the sites whose host is the apex or www of one of
-- its domains; --all-sites: every site) with bandwidth and savings. The
-- accounts' credits, days to the monthly reset and CDN traffic quota come
-- from the answers read anyway. A table on the terminal; --csv and --json
-- carry exact integers (bytes, credits); --html is one self-contained page
-- with inline SVG charts (no script, font or style from the network).
-- Exit: 0 everything read, 3 some hosts, rows or sites could not be read
-- (they appear with the reason), 2 bad usage.

local script = require "cdnctl.kit.script"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local fs = require "cdnctl.fs"
local json = require "cdnctl.json"
local codec = require "cdnctl.codec"
local host = require "cdnctl.host"
local sched = require "cdnctl.sched"

-- A stop signal never cuts this script in the middle of its Lua code (the
-- hook is off): it stops the reads (cdnctl.parallel's, or sched.unless_stopped's
-- for a plain one), and the report of what was read is written as usual.
host.arm(false)

local USAGE = "usage: cdnctl scripts/report.lua DOMAINS.csv [--csv FILE] [--html FILE] [--json FILE] "
  .. "[--title TEXT] [--all-sites] [--concurrency N] [--profile NAME] [--per-client DIR] [--client-view]"

local HELP = USAGE .. [[


For every domain of DOMAINS.csv (a header with a 'domain' column; optional
'service' and 'shortpixel_key' columns, as onboard.lua reads them), for its
apex and its www: ShortPixel's status (read-domain, in words), the CDN traffic
this month and per day and the credits used (read-domain-cdn-usage); each
account's credits left, days to the monthly reset and CDN traffic quota. For
Easy IO: the client's sites' bandwidth and savings (the CSV's 'site_url'
column where a row has one, else the sites whose host is the row's domain or
its www). A host without an account: its free CDN pool (read-domain), in
its note and in --json.

  --csv FILE       one row per host (record=host), per host and day
                   (record=day) and per Easy IO site (record=site); exact
                   integers (bytes, credits)
  --json FILE      the same as one JSON document, exact integers
  --html FILE      a self-contained page with SVG charts: daily traffic per
                   domain, credits per day, savings per site, the statuses
  --title TEXT     the page's heading and <title> (default "CDN report")
  --all-sites      every Easy IO site of the account, not only the client's
  --per-client DIR one client-ready page per client (the CSV's 'client'
                   column, else the domain) into DIR (created if missing),
                   named after the client (ASCII letters, digits, - and .;
                   names that clean up alike get -2, -3), each written
                   atomically, with the client view on
  --client-view    the pages leave out the agency's e-mail, the shared credit
                   pool and error text: a host that cannot be read is "not
                   available" (the reason stays in --csv and --json)
  --concurrency N  requests in flight at most (default 8)
  --profile NAME   use this profile's keys

Without an Easy IO key (the source in use has none) the Easy IO part is
skipped. Output files are checked before
the first request and written atomically (a device or a FIFO in place). Units
on the terminal and the page are decimal (1 GB = 10^9 bytes). NO_COLOR turns
colours off. Exit status: 0 everything read, 3 some hosts, rows or sites could
not be read (listed with the reason), 2 usage.

]] .. script.KEYS_HELP .. "\n\n" .. script.OUTPUTS_HELP

local argv = { ... }
for _, a in ipairs(argv) do
  if a == "--help" or a == "-h" then io.stdout:write(HELP, "\n"); cdnctl.exit(0) end
end
local opts, pos = script.args(argv, {
  ["--csv"] = "value", ["--html"] = "value", ["--json"] = "value", ["--title"] = "value", ["--all-sites"] = "flag",
  ["--concurrency"] = "integer", ["--profile"] = "value", ["--per-client"] = "value", ["--client-view"] = "flag",
}, USAGE)

local function usage_error(msg)
  io.stderr:write(msg, "\n", USAGE, "\n")
  cdnctl.exit(script.EXIT_USAGE)
end
if #pos ~= 1 then usage_error(#pos == 0 and "a DOMAINS.csv file is needed" or "only one CSV file, please") end
local ok, perr = script.use_profile(opts.profile)
if not ok then io.stderr:write(perr, "\n"); cdnctl.exit(script.EXIT_USAGE) end

-- The outputs, checked before anything is read or sent (script.outputs).
local outs, oerr = script.outputs({ ["--csv"] = opts.csv, ["--json"] = opts.json, ["--html"] = opts.html }, { pos[1] })
if not outs then script.refuse(oerr) end
-- --per-client DIR: a folder (made if missing), never a file or the input.
if opts.per_client then
  local fs = require "cdnctl.fs"
  local st, in_st = fs.stat(opts.per_client), fs.stat(pos[1])
  if st and st.type ~= "dir" then script.refuse("--per-client " .. opts.per_client .. ": is not a folder (the pages go into a folder)") end
  if st and in_st and st.id == in_st.id then script.refuse("--per-client " .. opts.per_client .. ": is the input") end
  if not st then
    local made, merr = fs.mkdir_p(opts.per_client)
    if not made then script.refuse("--per-client " .. opts.per_client .. ": cannot make the folder: " .. tostring(merr)) end
  end
end
local CLIENT_VIEW = opts.client_view or opts.per_client ~= nil

-- Reading the CSV ------------------------------------------------------------

local text, rerr = script.read_input(pos[1])
if not text then script.refuse("cannot read " .. tostring(rerr)) end
local rows, header = csv.parse_table(text)
if not rows then usage_error(pos[1] .. ": " .. header) end
local has = {}
for _, h in ipairs(header) do has[h] = true end
if not has.domain then usage_error(pos[1] .. ": the header has no 'domain' column") end

-- A name as people read it: Unicode for an internationalised one.
local function unicode(name)
  if not name or not name:find("xn--", 1, true) then return name end
  return codec.idna_unicode(name) or name
end

-- A site URL with its host in Unicode (https://www.bücher-demo.de/).
local function site_url_shown(url)
  local scheme, host, rest = tostring(url):match("^(%a+://)([^/:]+)(.*)$")
  if not host then return tostring(url) end
  return scheme .. unicode(host) .. rest
end

-- The client's Easy IO sites: by the CSV's site_url, else by host (apex or www).
local wanted_sites, wanted_hosts = {}, {}
-- The client each wanted site belongs to (the row's 'client', else its domain).
local client_of_site, client_of_host, client_order, client_seen = {}, {}, {}, {}
local function client_name(row, name)
  local c = row.client and row.client:match("^%s*(.-)%s*$") or ""
  c = c ~= "" and c or check.hosts(name)[1]
  if not client_seen[c] then client_seen[c] = true; client_order[#client_order + 1] = c end
  return c
end
local function want_sites_of(row, name)
  local url = row.site_url and row.site_url ~= "" and check.site_key(row.site_url)
  local client = client_name(row, name)
  if url then wanted_sites[url], client_of_site[url] = true, client_of_site[url] or client
  elseif name then
    for _, h in ipairs(check.hosts(name)) do wanted_hosts[h], client_of_host[h] = true, client_of_host[h] or client end
  end
end

-- domains: {domain =, line =, hosts = {{host =, ...}}, error =}
local domains, hosts, seen = {}, {}, {}
for _, row in ipairs(rows) do
  local d = { domain = row.domain, line = csv.line(row), hosts = {} }
  local service = (row.service or ""):lower()
  local name, derr = check.domain(row.domain or "", "domain")
  local key, kerr
  if row.shortpixel_key and row.shortpixel_key ~= "" then key, kerr = check.key(row.shortpixel_key, "shortpixel_key") end
  if not csv.problem(row) and name and not script.other_profile(row.profile, pos[1]) then want_sites_of(row, name) end
  local other = script.other_profile(row.profile, pos[1])
  if csv.problem(row) then d.error = csv.problem(row)
  elseif other then d.error = "line " .. csv.line(row) .. ": " .. other
  elseif not name then d.error = "line " .. csv.line(row) .. ": " .. derr
  elseif service ~= "" and service ~= "shortpixel" and service ~= "easyio" and service ~= "both" then
    d.error = "line " .. csv.line(row) .. ": service: unknown service '" .. row.service .. "' (shortpixel, easyio or both)"
  elseif kerr then d.error = "line " .. csv.line(row) .. ": " .. kerr
  elseif service == "easyio" then d = nil -- an Easy IO client only: nothing to read at ShortPixel
  else
    local apex = check.hosts(name)[1]
    if seen[apex] then
      io.stderr:write(pos[1], ":", csv.line(row), ": ", apex, " already appears on line ", seen[apex], ": reported once\n")
      d = nil
    else
      seen[apex] = csv.line(row)
      d.domain, d.domain_unicode, d.client = apex, unicode(apex), client_name(row, name)
      for _, h in ipairs(check.hosts(apex)) do
        local hr = { host = h, host_unicode = unicode(h), domain = apex, line = csv.line(row), key = key }
        d.hosts[#d.hosts + 1] = hr
        hosts[#hosts + 1] = hr
      end
    end
  end
  if d then domains[#domains + 1] = d end
end
for _, d in ipairs(domains) do
  if d.error then io.stderr:write(pos[1], ": ", d.error, "\n") end
end

-- Reading the services ---------------------------------------------------------

local MONTH = os.date("!%Y-%m")
local TODAY = os.date("!%Y-%m-%d")

-- A counter as a whole number: the services send numbers or decimal strings
-- ("289806.00000000000"); anything else counts as 0.
local function int(v)
  local n = cdnctl.number(v)
  return n and (math.tointeger(n) or math.floor(n)) or 0
end

-- An error's text without the binding's name (the reason shown to people).
local function reason(err)
  if type(err) ~= "table" then return tostring(err) end
  local s = tostring(err.message)
  if err.kind == "api" and math.type(err.code) == "integer" then s = s .. " (API code " .. err.code .. ")"
  elseif err.kind ~= "api" then s = s .. " (" .. tostring(err.kind) .. (err.http_status and err.http_status ~= 0
    and (", HTTP " .. err.http_status) or "") .. ")" end
  return s
end

-- The ShortPixel accounts the hosts belong to, from their usage answers
-- (read anyway): credits (monthly plus one-time), days to the monthly
-- reset, CDN traffic used and its quota. Keyed by the account's e-mail.
local accounts, account_order = {}, {}
local function note_account(hr, u)
  local email = type(u.Email) == "string" and u.Email ~= "" and u.Email or "(this key's account)"
  hr.account = email
  if accounts[email] then return end
  local quota = int(u.APIQuota) + int(u.APIQuotaOneTime)
  local used = int(u.PaidAPICalls) + int(u.PaidAPICallsOneTime)
  accounts[email] = { email = email, credits_quota = quota, credits_used = used,
    credits_remaining = math.max(0, quota - used), days_to_reset = cdnctl.number(u.DaysToReset),
    cdn_traffic_used_bytes = int(u.UsedCDNTraffic), cdn_traffic_quota_bytes = int(u.CDNQuota),
    cdn_traffic_remaining_bytes = int(u.RemainingCDNTraffic), unlimited = u.Unlimited == "true" or u.Unlimited == true }
  account_order[#account_order + 1] = email
end

-- Traffic, paid and free credits summed over the days that `keep` accepts.
local function sum_days(days, keep)
  local traffic, paid, free = 0, 0, 0
  for date, v in pairs(days or {}) do
    if keep(date) then traffic, paid, free = traffic + v.traffic, paid + v.paid, free + v.free end
  end
  return traffic, paid, free
end

-- Whether date is a day of the calendar written YYYY-MM-DD (2026-02-30 is not).
local function is_day(date)
  local y, m, d = date:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return false end
  local t = os.time { year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 }
  return os.date("%Y-%m-%d", t) == date
end

-- The days of a usage answer u: {[YYYY-MM-DD] = {traffic, paid, free}}; a
-- key that is not such a day is skipped, and said once for the host on stderr.
local function usage_days(hr, u)
  local days, skipped = {}, {}
  local function day(date)
    if type(date) ~= "string" or not is_day(date) then
      skipped[#skipped + 1] = "'" .. tostring(date) .. "'"
      return nil
    end
    days[date] = days[date] or { traffic = 0, paid = 0, free = 0 }
    return days[date]
  end
  for date, v in pairs(type(u.UsedCDN) == "table" and u.UsedCDN or {}) do
    local dv = day(date)
    if dv then dv.traffic = int(type(v) == "table" and v.Traf or v) end
  end
  for date, v in pairs(type(u.UsedCredits) == "table" and u.UsedCredits or {}) do
    local dv = type(v) == "table" and day(date)
    if dv then dv.paid, dv.free = int(v.Paid), int(v.Free) end
  end
  if #skipped > 0 then
    table.sort(skipped)
    io.stderr:write(string.format("report.lua: %s: usage dates that are not YYYY-MM-DD, skipped: %s\n", hr.host,
      table.concat(skipped, ", ", 1, math.min(#skipped, 10)) .. (#skipped > 10 and (" and " .. #skipped - 10 .. " more") or "")))
  end
  return days
end

local function read_host(hr)
  local st, serr = shortpixel.read_domain(hr.host)
  if st then hr.status, hr.status_name = cdnctl.ops.status_code(st.Status), st.status_name end
  if st and not st.HasAccount and cdnctl.number(st.CDNQuota) then -- a domain nobody owns: its free CDN pool
    hr.free_pool, hr.free_used = int(st.CDNQuota), int(st.UsedCDN)
  end
  local u, uerr = shortpixel.read_domain_cdn_usage(hr.host, { key = hr.key })
  local problems = {}
  if not st then problems[#problems + 1] = "status: " .. reason(serr) end
  if u then
    note_account(hr, u)
    local days = usage_days(hr, u)
    hr.days = days
    hr.traffic_month, hr.credits_paid_month, hr.credits_free_month =
      sum_days(days, function(date) return date:sub(1, 7) == MONTH end)
  else
    local why = reason(uerr)
    if type(uerr) == "table" and uerr.code == "not_owner" then
      why = "not associated with this API key: " .. why
    end
    problems[#problems + 1] = "usage: " .. why
  end
  if #problems > 0 then hr.error = table.concat(problems, "; ") end
  return hr
end

-- A host or site that could not be read wholly counts as failed on the progress line.
local function not_read(r) return r.error ~= nil end
local _, herrs = cdnctl.parallel(hosts, read_host, { concurrency = opts.concurrency or 8,
  label = "ShortPixel hosts", failed = not_read })
local stopped = host.stop_signal() ~= 0 and ("stopped (" .. select(2, host.stop_signal()) .. ")") or nil
for i, hr in ipairs(hosts) do
  if herrs[i] then hr.error = "not read: " .. herrs[i]:match("^[^\n]*") end
  if not hr.error and not hr.days then hr.error = "not read (" .. (stopped or "interrupted") .. ")" end
end

-- Is a site of show_sites one of the client's (or --all-sites)?
local function client_site(s)
  if opts.all_sites then return true end
  local url = tostring(s.site_url)
  if wanted_sites[check.site_key(url) or url] then return true end
  local host = url:match("^%a+://([^/:]+)")
  return host ~= nil and wanted_hosts[host:lower()] == true
end

-- Easy IO: the client's sites, then each site's savings by alias.
local ez = { sites = {} }
local read, shown, ezerr = sched.unless_stopped(easyio.show_sites)
if not read then
  ez.error = "show_sites: not read: stopped (" .. shown .. ")"
elseif shown then
  ez.quota, ez.licensed, ez.live_sites = int(shown.quota), int(shown.licensed), int(shown.live_sites)
  ez.others = 0
  for _, s in ipairs(type(shown.sites) == "table" and shown.sites or {}) do
    if client_site(s) then
      ez.sites[#ez.sites + 1] = { site_id = int(s.site_id), site_url = tostring(s.site_url), alias = tostring(s.alias),
        bandwidth = int(s.bandwidth), live = tostring(s.live) == "1" }
    else
      ez.others = ez.others + 1
    end
  end
  local _, serrs = cdnctl.parallel(ez.sites, function(s)
    local r, err = easyio.savings(s.alias)
    if not r then s.error = "savings: " .. reason(err); return s end
    s.original, s.savings, s.delivered = int(r.original), int(r.savings), int(r.bandwidth)
    s.saved_percent = s.original > 0 and s.savings * 100 / s.original or nil
    return s
  end, { concurrency = opts.concurrency or 8, label = "Easy IO sites", failed = not_read })
  for i, s in ipairs(ez.sites) do
    if serrs[i] then s.error = "not read: " .. serrs[i]:match("^[^\n]*") end
    if not s.error and not s.original then s.error = "not read (interrupted)" end
  end
elseif type(ezerr) == "table" and ezerr.kind == "invalid" and tostring(ezerr.message):find("no Easy IO API key", 1, true) then
  ez.skipped = "no Easy IO API key (EASYIO_API_KEY or a profile): the Easy IO part is skipped"
else
  ez.error = "show_sites: " .. reason(ezerr)
end

-- The 30 days ending with the latest of today and the newest date in the data.
local function day_range()
  local last = TODAY
  for _, hr in ipairs(hosts) do
    for date in pairs(hr.days or {}) do if date > last then last = date end end
  end
  local y, m, d = last:match("^(%d+)-(%d+)-(%d+)$")
  local t = os.time { year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 }
  local days = {}
  for k = 29, 0, -1 do days[#days + 1] = os.date("%Y-%m-%d", t - k * 86400) end
  return days
end

-- One period for the whole page: the 30 days ending today (or the newest
-- date in the data); the hosts' figures over it.
local PERIOD = day_range()
local IN_PERIOD = {}
for _, date in ipairs(PERIOD) do IN_PERIOD[date] = true end
for _, hr in ipairs(hosts) do
  hr.traffic_period, hr.credits_paid_period, hr.credits_free_period =
    sum_days(hr.days, function(date) return IN_PERIOD[date] end)
end
local TITLE = opts.title or "CDN report"

local failed_hosts, failed_rows, failed_sites = 0, 0, 0
for _, d in ipairs(domains) do if d.error then failed_rows = failed_rows + 1 end end
for _, hr in ipairs(hosts) do if hr.error then failed_hosts = failed_hosts + 1 end end
for _, s in ipairs(ez.sites) do if s.error then failed_sites = failed_sites + 1 end end
local any_failed = failed_hosts + failed_rows + failed_sites > 0 or ez.error ~= nil

-- Units ----------------------------------------------------------------------

local function human_bytes(n)
  if n == nil then return "" end
  local units = { "B", "kB", "MB", "GB", "TB", "PB" }
  local v, u = n, 1
  while v >= 1000 and u < #units do v = v / 1000; u = u + 1 end
  if u == 1 then return string.format("%d B", n) end
  return string.format("%.2f %s", v, units[u])
end

local function human_int(n)
  if n == nil then return "" end
  local s = tostring(n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function pct(p) return p and string.format("%.1f %%", p) or "" end

local STATUS_WORDS = {
  [2] = "ok", [1] = "credits almost exhausted", [-1] = "credits exhausted",
  [-2] = "credits exhausted some time ago", [-3] = "domain not reachable",
}
local function status_words(hr)
  if hr.status == nil then return "not read" end
  return hr.status_name or STATUS_WORDS[hr.status] or ("status " .. hr.status)
end

-- The terminal ---------------------------------------------------------------------

local color = fs.isatty(1) and (os.getenv("NO_COLOR") or "") == "" and os.getenv("TERM") ~= "dumb"
local function paint(code, s) return color and ("\27[" .. code .. "m" .. s .. "\27[0m") or s end
local function status_color(st)
  if st == 2 then return "32" elseif st == 1 then return "33" elseif st == nil then return "2" end
  return "31"
end

-- A table: columns {{title, align}}, rows of strings; paint(row, col, text) colours a cell.
local function print_table(cols, trows, painter)
  local w = {}
  for c, col in ipairs(cols) do
    w[c] = utf8.len(col[1])
    for _, r in ipairs(trows) do w[c] = math.max(w[c], utf8.len(r[c]) or #r[c]) end
  end
  local function line(r, ri)
    local cells = {}
    for c, col in ipairs(cols) do
      local s = r[c]
      local padding = string.rep(" ", w[c] - (utf8.len(s) or #s))
      local shown = (ri and painter) and painter(ri, c, s) or s
      cells[c] = col[2] == "right" and (padding .. shown) or (c == #cols and shown or shown .. padding)
    end
    return table.concat(cells, "  ")
  end
  local head = {}
  for c, col in ipairs(cols) do head[c] = col[1] end
  io.stdout:write(paint("1", line(head)), "\n")
  for ri, r in ipairs(trows) do io.stdout:write(line(r, ri), "\n") end
end

io.stdout:write(paint("1", "ShortPixel"), string.format(" (this month: %s, UTC)\n", MONTH))
local trows, tstatus = {}, {}
for _, d in ipairs(domains) do
  if d.error then
    trows[#trows + 1] = { tostring(d.domain ~= "" and d.domain or "(empty)"), "", "not read", "", "", "", d.error }
  else
    for i, hr in ipairs(d.hosts) do
      local shown = d.domain_unicode ~= d.domain and (d.domain_unicode .. " (" .. d.domain .. ")") or d.domain
      trows[#trows + 1] = { i == 1 and shown or "", hr.host_unicode, status_words(hr), human_bytes(hr.traffic_month),
        human_int(hr.credits_paid_month), human_int(hr.credits_free_month),
        (hr.free_pool and ("free CDN pool: " .. human_bytes(hr.free_used) .. " of " .. human_bytes(hr.free_pool)
          .. " used" .. (hr.error and "; " or "")) or "") .. (hr.error or "") }
      tstatus[#trows] = hr.status
    end
  end
end
if #trows == 0 then io.stdout:write("  no ShortPixel domains in ", pos[1], "\n")
else
  print_table({ { "DOMAIN" }, { "HOST" }, { "STATUS" }, { "TRAFFIC", "right" }, { "CREDITS", "right" },
    { "FREE", "right" }, { "NOTE" } }, trows, function(ri, c, s)
    if c == 3 then return paint(trows[ri][3] == "not read" and "31" or status_color(tstatus[ri]), s) end
    if c == 7 and s ~= "" then return paint("31", s) end
    return s
  end)
end

if #account_order > 0 then
  io.stdout:write("\n", paint("1", "ShortPixel accounts"), "\n")
  local arows = {}
  for _, email in ipairs(account_order) do
    local a = accounts[email]
    arows[#arows + 1] = { a.email, human_int(a.credits_remaining) .. " of " .. human_int(a.credits_quota),
      tostring(a.days_to_reset or "?"), human_bytes(a.cdn_traffic_used_bytes) .. " of " .. human_bytes(a.cdn_traffic_quota_bytes) }
  end
  print_table({ { "ACCOUNT" }, { "CREDITS LEFT", "right" }, { "DAYS TO RESET", "right" }, { "CDN TRAFFIC (MONTH)", "right" } }, arows)
end

io.stdout:write("\n", paint("1", "Easy IO"), " (bandwidth: last 30 days)\n")
if ez.skipped then io.stdout:write("  ", ez.skipped, "\n")
elseif ez.error then io.stdout:write("  ", paint("31", ez.error), "\n")
elseif #ez.sites == 0 then
  io.stdout:write(ez.others > 0 and "  none of the account's sites is in the CSV (--all-sites shows them all)\n"
    or "  no sites on the account\n")
else
  local srows = {}
  for _, s in ipairs(ez.sites) do
    srows[#srows + 1] = { tostring(s.site_id), site_url_shown(s.site_url), s.alias, human_bytes(s.bandwidth), human_bytes(s.original),
      human_bytes(s.savings), pct(s.saved_percent), s.error or "" }
  end
  print_table({ { "ID", "right" }, { "SITE" }, { "ALIAS" }, { "BANDWIDTH", "right" }, { "ORIGINAL", "right" },
    { "SAVED", "right" }, { "SAVED %", "right" }, { "NOTE" } }, srows, function(_, c, s)
    if c == 8 and s ~= "" then return paint("31", s) end
    return s
  end)
end

-- The machines' files -----------------------------------------------------------

local function sorted_dates(days)
  local ds = {}
  for date in pairs(days or {}) do ds[#ds + 1] = date end
  table.sort(ds)
  return ds
end

local function csv_text()
  local out = {}
  for _, d in ipairs(domains) do
    if d.error then
      out[#out + 1] = { record = "host", domain = d.domain, line = d.line, error = d.error }
    end
    for _, hr in ipairs(d.hosts) do
      out[#out + 1] = { record = "host", domain = hr.domain, domain_unicode = d.domain_unicode, host = hr.host,
        host_unicode = hr.host_unicode, line = hr.line, date = MONTH,
        status = hr.status, status_name = hr.status and status_words(hr) or nil, traffic_bytes = hr.traffic_month,
        credits_paid = hr.credits_paid_month, credits_free = hr.credits_free_month, error = hr.error }
      for _, date in ipairs(sorted_dates(hr.days)) do
        local v = hr.days[date]
        out[#out + 1] = { record = "day", domain = hr.domain, domain_unicode = d.domain_unicode, host = hr.host,
          host_unicode = hr.host_unicode, line = hr.line, date = date,
          traffic_bytes = v.traffic, credits_paid = v.paid, credits_free = v.free }
      end
    end
  end
  if ez.error or ez.skipped then out[#out + 1] = { record = "site", error = ez.error or ez.skipped } end
  for _, s in ipairs(ez.sites) do
    out[#out + 1] = { record = "site", site_id = s.site_id, site_url = s.site_url, alias = s.alias,
      bandwidth_bytes = s.bandwidth, original_bytes = s.original, savings_bytes = s.savings,
      delivered_bytes = s.delivered, saved_percent = s.saved_percent and string.format("%.2f", s.saved_percent),
      error = s.error }
  end
  return csv.format(out, { "record", "domain", "domain_unicode", "host", "host_unicode", "line", "date", "status", "status_name", "traffic_bytes",
    "credits_paid", "credits_free", "site_id", "site_url", "alias", "bandwidth_bytes", "original_bytes",
    "savings_bytes", "delivered_bytes", "saved_percent", "error" })
end

local function array(t) return #t > 0 and t or json.empty_array end

local function json_text()
  local doc = {
    generated = os.date("!%Y-%m-%dT%H:%M:%SZ"), month = MONTH, source = pos[1], title = TITLE,
    period = { from = PERIOD[1], to = PERIOD[#PERIOD], days = #PERIOD }, accounts = {},
    failed = { hosts = failed_hosts, rows = failed_rows, sites = failed_sites },
    domains = {}, easyio = { sites = {}, error = ez.error, skipped = ez.skipped,
      quota = ez.quota, licensed = ez.licensed, live_sites = ez.live_sites },
  }
  for _, d in ipairs(domains) do
    local jd = { domain = d.domain, domain_unicode = d.domain_unicode, line = d.line, error = d.error, hosts = {} }
    for _, hr in ipairs(d.hosts) do
      local days = {}
      for _, date in ipairs(sorted_dates(hr.days)) do
        local v = hr.days[date]
        days[#days + 1] = { date = date, traffic_bytes = v.traffic, credits_paid = v.paid, credits_free = v.free }
      end
      jd.hosts[#jd.hosts + 1] = { host = hr.host, host_unicode = hr.host_unicode, account = hr.account, status = hr.status, status_name = hr.status and status_words(hr) or nil,
        traffic_month_bytes = hr.traffic_month, credits_paid_month = hr.credits_paid_month,
        credits_free_month = hr.credits_free_month, days = hr.days and array(days) or nil, error = hr.error,
        free_cdn_pool_bytes = hr.free_pool, free_cdn_used_bytes = hr.free_pool and hr.free_used }
    end
    jd.hosts = array(jd.hosts)
    doc.domains[#doc.domains + 1] = jd
  end
  doc.domains = array(doc.domains)
  for _, email in ipairs(account_order) do doc.accounts[#doc.accounts + 1] = accounts[email] end
  doc.accounts = array(doc.accounts)
  for _, s in ipairs(ez.sites) do
    doc.easyio.sites[#doc.easyio.sites + 1] = { site_id = s.site_id, site_url = s.site_url, alias = s.alias,
      live = s.live, bandwidth_bytes = s.bandwidth, original_bytes = s.original, savings_bytes = s.savings,
      delivered_bytes = s.delivered, error = s.error }
  end
  doc.easyio.sites = array(doc.easyio.sites)
  return json.encode(doc) .. "\n"
end

-- The page ---------------------------------------------------------------------

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end

-- A "nice" top of scale at or above v (1, 2, 2.5, 5 x 10^n).
local function nice_max(v)
  if v <= 0 then return 1 end
  local e = 10 ^ math.floor(math.log(v, 10))
  for _, f in ipairs({ 1, 2, 2.5, 5, 10 }) do
    if f * e >= v then return f * e end
  end
  return 10 * e
end

local function fmt_num(v, bytes)
  if bytes then return human_bytes(math.floor(v + 0.5)) end
  if v == math.floor(v) then return human_int(math.tointeger(v)) end
  return string.format("%.1f", v)
end

-- A bar chart over days: series {{name, color, values = {[date] = n}}}, stacked.
-- Returns an <svg> string. opts: width, height, bytes (units), title.
local function day_chart(days, series, o)
  local W, H = o.width, o.height
  local L, R, T, B = o.left or 64, 12, 14, 26
  local pw, ph = W - L - R, H - T - B
  local maxv = 0
  for _, date in ipairs(days) do
    local sum = 0
    for _, s in ipairs(series) do sum = sum + (s.values[date] or 0) end
    maxv = math.max(maxv, sum)
  end
  local top = nice_max(maxv)
  local out = {}
  out[#out + 1] = string.format('<svg class="chart" data-chart="%s" data-max="%s" viewBox="0 0 %d %d" width="%d" height="%d" '
    .. 'role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">', esc(o.id), tostring(math.tointeger(maxv) or maxv),
    W, H, W, H, esc(o.title))
  out[#out + 1] = "<title>" .. esc(o.title) .. "</title>"
  local ticks = o.ticks or 4
  for k = 0, maxv > 0 and ticks or 0 do
    local v = top * k / ticks
    local y = T + ph - ph * k / ticks
    out[#out + 1] = string.format('<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>', L, W - R, y, y)
    out[#out + 1] = string.format('<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>', L - 6, y + 4,
      esc(fmt_num(v, o.bytes)))
  end
  local slot = pw / #days
  local bw = math.max(1, slot * 0.72)
  for i, date in ipairs(days) do
    local x = L + (i - 1) * slot + (slot - bw) / 2
    local base = T + ph
    for _, s in ipairs(series) do
      local v = s.values[date] or 0
      if v > 0 then
        local h = ph * v / top
        base = base - h
        out[#out + 1] = string.format('<rect class="bar" data-date="%s" data-series="%s" data-value="%s" x="%.1f" y="%.1f" '
          .. 'width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>', date, esc(s.name),
          tostring(math.tointeger(v) or v), x, base, bw, math.max(h, 0.5), s.color, date, esc(s.name), esc(fmt_num(v, o.bytes)))
      end
    end
    if i == 1 or i == #days or (#days - i) % (o.every or 7) == 0 then
      out[#out + 1] = string.format('<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>', L + (i - 0.5) * slot,
        H - 8, date:sub(6))
    end
  end
  out[#out + 1] = string.format('<line class="base" x1="%d" x2="%d" y1="%d" y2="%d"/>', L, W - R, T + ph, T + ph)
  if maxv == 0 then
    out[#out + 1] = string.format('<text class="empty" x="%.1f" y="%.1f" text-anchor="middle">nothing recorded in these 30 days</text>',
      L + pw / 2, T + ph / 2)
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Horizontal bars: per site, the original size with the saved part.
local function savings_chart(sites)
  local rows = {}
  for _, s in ipairs(sites) do if s.original then rows[#rows + 1] = s end end
  local W, rowh, L = 900, 34, 250
  local H = 20 + #rows * rowh + 10
  local maxv = 0
  for _, s in ipairs(rows) do maxv = math.max(maxv, s.original) end
  local out = { string.format('<svg class="chart" data-chart="savings" data-max="%d" viewBox="0 0 %d %d" width="%d" height="%d" '
    .. 'role="img" aria-label="Savings per site" xmlns="http://www.w3.org/2000/svg"><title>Savings per site</title>', maxv, W, H, W, H) }
  local pw = W - L - 200
  for i, s in ipairs(rows) do
    local y = 14 + (i - 1) * rowh
    local full = maxv > 0 and pw * s.original / maxv or 0
    local saved = s.original > 0 and full * s.savings / s.original or 0
    local label = site_url_shown(s.site_url):gsub("^https?://", ""):gsub("/$", "")
    if #label > 34 then label = label:sub(1, 33) .. "…" end
    out[#out + 1] = string.format('<text class="label" x="%d" y="%d" text-anchor="end">%s</text>', L - 10, y + 17, esc(label))
    out[#out + 1] = string.format('<rect class="bar delivered" data-site="%s" data-value="%d" x="%d" y="%d" width="%.1f" height="22" '
      .. 'fill="#a0aec0"><title>%s: %s delivered</title></rect>', esc(s.alias), s.original - s.savings, L, y, math.max(full, 1),
      esc(label), esc(human_bytes(s.original - s.savings)))
    out[#out + 1] = string.format('<rect class="bar saved" data-site="%s" data-value="%d" x="%.1f" y="%d" width="%.1f" height="22" '
      .. 'fill="#38a169"><title>%s: %s saved</title></rect>', esc(s.alias), s.savings, L + full - saved, y, saved,
      esc(label), esc(human_bytes(s.savings)))
    out[#out + 1] = string.format('<text class="value" x="%.1f" y="%d">%s saved of %s</text>', L + math.max(full, 1) + 8, y + 17,
      esc(pct(s.saved_percent) ~= "" and pct(s.saved_percent) or "0 %"), esc(human_bytes(s.original)))
  end
  if #rows == 0 then
    out[#out + 1] = '<text class="empty" x="20" y="24">no savings figures</text>'
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local CSS = [[
:root { --fg: #1a202c; --muted: #4a5568; --line: #e2e8f0; --bg: #ffffff; --card: #f7fafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; align-items: start; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .n { font-size: 22px; font-weight: 650; }
.card .t { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--card); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; white-space: nowrap; }
.s2 { background: #c6f6d5; color: #22543d; } .s1 { background: #fefcbf; color: #744210; }
.sneg { background: #fed7d7; color: #822727; } .snone { background: #e2e8f0; color: #2d3748; }
.err { color: #9b2c2c; overflow-wrap: anywhere; }
tr.has-note td { border-bottom: 0; } tr.note td { padding-top: 0; font-size: 13px; }
td.host { white-space: nowrap; }
.statuses { margin: 12px 0 0; line-height: 2; } .statuses .badge { margin-right: 14px; }
.wide { overflow-x: auto; }
.grid-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
figcaption span { font-weight: 400; color: var(--muted); }
svg.chart { max-width: 100%; height: auto; display: block; }
svg .grid { stroke: #e2e8f0; stroke-width: 1; } svg .base { stroke: #718096; stroke-width: 1; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #4a5568; }
svg text.label, svg text.value { font-size: 13px; fill: #1a202c; } svg text.empty { font-size: 13px; fill: #718096; }
.legend { display: flex; gap: 16px; font-size: 13px; color: var(--muted); margin: 4px 0 8px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
.period { font-weight: 600; margin: 0 0 4px; } .puny { color: var(--muted); font-size: 12px; }
.card p.why { margin: 6px 0 0; font-size: 12px; color: #744210; }
]]

-- An error as a page shows it: in the client view, "not available" (the
-- reason is the agency's: --csv and --json keep it).
local function shown_error(text)
  return CLIENT_VIEW and "not available" or text
end

local function badge(hr)
  local cls = hr.status == 2 and "s2" or hr.status == 1 and "s1" or hr.status == nil and "snone" or "sneg"
  return string.format('<span class="badge %s" data-status="%s">%s</span>', cls, tostring(hr.status or ""),
    esc(hr.status == nil and shown_error("not read") or status_words(hr)))
end

-- A domain or host as the page shows it: Unicode, with the punycode beside.
local function name_html(unicode_name, ascii)
  if unicode_name and unicode_name ~= ascii then
    return esc(unicode_name) .. ' <span class="puny">' .. esc(ascii) .. '</span>'
  end
  return esc(ascii)
end

-- Why hosts are not ok when the cause is an account's shared credit pool:
-- a credit status (1, 0, -1, -2) on hosts whose account has under 10 % left.
local function shared_pool_note()
  local low = {}
  for _, hr in ipairs(hosts) do
    local a = hr.account and accounts[hr.account]
    if a and hr.status and hr.status ~= 2 and hr.status >= -2 and not a.unlimited and a.credits_quota > 0
       and a.credits_remaining * 10 < a.credits_quota and not low[a.email] then
      low[a.email] = true
      low[#low + 1] = string.format("%s has %s of %s left%s", a.email, human_int(a.credits_remaining),
        human_int(a.credits_quota), a.days_to_reset and (", renewed in " .. a.days_to_reset .. " days") or "")
    end
  end
  if #low == 0 or CLIENT_VIEW then return nil end
  return "Credits are shared by every domain of the account: " .. table.concat(low, "; ")
    .. ". The statuses are the account's, not these domains'."
end

local function cards_html(w)
  local total_traffic, total_paid, total_free, oks = 0, 0, 0, 0
  for _, hr in ipairs(hosts) do
    total_traffic = total_traffic + (hr.traffic_period or 0)
    total_paid = total_paid + (hr.credits_paid_period or 0)
    total_free = total_free + (hr.credits_free_period or 0)
    if hr.status == 2 then oks = oks + 1 end
  end
  local ez_bw, ez_orig, ez_saved = 0, 0, 0
  for _, s in ipairs(ez.sites) do
    ez_bw = ez_bw + s.bandwidth
    ez_orig, ez_saved = ez_orig + (s.original or 0), ez_saved + (s.savings or 0)
  end
  local function card(n, t, why)
    w('<div class="card"><div class="n">', esc(n), '</div><div class="t">', esc(t), '</div>',
      why and ('<p class="why">' .. esc(why) .. '</p>') or "", '</div>\n')
  end
  w('<div class="cards">\n')
  card(human_bytes(total_traffic), "ShortPixel CDN traffic")
  card(human_int(total_paid), "credits used (+" .. human_int(total_free) .. " free)")
  card(string.format("%d of %d", oks, #hosts), "hosts with status ok", oks < #hosts and shared_pool_note() or nil)
  card(ez.error and "not read" or ez.skipped and "skipped" or human_bytes(ez_bw), "Easy IO bandwidth")
  card(ez_orig > 0 and pct(ez_saved * 100 / ez_orig) or "—", "Easy IO saved (" .. human_bytes(ez_saved) .. ")")
  w('</div>\n')
end

local function status_counts_html(w)
  local counts, order = {}, {}
  for _, hr in ipairs(hosts) do
    local wd = hr.status == nil and shown_error("not read") or status_words(hr)
    if not counts[wd] then counts[wd] = 0; order[#order + 1] = { wd, hr } end
    counts[wd] = counts[wd] + 1
  end
  if #order == 0 then return end
  w('<p class="statuses">')
  for i, o in ipairs(order) do
    w(i > 1 and " " or "", counts[o[1]] == 1 and "1 host " or (counts[o[1]] .. " hosts "), badge(o[2]))
  end
  w('</p>\n')
end

-- The accounts: credits left of the quota, days to the monthly reset, CDN
-- traffic this billing month; Easy IO's bandwidth quota.
local function accounts_html(w)
  if CLIENT_VIEW or (#account_order == 0 and not ez.quota) then return end
  w('<section id="account">\n<h2>Account</h2>\n<table>\n<thead><tr><th>Account</th><th class="num">Credits left</th>',
    '<th class="num">Days to the monthly reset</th><th class="num">CDN traffic this month</th></tr></thead>\n<tbody>\n')
  for _, email in ipairs(account_order) do
    local a = accounts[email]
    w('<tr data-account="', esc(a.email), '"><td>ShortPixel: ', esc(a.email), '</td><td class="num">',
      a.unlimited and "unlimited" or esc(human_int(a.credits_remaining) .. " of " .. human_int(a.credits_quota)),
      '</td><td class="num">', esc(tostring(a.days_to_reset or "?")), '</td><td class="num">',
      esc(human_bytes(a.cdn_traffic_used_bytes) .. " of " .. human_bytes(a.cdn_traffic_quota_bytes)), '</td></tr>\n')
  end
  if ez.quota and not ez.skipped then
    w('<tr data-account="easyio"><td>Easy IO</td><td class="num">—</td><td class="num">—</td><td class="num">',
      esc("bandwidth quota " .. human_bytes(ez.quota) .. " a month"), '</td></tr>\n')
  end
  w('</tbody>\n</table>\n<p class="sub">Credits: monthly plus one-time; the quotas are the accounts\' current billing month.</p>\n</section>\n')
end

local function statuses_html(w)
  w('<h2 id="statuses">ShortPixel domains: statuses</h2>\n<table>\n<thead><tr><th>Domain</th><th>Host</th><th>Status</th>',
    '<th class="num">Traffic</th><th class="num">Credits</th><th class="num">Free</th></tr></thead>\n<tbody>\n')
  for _, d in ipairs(domains) do
    if d.error then
      w('<tr class="has-note"><td class="host">', esc(d.domain ~= "" and d.domain or "(empty)"),
        '</td><td></td><td><span class="badge sneg">not read</span></td><td></td><td></td><td></td></tr>\n',
        '<tr class="note"><td></td><td colspan="5" class="err">', esc(shown_error(d.error)), '</td></tr>\n')
    end
    for i, hr in ipairs(d.hosts) do
      w('<tr', hr.error and ' class="has-note"' or "", '><td class="host">', i == 1 and name_html(d.domain_unicode, d.domain) or "",
        '</td><td class="host">', name_html(hr.host_unicode, hr.host), '</td><td>', badge(hr), '</td><td class="num">',
        esc(human_bytes(hr.traffic_period)), '</td><td class="num">', esc(human_int(hr.credits_paid_period)),
        '</td><td class="num">', esc(human_int(hr.credits_free_period)), '</td></tr>\n')
      if hr.error then w('<tr class="note"><td></td><td colspan="5" class="err">', esc(shown_error(hr.error)), '</td></tr>\n') end
    end
  end
  if #domains == 0 then w('<tr><td colspan="6">no ShortPixel domains</td></tr>\n') end
  w('</tbody>\n</table>\n')
end

-- Daily traffic per domain (apex and www stacked), then credits per day.
local function traffic_html(w, days)
  w('<h2 id="traffic">Daily CDN traffic per domain</h2>\n',
    '<div class="legend"><span><i style="background:#2b6cb0"></i>apex</span><span><i style="background:#90cdf4"></i>www</span>',
    '</div>\n<div class="grid-charts">\n')
  for _, d in ipairs(domains) do
    if not d.error then
      local series, total = {}, 0
      for i, hr in ipairs(d.hosts) do
        local values = {}
        for date, v in pairs(hr.days or {}) do values[date] = v.traffic end
        for _, date in ipairs(days) do total = total + (values[date] or 0) end
        series[#series + 1] = { name = hr.host_unicode, color = i == 1 and "#2b6cb0" or "#90cdf4", values = values }
      end
      w('<figure><figcaption>', name_html(d.domain_unicode, d.domain), ' <span>', esc(human_bytes(total)), '</span></figcaption>\n',
        day_chart(days, series, { id = "traffic:" .. d.domain, title = "Daily CDN traffic of " .. d.domain_unicode,
          width = 360, height = 150, bytes = true, ticks = 2, every = 10, left = 66 }), '\n</figure>\n')
    end
  end
  w('</div>\n')
  local paid, free = {}, {}
  for _, hr in ipairs(hosts) do
    for date, v in pairs(hr.days or {}) do
      paid[date] = (paid[date] or 0) + v.paid
      free[date] = (free[date] or 0) + v.free
    end
  end
  w('<h2 id="credits">Credits per day</h2>\n',
    '<div class="legend"><span><i style="background:#2f855a"></i>paid (counts against the quota)</span>',
    '<span><i style="background:#9ae6b4"></i>free (optimised by less than 5 %)</span><span>all domains</span></div>\n',
    day_chart(days, { { name = "paid", color = "#2f855a", values = paid }, { name = "free", color = "#9ae6b4", values = free } },
      { id = "credits", title = "Credits per day, all domains", width = 1050, height = 260, ticks = 4, every = 5, left = 56 }), '\n')
end

local function easyio_html(w)
  w('<h2 id="savings">Easy IO: savings per site</h2>\n')
  if ez.skipped or ez.error then w('<p class="err">', esc(ez.skipped or shown_error(ez.error)), '</p>\n'); return end
  w('<div class="legend"><span><i style="background:#38a169"></i>saved</span><span><i style="background:#a0aec0"></i>delivered</span>',
    '<span>bars: original size of the images served</span></div>\n', savings_chart(ez.sites), '\n')
  w('<table>\n<thead><tr><th class="num">ID</th><th>Site</th><th>Alias</th><th class="num">Bandwidth</th>',
    '<th class="num">Original</th><th class="num">Saved</th><th class="num">Saved %</th><th>Note</th></tr></thead>\n<tbody>\n')
  for _, s in ipairs(ez.sites) do
    w('<tr><td class="num">', tostring(s.site_id), '</td><td>', esc(site_url_shown(s.site_url)), '</td><td>', esc(s.alias),
      '</td><td class="num">', esc(human_bytes(s.bandwidth)), '</td><td class="num">', esc(human_bytes(s.original)),
      '</td><td class="num">', esc(human_bytes(s.savings)), '</td><td class="num">', esc(pct(s.saved_percent)),
      '</td><td class="err">', esc(s.error and shown_error(s.error) or ""), '</td></tr>\n')
  end
  if #ez.sites == 0 then w('<tr><td colspan="8">no sites</td></tr>\n') end
  w('</tbody>\n</table>\n')
end

local function html_text()
  local h = {}
  local function w(...) for _, s in ipairs({ ... }) do h[#h + 1] = s end end
  w('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    '<title>', esc(TITLE), '</title>\n<style>', CSS, '</style>\n</head>\n<body>\n<main>\n')
  w('<h1>', esc(TITLE), '</h1>\n<p class="period">Period: ', esc(PERIOD[1]), ' to ', esc(PERIOD[#PERIOD]),
    ' (', #PERIOD, ' days, UTC). Every figure covers this period, except the accounts\' monthly quotas.</p>\n',
    '<p class="sub">Made ', esc(os.date("!%Y-%m-%d %H:%M UTC")), ' &middot; ', #domains, #domains == 1 and ' domain' or ' domains',
    '</p>\n')
  cards_html(w)
  status_counts_html(w)
  accounts_html(w)
  statuses_html(w)
  traffic_html(w, PERIOD)
  easyio_html(w)
  w('<footer>Made by cdnctl ', esc(cdnctl.version or ""), '. Units are decimal (1 GB = 10<sup>9</sup> bytes). ',
    'ShortPixel counts example.com and www.example.com separately; both are shown. ',
    'Exact figures: the --csv and --json outputs.</footer>\n</main>\n</body>\n</html>\n')
  return table.concat(h)
end

-- Each output by the rules it was checked by: a file replaced atomically,
-- a device or a FIFO written in place.
local outputs = { { "--csv", opts.csv, csv_text }, { "--json", opts.json, json_text }, { "--html", opts.html, html_text } }
for _, o in ipairs(outputs) do
  local out = outs[o[1]]
  if out then
    local okw, werr = out:replace(o[3]())
    if not okw then io.stderr:write(o[1], ": ", tostring(werr), "\n"); cdnctl.exit(1) end
  end
end

-- One page per client (--per-client DIR) ------------------------------------

-- A client's name as a file name: ASCII letters, digits, - and . (others
-- become -); "client" when nothing is left.
local function safe_name(name)
  local n = name:gsub("[^%w%-%.]+", "-"):gsub("^[-.]+", ""):gsub("-+$", "")
  return n ~= "" and n or "client"
end

-- The sites of ez.sites that are the client's (by site_url, else by host).
local function sites_of_client(all, client)
  local out = {}
  for _, site in ipairs(all) do
    local host = tostring(site.site_url):match("^%a+://([^/:]+)")
    if client_of_site[check.site_key(site.site_url) or ""] == client or (host and client_of_host[host] == client) then
      out[#out + 1] = site
    end
  end
  return out
end

-- Writes a page per client into opts.per_client -> the files written | nil, message
local function per_client_pages()
  local fs = require "cdnctl.fs"
  local all_domains, all_ez, all_title, taken, written = domains, ez, TITLE, {}, {}
  for _, client in ipairs(client_order) do
    domains, hosts = {}, {}
    for _, d in ipairs(all_domains) do
      if d.client == client then
        domains[#domains + 1] = d
        for _, hr in ipairs(d.hosts) do hosts[#hosts + 1] = hr end
      end
    end
    ez = setmetatable({ sites = sites_of_client(all_ez.sites, client) }, { __index = all_ez })
    TITLE = all_title .. ": " .. client
    local base, n = safe_name(client), 1
    while taken[base .. (n > 1 and ("-" .. n) or "")] do n = n + 1 end
    local file = base .. (n > 1 and ("-" .. n) or "")
    taken[file] = true
    local path = opts.per_client:gsub("/+$", "") .. "/" .. file .. ".html"
    local out, oerr = fs.check_output(path)
    if not out then return nil, path .. ": " .. tostring(oerr) end
    local okw, werr = out:replace(html_text())
    if not okw then return nil, path .. ": " .. tostring(werr) end
    written[#written + 1] = path
  end
  return written
end
local pages
if opts.per_client then
  local perr2
  pages, perr2 = per_client_pages()
  if not pages then io.stderr:write("--per-client: ", perr2, "\n"); cdnctl.exit(1) end
end

io.stdout:write(string.format("\n%d domains (%d hosts): %d hosts not read, %d bad rows; Easy IO: %s\n",
  #domains, #hosts, failed_hosts, failed_rows,
  ez.skipped and "skipped" or ez.error and "not read" or (#ez.sites .. " sites, " .. failed_sites .. " not read")))
local written = {}
for _, o in ipairs(outputs) do if o[2] then written[#written + 1] = o[2] end end
if #written > 0 then io.stdout:write("written: ", table.concat(written, ", "), "\n") end
if pages then io.stdout:write(string.format("%d client pages in %s\n", #pages, opts.per_client)) end
cdnctl.exit(any_failed and script.EXIT_FAILED or script.EXIT_OK)
