-- scripts/onboard.lua: onboard clients from a CSV, resumably.
--
--   cdnctl scripts/onboard.lua CLIENTS.csv [--concurrency N] [--out RESULTS.csv]
--          [--journal FILE] [--dry-run] [--profile NAME]
--
-- CSV with a header; `domain` required; optional `service` (shortpixel,
-- easyio or both; default both), `site_url` (default https://www.DOMAIN/),
-- `shortpixel_key`, `easyio_key` (per-client keys; else the default ones).
-- For each client: ShortPixel add_domain for the apex and for www (separate
-- domains to ShortPixel), and Easy IO create_site unless a site with that
-- URL exists. Every completed step goes to the journal (fsync'd) first, so
-- running the same command again after a crash, Ctrl-C or kill -9 redoes
-- nothing that is done. Exit: 0 all ok, 3 some failed, 2 bad usage.

local script = require "cdnctl.script"
local csv = require "cdnctl.csv"
local check = require "cdnctl.check"
local fs = require "cdnctl.fs"

local USAGE = "usage: cdnctl scripts/onboard.lua CLIENTS.csv [--concurrency N] [--out RESULTS.csv] "
  .. "[--journal FILE] [--dry-run] [--profile NAME]"

local opts, pos = script.args({ ... }, {
  ["--concurrency"] = "integer", ["--out"] = "value", ["--journal"] = "value",
  ["--dry-run"] = "flag", ["--profile"] = "value",
}, USAGE)
if #pos ~= 1 then
  io.stderr:write(#pos == 0 and "a CLIENTS.csv file is needed\n" or "only one CSV file, please\n", USAGE, "\n")
  cdnctl.exit(script.EXIT_USAGE)
end
local ok, perr = script.use_profile(opts.profile)
if not ok then io.stderr:write(perr, "\n"); cdnctl.exit(script.EXIT_USAGE) end

local out_path = opts.out or "onboard-results.csv"
local journal_path = opts.journal or (out_path:gsub("%.csv$", "") .. ".journal")

local text, rerr = script.read_file(pos[1])
if not text then io.stderr:write("cannot read ", pos[1], ": ", tostring(rerr), "\n"); cdnctl.exit(script.EXIT_USAGE) end
local rows, header = csv.parse_table(text)
if not rows then io.stderr:write(pos[1], ": ", header, "\n"); cdnctl.exit(script.EXIT_USAGE) end
local has_domain = false
for _, h in ipairs(header) do has_domain = has_domain or h == "domain" end
if not has_domain then io.stderr:write(pos[1], ": the header has no 'domain' column\n"); cdnctl.exit(script.EXIT_USAGE) end

-- Check every row first; bad rows are reported and the rest go on.
local clients, bad = {}, {}
local seen = {}
for _, row in ipairs(rows) do
  local function reject(msg)
    bad[#bad + 1] = { domain = row.domain, status = "failed", error = "line " .. row.line .. ": " .. msg, line = row.line }
  end
  local service = row.service ~= "" and row.service and row.service:lower() or "both"
  local domain, derr = check.domain(row.domain or "", "domain")
  if row.error then reject(row.error:gsub("^line %d+: ", ""))
  elseif not domain then reject(derr)
  elseif service ~= "shortpixel" and service ~= "easyio" and service ~= "both" then
    reject("service: unknown service '" .. row.service .. "' (shortpixel, easyio or both)")
  else
    local apex = check.hosts(domain)[1]
    local site_url, serr = check.site_url(row.site_url ~= "" and row.site_url or ("https://www." .. apex .. "/"), "site_url")
    local spk, ezk, kerr
    if row.shortpixel_key and row.shortpixel_key ~= "" then spk, kerr = check.key(row.shortpixel_key, "shortpixel_key") end
    if not kerr and row.easyio_key and row.easyio_key ~= "" then ezk, kerr = check.key(row.easyio_key, "easyio_key") end
    if not site_url then reject(serr)
    elseif kerr then reject(kerr)
    elseif seen[apex] then reject("domain: " .. apex .. " already appears on line " .. seen[apex])
    else
      seen[apex] = row.line
      clients[#clients + 1] = { domain = apex, line = row.line, service = service, site_url = site_url,
        shortpixel_key = spk, easyio_key = ezk }
    end
  end
end
for _, b in ipairs(bad) do io.stderr:write("skipped ", b.error, "\n") end

-- The steps of a client, in order.
local function steps_of(c)
  local steps = {}
  if c.service ~= "easyio" then
    for _, h in ipairs(check.hosts(c.domain)) do steps[#steps + 1] = { id = "shortpixel:" .. h, host = h } end
  end
  if c.service ~= "shortpixel" then steps[#steps + 1] = { id = "easyio:" .. c.site_url, site = true } end
  return steps
end

-- A host's state in words, from read_domain (HasAccount: associated with a user).
local function host_plan(host)
  local r, err = shortpixel.read_domain(host)
  if not r then return "unknown: " .. tostring(err) end
  if r.HasAccount then
    return "associated with an account (" .. tostring(r.Email) .. ", " .. r.status_name
      .. "): add_domain succeeds if that is this key's account"
  end
  return "not associated with any account: add_domain adds it and associates it with the key"
end

if opts.dry_run then
  -- Look, change nothing.
  local sites = {}
  local all = easyio.show_sites()
  for _, s in ipairs(all and all.sites or {}) do sites[check.site_key(s.site_url) or s.site_url] = s end
  local plan = cdnctl.parallel(clients, function(c)
    local lines = {}
    for _, st in ipairs(steps_of(c)) do
      if st.host then
        lines[#lines + 1] = string.format("  shortpixel add_domain %s: %s", st.host, host_plan(st.host))
      else
        local s = sites[check.site_key(c.site_url)]
        lines[#lines + 1] = string.format("  easyio create_site %s: %s", c.site_url,
          s and ("exists as site " .. s.site_id .. " (" .. s.alias .. "), nothing to do") or "new: create_site")
      end
    end
    return c.domain .. " (line " .. c.line .. ")\n" .. table.concat(lines, "\n")
  end, { concurrency = opts.concurrency or 8 })
  print(string.format("plan for %d clients (%d rows skipped); nothing was changed:", #clients, #bad))
  for i = 1, #clients do print(plan[i]) end
  cdnctl.exit(#bad > 0 and script.EXIT_FAILED or script.EXIT_OK)
end

local journal, jerr = script.journal(journal_path)
if not journal then io.stderr:write(jerr, "\n"); cdnctl.exit(1) end
local done = {}
for _, e in ipairs(journal.entries) do
  if e.ok and e.domain and e.step then done[e.domain .. "|" .. e.step] = e end
end

local results = {}
local sites_cache -- show_sites of the default key, once
-- The client's existing site (the same site URL by check.same_site), false
-- when there is none, nil and err when show_sites fails.
local function find_site(c)
  if c.easyio_key then
    local r, err = easyio.show_sites(c.site_url, { key = c.easyio_key })
    if not r then return nil, err end
    for _, s in ipairs(r.sites or {}) do if check.same_site(s.site_url, c.site_url) then return s end end
    return false
  end
  if not sites_cache then
    local r, err = easyio.show_sites()
    if not r then return nil, err end
    sites_cache = {}
    for _, s in ipairs(r.sites or {}) do sites_cache[check.site_key(s.site_url) or s.site_url] = s end
  end
  return sites_cache[check.site_key(c.site_url)] or false
end

local function onboard(c)
  local res = { domain = c.domain, status = "ok" }
  for _, st in ipairs(steps_of(c)) do
    local entry = done[c.domain .. "|" .. st.id]
    if not entry then
      if st.host then
        local r, err = shortpixel.add_domain(st.host, { key = c.shortpixel_key })
        if not r then res.status = "failed"; res.error = tostring(err); break end
        entry = { domain = c.domain, step = st.id, ok = true, message = r.Message }
      else
        local s, err = find_site(c)
        if s == nil then res.status = "failed"; res.error = tostring(err); break end
        if s then
          entry = { domain = c.domain, step = st.id, ok = true, site_id = tostring(s.site_id), alias = s.alias, existing = true }
        else
          local r, cerr = easyio.create_site(c.site_url, { key = c.easyio_key })
          if not r and cerr.code == "duplicate" and cerr.site then
            -- registered meanwhile (another run, the console): this account's, so done
            entry = { domain = c.domain, step = st.id, ok = true, site_id = tostring(cerr.site.site_id),
                      alias = cerr.site.alias, existing = true }
          elseif not r then res.status = "failed"; res.error = tostring(cerr); break
          else entry = { domain = c.domain, step = st.id, ok = true, site_id = tostring(r.id), alias = r.alias } end
        end
      end
      journal:write(entry)
      done[c.domain .. "|" .. st.id] = entry
    end
    if st.host then
      res[st.host == c.domain and "shortpixel_apex" or "shortpixel_www"] = "associated"
    else
      res.easyio_site_id, res.easyio_alias = entry.site_id, entry.alias
      res.easyio_site = entry.existing and "existing" or "created"
    end
  end
  return res
end

local _, errs, summary = cdnctl.parallel(clients, onboard, {
  concurrency = opts.concurrency or 8,
  on_result = function(i, r, err) results[i] = r or { domain = clients[i].domain, status = "failed", error = tostring(err) } end,
})
journal:close()

local out_rows = {}
for i, c in ipairs(clients) do
  local r = results[i] or { domain = c.domain, status = "failed", error = errs[i] or "not run (interrupted)" }
  r.line = c.line
  out_rows[#out_rows + 1] = r
end
for _, b in ipairs(bad) do out_rows[#out_rows + 1] = b end
table.sort(out_rows, function(a, b) return a.line < b.line end)
local failed = 0
for _, r in ipairs(out_rows) do if r.status ~= "ok" then failed = failed + 1 end end
local okw, werr = fs.write_atomic(out_path, csv.format(out_rows, { "domain", "status", "shortpixel_apex",
  "shortpixel_www", "easyio_site", "easyio_site_id", "easyio_alias", "error" }))
if not okw then io.stderr:write(werr, "\n"); cdnctl.exit(1) end
io.stdout:write(string.format("%d clients: %d ok, %d failed%s; results in %s\n", #out_rows, #out_rows - failed, failed,
  summary.interrupted and " (interrupted: run the same command again to go on)" or "", out_path))
for _, r in ipairs(out_rows) do
  if r.status ~= "ok" then io.stdout:write("  failed ", tostring(r.domain), ": ", tostring(r.error), "\n") end
end
cdnctl.exit(failed > 0 and script.EXIT_FAILED or script.EXIT_OK)
