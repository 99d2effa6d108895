-- scripts/onboard.lua: onboard clients from a CSV, resumably.
--
--   cdnctl scripts/onboard.lua CLIENTS.csv [--concurrency N] [--out RESULTS.csv]
--          [--journal FILE] [--fresh] [--dry-run] [--profile NAME]
--
-- CSV with a header; `domain` required; optional `service` (shortpixel,
-- easyio or both; default both), `site_url` (default https://www.DOMAIN/),
-- `shortpixel_key`, `easyio_key` (per-client keys; else the default ones),
-- `profile` (a row that names another profile than the run's source is
-- failed and not sent: `cdnctl apply` runs each row under its profile).
-- For each client: ShortPixel add_domain for the apex and for www (separate
-- domains to ShortPixel), and Easy IO create_site unless a site with that
-- URL exists. Every completed step goes to the journal (fsync'd) first, so
-- running the same command again after a crash, Ctrl-C or kill -9 redoes
-- nothing that is done. The journal records its target (base URLs) and a
-- fingerprint of the key of each step, and is locked while a run uses it.
-- The CSV is read and the results written as a stream, one row per input
-- row however the run ends: the summary counts every row (ok, failed,
-- skipped, not tried).
-- Exit: 0 all ok, 1 a journal that cannot be written or a dry run without a
-- plan, 2 bad usage or a journal of another target or in use, 3 some failed.

local script = require "cdnctl.kit.script"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local fs = require "cdnctl.fs"
local config = require "cdnctl.config"
local codec = require "cdnctl.codec"

local USAGE = "usage: cdnctl scripts/onboard.lua CLIENTS.csv [--concurrency N] [--out RESULTS.csv] "
  .. "[--journal FILE] [--fresh] [--dry-run] [--keep-going] [--profile NAME] [--json]"
local EXIT_ERROR = 1
local COLUMNS = { "domain", "status", "shortpixel_apex", "shortpixel_www", "easyio_site", "easyio_site_id",
  "easyio_alias", "error" }

for _, a in ipairs({ ... }) do
  if a == "--help" or a == "-h" then io.stdout:write(USAGE, "\n\n", script.KEYS_HELP, "\n\n", script.OUTPUTS_HELP, "\n"); cdnctl.exit(0) end
end
local opts, pos = script.args({ ... }, {
  ["--concurrency"] = "integer", ["--out"] = "value", ["--journal"] = "value",
  ["--dry-run"] = "flag", ["--profile"] = "value", ["--fresh"] = "flag", ["--json"] = "flag",
  ["--keep-going"] = "flag",
}, USAGE)
-- Failures grouped by reason for the summary; the brake that stops an
-- operation for a key after 5 refusals in a row with one message.
local failures = require "cdnctl.kit.failures"
local brake = failures.brake { keep_going = opts.keep_going }
-- With --json, stdout is one JSON document; the lines for people go to stderr.
local human = opts.json and io.stderr or io.stdout
local function json_doc(doc)
  if not opts.json then return end
  local json = require "cdnctl.json"
  for k, v in pairs(doc) do if type(v) == "table" and next(v) == nil then doc[k] = json.empty_array end end
  local okw, werr = script.write_stdout(json.encode(doc) .. "\n")
  if not okw then io.stderr:write(tostring(werr), "\n"); cdnctl.exit(1) end
end

local function die(status, ...)
  io.stderr:write(...)
  io.stderr:write("\n")
  cdnctl.exit(status)
end

if #pos ~= 1 then die(script.EXIT_USAGE, #pos == 0 and "a CLIENTS.csv file is needed\n" or "only one CSV file, please\n", USAGE) end
local ok, perr = script.use_profile(opts.profile)
if not ok then die(script.EXIT_USAGE, perr) end

-- A sandbox that lives as long as this process is a new target every run.
local in_process_sandbox = config.resolve(cdnctl.settings, "shortpixel", true).kind == "sandbox"

-- Default names from the input: STEM.results.csv here (STEM.results.sandbox.csv
-- for an in-process sandbox, so that a rehearsal never replaces the real
-- results), and the journal next to the results with their stem
-- (STEM.results.journal; .sandbox.journal for an in-process sandbox). An
-- input that is not a regular file (a pipe, <(...)) has no name to derive
-- them from: --out is needed. When the results are not a file (--out
-- /dev/null), the journal takes the input's stem. `-` is standard input
-- for the CSV, standard output for --out.
local files = require "cdnctl.kit.files"
local in_path = files.input_path(pos[1])
local in_st = fs.stat(in_path)
if in_st and (in_st.type == "dir" or in_st.device) then
  die(script.EXIT_USAGE, pos[1], ": ", in_st.type == "dir" and "is a directory" or "is a device", ", not a CSV file")
end
local function default_names(input)
  local regular = in_st and in_st.type == "file"
  if not regular and not opts.out then
    die(script.EXIT_USAGE, pos[1], " is not a regular file (a pipe, <(...)): there is no name to derive the results' ",
      "from; give --out RESULTS.csv (the journal goes next to it)")
  end
  local stem = input:match("([^/]*)$"):gsub("%.[Cc][Ss][Vv]$", "")
  stem = stem ~= "" and stem or "clients"
  local sandbox = in_process_sandbox and ".sandbox" or ""
  local out = files.output_path(opts.out or (stem .. ".results" .. sandbox .. ".csv"))
  local out_check, oerr = fs.check_output(out)
  if not out_check then die(script.EXIT_USAGE, "--out: ", oerr) end
  local is_file = out_check.kind == "new" or out_check.kind == "regular"
  out_check:close()
  if not is_file and not regular and not opts.journal then
    die(script.EXIT_USAGE, "neither the input nor --out ", out, " is a file to name the journal after: give --journal FILE")
  end
  if not opts.out then return out, opts.journal or (stem .. ".results" .. sandbox .. ".journal") end
  local jstem = is_file and out:gsub("%.[Cc][Ss][Vv]$", "") or (stem .. ".results")
  return out, opts.journal or (jstem .. sandbox .. ".journal")
end
local out_path, journal_path = default_names(pos[1])
-- Every output against the input and each other, before any request.
local outs, oerr = files.check({ ["--out"] = out_path, ["--journal"] = { path = journal_path, journal = true, mode = 384 } },
  { in_path }, opts.json and "--json")
if not outs then die(script.EXIT_USAGE, oerr) end
local out_check = outs["--out"]
outs["--journal"]:close()
local input, input_text
-- The input's rows from its start: (header, next_row) | (nil, message). A
-- regular file is read again from its start as a stream; anything else (a
-- pipe, <(...)) is read once, whole, within the input cap, and kept.
local function input_rows()
  if input then input:close(); input = nil end
  if input_text or not (in_st and in_st.type == "file") then
    if not input_text then
      local text, terr = script.read_input(pos[1])
      if not text then die(script.EXIT_USAGE, terr) end
      input_text = text
    end
    local given = false
    return csv.table_reader(function() if given then return nil end; given = true; return input_text end)
  end
  local ierr
  input, ierr = files.open_input(in_path)
  if not input then die(script.EXIT_USAGE, "cannot read ", tostring(ierr)) end
  return csv.table_reader(csv.blocks_of(input))
end
local header, next_row = input_rows()
if not header then die(script.EXIT_USAGE, pos[1], ": ", next_row) end
local has_domain = false
for _, h in ipairs(header) do has_domain = has_domain or h == "domain" end
if not has_domain then die(script.EXIT_USAGE, pos[1], ": the header has no 'domain' column") end

-- Checking rows ---------------------------------------------------------------

-- seen[apex] = LINE << 39 | a 39-bit digest of the row, one integer: a later
-- row with the same digest is the same client again (skipped), with another
-- one a conflict (failed). Integers keep what is remembered per row small.
local seen = {}
local DIGEST_BITS = 39
local function digest(s, bits)
  return tonumber(codec.sha256_hex(s):sub(1, 15), 16) & ((1 << bits) - 1)
end

-- classify(row) -> a client {domain, line, service, site_url, keys} | a result row (bad or skipped)
local function classify(row)
  local line = csv.line(row)
  local function bad(msg) return { line = line, domain = row.domain, status = "failed", error = "line " .. line .. ": " .. msg } end
  local problem = csv.problem(row)
  if problem then return bad((problem:gsub("^line %d+: ", ""))) end
  local other = script.other_profile(row.profile, pos[1])
  if other then return bad(other) end
  local service = row.service ~= "" and row.service and row.service:lower() or "both"
  local domain, derr = check.domain(row.domain or "", "domain")
  if not domain then return bad(derr) end
  if service ~= "shortpixel" and service ~= "easyio" and service ~= "both" then
    return bad("service: unknown service '" .. row.service .. "' (shortpixel, easyio or both)")
  end
  local apex = check.hosts(domain)[1]
  local site_url, serr = check.site_url(row.site_url ~= "" and row.site_url or ("https://www." .. apex .. "/"), "site_url")
  if not site_url then return bad(serr) end
  local spk, ezk, kerr
  if row.shortpixel_key and row.shortpixel_key ~= "" then spk, kerr = check.key(row.shortpixel_key, "shortpixel_key") end
  if not kerr and row.easyio_key and row.easyio_key ~= "" then ezk, kerr = check.key(row.easyio_key, "easyio_key") end
  if kerr then return bad(kerr) end
  local sig = digest(table.concat({ service, check.site_key(site_url) or site_url, spk or "", ezk or "" }, "\0"), DIGEST_BITS)
  local prev = seen[apex]
  if prev then
    local pline, psig = prev >> DIGEST_BITS, prev & ((1 << DIGEST_BITS) - 1)
    if psig == sig then
      return { line = line, domain = apex, status = "skipped", error = "skipped (same as line " .. pline .. ")" }
    end
    return bad("domain: " .. apex .. " already appears on line " .. pline .. " with another service, site_url or key")
  end
  seen[apex] = (line << DIGEST_BITS) | sig
  return { domain = apex, line = line, service = service, site_url = site_url, shortpixel_key = spk, easyio_key = ezk }
end

-- The steps of a client, in order.
local function steps_of(c)
  local steps = {}
  if c.service ~= "easyio" then
    for _, h in ipairs(check.hosts(c.domain)) do steps[#steps + 1] = { id = "shortpixel:" .. h, host = h } end
  end
  if c.service ~= "shortpixel" then steps[#steps + 1] = { id = "easyio:" .. c.site_url, site = true } end
  return steps
end

-- How many rows the input has (the header aside), for the progress line's
-- total and the summary: counted in a first pass over a regular file (the
-- rows are still read as a stream); nil for a pipe, which cannot be read twice.
local function count_rows(path)
  local st = fs.stat(path)
  if not st or st.type ~= "file" then return nil end
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = -1
  for _ in csv.records(csv.blocks_of(f)) do n = n + 1 end
  f:close()
  return math.max(n, 0)
end
local ROWS = count_rows(pos[1])

-- The rows, classified, one at a time (nil at the end, or once `stop` says so).
-- pulled counts the rows handed out, last_item is the latest: a run that
-- stops counts the rows it did not reach from there (not_tried_rows).
local stop -- set when the journal cannot be written: no new work
local pulled, last_item = 0, nil
local function each_item()
  if stop then return nil end
  local row = next_row()
  last_item = row and classify(row)
  if last_item then pulled = pulled + 1 end
  return last_item
end

-- In-order output of results that finish in any order: add(i, v) holds v
-- until every earlier index has come, then emit(v) in order. finish(n,
-- fill) emits what is held up to index n, fill(i) standing in for an index
-- that never came (an item abandoned after a stop), so that no result
-- waits for one that will not come.
local function in_order(emit)
  local pending, nexti = {}, 1
  local function add(i, v)
    pending[i] = v
    while pending[nexti] ~= nil do
      emit(pending[nexti])
      pending[nexti] = nil
      nexti = nexti + 1
    end
  end
  local function finish(n, fill)
    while nexti <= n do add(nexti, pending[nexti] or fill(nexti)) end
  end
  return add, finish
end

-- The fingerprint of the key a step uses (the default keys' computed once).
local default_fp = {}
local function key_fp(service, client_key)
  if client_key then return script.fingerprint(client_key) end
  if not default_fp[service] then default_fp[service] = script.fingerprint((config.key(cdnctl.settings, service))) end
  return default_fp[service]
end

-- The dry run ---------------------------------------------------------------

-- plan_check(what, fn) -> nil | the reason no plan can be made: each check
-- (a key, the site list) runs once; its failure is remembered.
local checks, problems, PENDING = {}, {}, {}
local function plan_check(what, fn)
  while checks[what] == PENDING do cdnctl.sleep(0.02) end -- another worker is checking it
  if checks[what] == nil then
    checks[what] = PENDING
    local r, err = fn()
    checks[what] = false
    if not r then
      checks[what] = what .. ": " .. tostring(err)
      problems[#problems + 1] = checks[what]
    end
  end
  return checks[what] or nil
end

-- An Easy IO account's sites by site key, read once per key.
local plan_sites = {}
local function sites_of(ezk)
  local name = "easyio " .. (ezk and "key of the row" or "key")
  local k = ezk or ""
  if plan_check(name .. (ezk and (" " .. key_fp("easyio", ezk)) or ""), function()
    local all, err = easyio.show_sites({ key = ezk })
    if all then
      plan_sites[k] = {}
      for _, s in ipairs(all.sites or {}) do plan_sites[k][check.site_key(s.site_url) or s.site_url] = s end
    end
    return all, err
  end) then return nil end
  return plan_sites[k]
end

-- A host's state in words, from read_domain (HasAccount: associated with a user).
local function host_plan(host, spk)
  local refused = plan_check("shortpixel " .. (spk and "key of the row " .. key_fp("shortpixel", spk) or "key"),
    function() return shortpixel.api_status({ key = spk }) end)
  if refused then return "unknown: " .. refused, true end
  local r, err = shortpixel.read_domain(host)
  if not r then return "unknown: " .. tostring(err), true end
  if r.HasAccount then
    return "associated with an account (" .. tostring(r.Email) .. ", " .. r.status_name
      .. "): add_domain succeeds if that is this key's account"
  end
  return "not associated with any account: add_domain adds it and associates it with the key"
end

-- One client's plan in lines; the second value is true when part of it is unknown.
local function plan_client(c)
  if not c.service then return (c.status == "failed" and "skipped " or ("line " .. c.line .. ": ")) .. c.error end
  local lines, unknown = { c.domain .. " (line " .. c.line .. ")" }, false
  for _, st in ipairs(steps_of(c)) do
    if st.host then
      local words, u = host_plan(st.host, c.shortpixel_key)
      unknown = unknown or u
      lines[#lines + 1] = string.format("  shortpixel add_domain %s: %s", st.host, words)
    else
      local sites = sites_of(c.easyio_key)
      local s = sites and sites[check.site_key(c.site_url)]
      unknown = unknown or not sites
      lines[#lines + 1] = string.format("  easyio create_site %s: %s", c.site_url,
        not sites and "unknown: the site list could not be read"
        or s and ("exists as site " .. s.site_id .. " (" .. s.alias .. "), nothing to do") or "new: create_site")
    end
  end
  return table.concat(lines, "\n"), unknown
end

local function dry_run()
  human:write("plan (nothing is changed):\n")
  local nclients, nbad, nunknown = 0, 0, 0
  local plan = {}
  local emit = in_order(function(v) human:write(v, "\n"); if opts.json then plan[#plan + 1] = v end end)
  cdnctl.parallel(each_item, function(item)
    local text, unknown = plan_client(item)
    if not item.service then
      if item.status == "failed" then nbad = nbad + 1 end
    else
      nclients = nclients + 1
      if unknown then nunknown = nunknown + 1 end
    end
    return text
  end, { concurrency = opts.concurrency or 8, label = "plan", total = ROWS,
          on_result = function(i, r, err) emit(i, r or tostring(err)) end })
  human:write(string.format("plan for %d clients (%d rows failed the checks); nothing was changed\n", nclients, nbad))
  json_doc { dry_run = true, clients = nclients, bad_rows = nbad, unknown = nunknown, plan = plan,
             problems = problems, planned = #problems == 0 and nunknown == 0 }
  if #problems > 0 or nunknown > 0 then
    io.stderr:write("could not make a plan", nunknown > 0 and (" for " .. nunknown .. " clients") or "", ":\n")
    for _, p in ipairs(problems) do io.stderr:write("  ", p, "\n") end
    if #problems == 0 then io.stderr:write("  some hosts could not be read (see the plan)\n") end
    cdnctl.exit(EXIT_ERROR)
  end
  cdnctl.exit(nbad > 0 and script.EXIT_FAILED or script.EXIT_OK)
end
if opts.dry_run then dry_run() end

-- The run ---------------------------------------------------------------------

-- The keys the rows need, had before any step (cdnctl.config: one source for
-- every service; a row's key column is that row's): a key that cannot be had
-- stops the run before any row starts, and the old results and journal stay
-- as they are. Exit 1 when a key command fails, 2 when the source has none.
local function need_keys(rows)
  local need = {}
  for row in rows do
    local service = (row.service or ""):lower()
    service = service == "" and "both" or service
    if (service == "both" or service == "shortpixel") and (row.shortpixel_key or "") == "" then need.shortpixel = true end
    if (service == "both" or service == "easyio") and (row.easyio_key or "") == "" then need.easyio = true end
  end
  for _, service in ipairs({ "shortpixel", "easyio" }) do
    if need[service] then
      local key, _, why, src = config.key(cdnctl.settings, service)
      if why then die(EXIT_ERROR, "not started: ", why, "; nothing was done, and the old results are kept") end
      if not key then
        die(script.EXIT_USAGE, "not started: ", src.missing or ("no " .. service .. " key"),
          "; nothing was done, and the old results are kept")
      end
    end
  end
end
need_keys(select(2, input_rows()))
header, next_row = input_rows()

-- done["DOMAIN|STEP"] = "KEYFP\tSITE_ID\tALIAS\tEXISTING": the journal's steps, compactly;
-- unsure["DOMAIN|STEP"] = true: a step whose outcome a run could not tell (unknown_outcome).
local done, unsure = {}, {}
local target = { shortpixel = config.url(cdnctl.settings, "sp"), easyio = config.url(cdnctl.settings, "ez") }
local journal, jerr, jkind = script.journal(journal_path, {
  target = target, fresh = opts.fresh or in_process_sandbox,
  on_entry = function(e)
    if e.unknown and type(e.domain) == "string" and type(e.step) == "string" then unsure[e.domain .. "|" .. e.step] = true end
    if e.ok and type(e.domain) == "string" and type(e.step) == "string" then
      done[e.domain .. "|" .. e.step] = table.concat({ tostring(e.key or "none"), tostring(e.site_id or ""),
        tostring(e.alias or ""), e.existing and "1" or "" }, "\t")
    end
  end,
})
if not journal then die(jkind == "io" and EXIT_ERROR or script.EXIT_USAGE, jerr) end
if in_process_sandbox then
  io.stderr:write("the sandbox lives as long as this run: its journal ", journal_path, " starts afresh and is never resumed\n")
end

local counts = { steps = 0, resumed = 0, rekeyed = 0, unjournaled = 0 }
local stop_message

-- journaled(c, st, fp) -> the step's entry from the journal, if done with this key
local function journaled(c, st, fp)
  local rec = done[c.domain .. "|" .. st.id]
  if not rec then return nil end
  local kfp, site_id, alias, existing = rec:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
  if kfp ~= fp then
    counts.rekeyed = counts.rekeyed + 1
    io.stderr:write(c.domain, " (line ", c.line, "): ", st.id, " was done with another key; doing it again with this one\n")
    return nil
  end
  counts.resumed = counts.resumed + 1
  return { site_id = site_id ~= "" and site_id or nil, alias = alias ~= "" and alias or nil, existing = existing == "1" }
end

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
  -- one read for all workers: the others wait for it rather than each
  -- holding a copy of the account's list (thousands of sites)
  while sites_cache == "loading" do cdnctl.sleep(0.02) end
  if not sites_cache then
    sites_cache = "loading"
    local r, err = easyio.show_sites()
    if not r then sites_cache = nil; return nil, err end
    -- compactly: "SITE_ID\tALIAS" by site key
    local cache = {}
    for _, s in ipairs(r.sites or {}) do
      cache[check.site_key(s.site_url) or s.site_url] = tostring(s.site_id) .. "\t" .. tostring(s.alias)
    end
    sites_cache = cache
  end
  local known = sites_cache[check.site_key(c.site_url)]
  if not known then return false end
  local site_id, alias = known:match("^(.-)\t(.*)$")
  return { site_id = site_id, alias = alias }
end

-- perform(c, st) -> the entry of a step just done | nil, err
-- braked(name, fp, f, ...) -> f(...), unless the brake stops operation
-- `name` for the key fp (5 refusals in a row with one message; --keep-going
-- sends them all): then nil and why, said once on stderr.
local function braked(name, fp, f, ...)
  local go, why = brake:check(name, fp)
  if not go then
    if brake.announce then io.stderr:write(brake.announce, "\n") end
    return nil, why
  end
  local r, err = f(...)
  brake:record(name, fp, not r and (err or "refused") or nil)
  return r, err
end

local function perform(c, st, fp)
  if st.host then
    local r, err = braked("shortpixel.add_domain", fp, shortpixel.add_domain, st.host, { key = c.shortpixel_key })
    if not r then return nil, err end
    return { message = r.Message }
  end
  local s, err = find_site(c)
  if s == nil then return nil, err end
  if s then return { site_id = tostring(s.site_id), alias = s.alias, existing = true } end
  local r, cerr = braked("easyio.create_site", fp, easyio.create_site, c.site_url, { key = c.easyio_key })
  if not r and type(cerr) == "table" and cerr.code == "duplicate" and cerr.site then
    -- registered meanwhile (another run, the console): this account's, so done
    brake:record("easyio.create_site", fp, nil)
    return { site_id = tostring(cerr.site.site_id), alias = cerr.site.alias, existing = true }
  elseif not r then return nil, cerr end
  return { site_id = tostring(r.id), alias = r.alias }
end

-- record(c, st, entry, fp) -> true | false when the journal cannot be written (then no new work starts)
local function record(c, st, entry, fp)
  local e = { domain = c.domain, step = st.id, ok = true, key = fp, message = entry.message,
    site_id = entry.site_id, alias = entry.alias, existing = entry.existing or nil }
  local ok, err = journal:write(e)
  if ok then return true end
  stop = stop or err
  stop_message = stop_message or err
  counts.unjournaled = counts.unjournaled + 1
  return false
end

-- Rows sharing an Easy IO site (the same site key and key) get one site: the
-- first row's. owners[60-bit digest] = {} while its row works on it, then its line
-- (negative when it failed): a number per site, so memory stays flat.
local owners = {}

-- do_step(c, st, fp) -> entry | nil, err; second result true when done but not journaled
local function do_step(c, st, fp)
  local entry = journaled(c, st, fp)
  if entry then return entry end
  if unsure[c.domain .. "|" .. st.id] then -- perform reads (find_site) before it acts
    io.stderr:write(c.domain, " (line ", c.line, "): the outcome of ", st.id, " was unknown on an earlier run; checking first\n")
  end
  local err
  entry, err = perform(c, st, fp)
  if not entry and type(err) == "table" and err.code == "unknown_outcome" then
    -- recorded as unknown: the next run is told, and checks before it acts
    journal:write { domain = c.domain, step = st.id, ok = false, unknown = true, key = fp, message = err.message }
  end
  if not entry then return nil, err end
  return entry, not record(c, st, entry, fp)
end

-- The Easy IO step: the first row with a site makes it; later rows with the
-- same site wait for it, read it, and say which line made it.
local function site_step(c, st, fp)
  local k = digest((check.site_key(c.site_url) or c.site_url) .. "\0" .. (c.easyio_key or ""), 60)
  if owners[k] then
    while type(owners[k]) == "table" do cdnctl.sleep(0.02) end
    local line = owners[k]
    if line < 0 then return nil, "site: the row on line " .. -line .. " could not make it" end
    local r, err = easyio.show_sites(c.site_url, { key = c.easyio_key })
    if not r then return nil, err end
    for _, s in ipairs(r.sites or {}) do
      if check.same_site(s.site_url, c.site_url) then return { site_id = tostring(s.site_id), alias = s.alias, shared = line } end
    end
    return nil, "site: the row on line " .. line .. " made it, but the account does not list it"
  end
  owners[k] = {}
  local ok, entry, err = pcall(do_step, c, st, fp)
  owners[k] = ok and entry and c.line or -c.line
  if not ok then error(entry, 0) end
  return entry, err
end

local NOT_JOURNALED = "done but not journaled (the journal could not be written): run again once it can"

-- One client, step by step; a bad or skipped row is its own result.
local function onboard(item)
  if not item.service then return item end
  local c = item
  local res = { domain = c.domain, status = "ok", line = c.line }
  local steps = steps_of(c)
  counts.steps = counts.steps + #steps
  for k, st in ipairs(steps) do
    if stop then
      res.status = k == 1 and "not tried" or "failed"
      res.error = (k == 1 and "not tried" or "not done") .. ": the journal could not be written; run again once it can"
      break
    end
    local service = st.host and "shortpixel" or "easyio"
    local fp = key_fp(service, st.host and c.shortpixel_key or c.easyio_key)
    local entry, err
    if st.host then entry, err = do_step(c, st, fp) else entry, err = site_step(c, st, fp) end
    if not entry then res.status, res.error = "failed", tostring(err); break end
    if st.host then
      res[st.host == c.domain and "shortpixel_apex" or "shortpixel_www"] = "associated"
    else
      res.easyio_site_id, res.easyio_alias = entry.site_id, entry.alias
      res.easyio_site = entry.shared and ("same site as line " .. entry.shared) or entry.existing and "existing" or "created"
    end
    if err == true then res.status, res.error = "failed", NOT_JOURNALED; break end
  end
  return res
end

-- The results, written as rows come, in input order, by the output rules:
-- a file gets a temporary file next to its target (a symbolic link
-- followed; the old file's mode kept), renamed over it at the end (out:commit);
-- a device or a FIFO is written in place.
local results, rerr = out_check:begin()
if not results then journal:close(); die(EXIT_ERROR, "cannot write the results: ", tostring(rerr)) end
local write_err
local function put(text)
  if write_err then return end
  local okw, e = results:write(text)
  if not okw then write_err = e end
end
do
  local head = {}
  for _, name in ipairs(COLUMNS) do head[name] = name end
  put(csv.format_row(head, COLUMNS))
end

local tally = { total = 0, ok = 0, failed = 0, skipped = 0, ["not tried"] = 0 }
local groups, failed_rows = failures.groups(), {}
local emit, emit_held = in_order(function(r)
  tally.total = tally.total + 1
  tally[r.status] = (tally[r.status] or 0) + 1
  if r.status == "failed" then
    groups:add(r.error, r.domain)
    if opts.json then failed_rows[#failed_rows + 1] = { domain = r.domain, error = r.error } end
  end
  put(csv.format_row(r, COLUMNS))
end)
local names = {}
local _, _, summary = cdnctl.parallel(each_item, function(item, i)
  names[i] = item.domain
  return onboard(item)
end, {
  concurrency = opts.concurrency or 8, label = "onboard", total = ROWS,
  failed = function(r) return r.status == "failed" end,
  on_result = function(i, r, err)
    -- a raise is a failure of that client: its first line, no traceback
    emit(i, r or { domain = names[i], status = "failed", error = tostring(err):match("^[^\n]*") })
    names[i] = nil
    -- the transfers' libcurl handles live outside Lua's heap, where the
    -- collector does not see their weight: collect now and then, so that
    -- memory stays flat however long the CSV is
    if i % 64 == 0 then collectgarbage() end
  end,
})
-- Every row accounted for, however the run stopped: a row whose step was
-- abandoned after the drain (SIGTERM, SIGHUP) is failed, the rows after it
-- are written in order, and every row not reached is "not tried".
local function stop_words()
  local sig, name = require("cdnctl.host").stop_signal()
  if stop then return "the journal could not be written" end
  return "the run stopped" .. (sig ~= 0 and (" (" .. name .. ")") or "")
end
emit_held(summary.total, function(i)
  return { domain = names[i], status = "failed", error = "abandoned: a step was still in flight when "
    .. stop_words() .. " and the drain ended; its outcome is unknown: run the same command again to go on" }
end)
local function not_tried_rows()
  local why = "not tried: " .. stop_words() .. " before this row; run the same command again to go on"
  local function put_row(domain) emit(tally.total + 1, { domain = domain, status = "not tried", error = why }) end
  if pulled > summary.total and last_item then put_row(last_item.domain) end
  for row in next_row do put_row(row.domain) end
end
if summary.interrupted or stop then not_tried_rows() end
journal:close()
if input then input:close() end

-- Closes the results: flushed, checked, fsync'd and renamed into place
-- (the temporary removed when a write failed).
local function finish_results()
  local okc, e = out_check:commit(results, write_err ~= nil)
  if not okc then write_err = write_err or e end
end
finish_results()

local out = human
if counts.resumed > 0 then
  out:write(string.format("resumed %d of %d steps from %s\n", counts.resumed, counts.steps, journal_path))
end
if counts.rekeyed > 0 then
  out:write(string.format("%d steps done with another key were done again with this one\n", counts.rekeyed))
end
-- the failures grouped by reason, then the summary: the last line
for _, line in ipairs(groups:lines(not write_err and out_path or nil)) do out:write(line, "\n") end
local extra = (tally.skipped > 0 and string.format(", %d skipped", tally.skipped) or "")
  .. (tally["not tried"] > 0 and string.format(", %d not tried", tally["not tried"]) or "")
out:write(string.format("%d clients: %d ok, %d failed%s%s; results in %s\n", tally.total, tally.ok, tally.failed, extra,
  summary.interrupted and " (interrupted: run the same command again to go on)" or "",
  write_err and "none (they could not be written)" or out_path))
if stop_message then
  io.stderr:write(string.format("%s; no new work was started after it; %d clients done but not journaled "
    .. "(run the same command again once it can be written: it finds what they did)\n", stop_message, counts.unjournaled))
end
if write_err then io.stderr:write("cannot write the results ", out_path, ": ", tostring(write_err), "\n") end
json_doc { clients = tally.total, ok = tally.ok, failed = tally.failed, skipped = tally.skipped,
  not_tried = tally["not tried"],
  interrupted = summary.interrupted or false, steps = counts.steps, resumed = counts.resumed,
  redone_with_another_key = counts.rekeyed, results = not write_err and out_path or require("cdnctl.json").null,
  journal = journal_path, failures = failed_rows, error = stop_message }
if stop_message or write_err then cdnctl.exit(EXIT_ERROR) end
cdnctl.exit(tally.failed > 0 and script.EXIT_FAILED or script.EXIT_OK)
