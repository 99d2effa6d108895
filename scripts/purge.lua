-- scripts/purge.lua: purge ShortPixel's CDN cache (or its storage) for
-- domains, apex and www both, or purge single images from the CDN cache.
--
--   cdnctl scripts/purge.lua [--storage] [--concurrency N] [--profile NAME] [--yes | --dry-run] DOMAIN...
--   cdnctl scripts/purge.lua [--storage] [--concurrency N] [--profile NAME] [--yes | --dry-run] --from FILE
--   cdnctl scripts/purge.lua --url URL [--url URL...] [--concurrency N] [--profile NAME] [--yes | --dry-run]
--   cdnctl scripts/purge.lua --urls FILE [--concurrency N] [--profile NAME] [--yes | --dry-run]
--
-- Which endpoint each mode calls (a domain's CDN purge clears ShortPixel's
-- storage copy too; the CDN cache alone is purged one image at a time):
--   default       purge-cdn-cache-bulk  the CDN cache and ShortPixel's storage, per host
--   --storage     purge-storage-bulk    ShortPixel's storage only; the CDN cache stays
--   --url/--urls  purge-cdn-cache       one image and its variants from the CDN cache
--                                       (shortpixel.purge_cdn_cache, as SPIO sends it)
-- Each host or image gets exactly one call. Every domain is purged for its
-- apex and its www (shortpixel.hosts), which ShortPixel treats as separate
-- domains; two URLs that purge the same image (photo.jpg, photo.webp: both
-- photo*) are sent once. Bad domains and URLs are reported with where they
-- came from (argument N, FILE:line) and the rest go on. A purge costs
-- (caches refill from the origin): on a terminal it asks first, naming the
-- hosts or images; --yes skips the question; without a terminal and without
-- --yes nothing is sent (exit 2). --dry-run lists what would be purged and
-- sends nothing. After Ctrl-C the hosts or images not tried are counted
-- apart from the failed. Exit: 0 everything purged, 3 some failed, were not
-- associated with the key or were bad input, 2 bad usage or not confirmed;
-- after a stop signal 130 (Ctrl-C), 143 (SIGTERM) or 129 (SIGHUP).

local script = require "cdnctl.kit.script"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"

local USAGE = "usage: cdnctl scripts/purge.lua [--storage] [--concurrency N] [--profile NAME] [--yes | --dry-run] [--json] DOMAIN...\n"
  .. "       cdnctl scripts/purge.lua [--storage] [--concurrency N] [--profile NAME] [--yes | --dry-run] [--json] --from FILE\n"
  .. "       cdnctl scripts/purge.lua --url URL [--url URL...] [--concurrency N] [--profile NAME] [--yes | --dry-run] [--json]\n"
  .. "       cdnctl scripts/purge.lua --urls FILE [--concurrency N] [--profile NAME] [--yes | --dry-run] [--json]"

local HELP = USAGE .. [[


Purges ShortPixel's caches for every domain, for its apex and its www
(example.com and www.example.com are separate domains to ShortPixel), or
single images from ShortPixel's CDN cache.

Modes (one API call per host or image):
  (default)        GET purge-cdn-cache-bulk: the CDN cache and ShortPixel's
                   storage of each host. A domain's CDN purge clears its
                   storage too; the CDN cache alone is purged per image.
  --storage        GET purge-storage-bulk: ShortPixel's storage only; the CDN
                   cache is left as it is.
  --url URL        GET purge-cdn-cache/KEY/URL: one image and its variants
                   from the CDN cache (shortpixel.purge_cdn_cache, as
                   ShortPixel Image Optimizer sends it after an optimisation):
                   the image's full https URL, its last segment's extension
                   replaced by '*' (photo.jpg -> photo*); a URL ending in '*'
                   purges every image under that prefix. Repeatable. Not with
                   --storage, domains or --from
  --urls FILE      the images from FILE, one URL per line (blank lines and
                   # comments skipped), as --url

Options:
  --from FILE      the domains from FILE: one per line (blank lines and
                   # comments skipped), or a CSV with a header and a 'domain'
                   column (optional columns: 'service' -- rows for easyio only
                   are skipped -- and 'shortpixel_key', a per-client key); at
                   most 64 MiB of text
  --concurrency N  requests in flight at most (default 8)
  --profile NAME   use this profile's keys
  --yes            purge without asking. On a terminal, purge.lua asks first
                   ("purge CDN cache and storage of 12 hosts: ...? [y/N]",
                   "purge each of 3 images (and its variants) from
                   ShortPixel's CDN cache: ...? [y/N]"); without a terminal
                   (cron) it purges nothing and exits 2 unless --yes is given
  --dry-run        list the hosts (or the images, as each is sent) that would
                   be purged; send nothing
  --json           one JSON document on stdout (hosts, or urls, with their
                   state and message, counts, bad inputs); the human lines go
                   to stderr

Each host's (or image's) result is printed, then the hosts that are not
associated with the key. A URL that is not an https URL with a host and a
path, or that has a space, '?', '#' or '%', is a bad input: reported, not
sent. After Ctrl-C the hosts or images not tried are listed as "not tried"
and counted apart from the failed. Exit status: 0 everything purged, 3 some
failed, were not associated or were bad input, 2 usage or not confirmed;
after a stop signal 130 (Ctrl-C), 143 (SIGTERM) or 129 (SIGHUP).

]] .. script.KEYS_HELP .. "\n\n" .. script.OUTPUTS_HELP

local argv = { ... }
for _, a in ipairs(argv) do
  if a == "--help" or a == "-h" then io.stdout:write(HELP, "\n"); cdnctl.exit(0) end
end
local SPEC = { ["--storage"] = "flag", ["--concurrency"] = "integer", ["--from"] = "value", ["--profile"] = "value",
  ["--yes"] = "flag", ["--dry-run"] = "flag", ["--json"] = "flag", ["--url"] = "list", ["--urls"] = "value" }
local opts = script.args(argv, SPEC, USAGE)

local function usage_error(msg)
  io.stderr:write(msg, "\n", USAGE, "\n")
  cdnctl.exit(script.EXIT_USAGE)
end

-- The positional arguments with their place on the command line ($N), and
-- the values of --url with theirs.
local function positional(args)
  local out, urls, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    local inline = a:match("^%-%-url=(.*)$")
    if inline then
      urls[#urls + 1] = { value = inline, index = i }
    elseif a == "--" then
      for k = i + 1, #args do out[#out + 1] = { value = args[k], index = k } end
      break
    elseif a:sub(1, 2) == "--" then
      if a == "--url" then urls[#urls + 1] = { value = args[i + 1], index = i + 1 } end
      if SPEC[a] and SPEC[a] ~= "flag" then i = i + 1 end -- its value follows
    else
      out[#out + 1] = { value = a, index = i }
    end
    i = i + 1
  end
  return out, urls
end

local pos, url_args = positional(argv)
local images = opts.url ~= nil or opts.urls ~= nil
if images then
  if opts.storage then
    usage_error("--storage and --url/--urls do not go together: --storage purges ShortPixel's storage of whole "
      .. "domains, --url and --urls purge single images from the CDN cache")
  end
  if opts.url and opts.urls then usage_error("give images with --url or --urls FILE, not both") end
  if opts.from or #pos > 0 then usage_error("give images (--url, --urls) or domains (arguments, --from), not both") end
else
  if opts.from and #pos > 0 then usage_error("give domains as arguments or --from FILE, not both") end
  if not opts.from and #pos == 0 then usage_error("no domain given") end
end
if opts.yes and opts.dry_run then usage_error("--yes and --dry-run do not go together") end
local ok, perr = script.use_profile(opts.profile)
if not ok then io.stderr:write(perr, "\n"); cdnctl.exit(script.EXIT_USAGE) end
-- The outputs (--har) against the input and standard output, before any request.
do
  local outs, oerr = script.outputs({}, { opts.from or opts.urls }, opts.json and "--json")
  if not outs then script.refuse(oerr) end
end

-- Inputs: {raw =, source =, key =}; problems found while reading: {source =, message =}.
local inputs, bad, notes = {}, {}, {}

local function read_list(path, text)
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if n == 1 then line = line:gsub("^\239\187\191", "") end
    line = line:gsub("\r$", ""):gsub("%s+#.*$", ""):match("^%s*(.-)%s*$")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      inputs[#inputs + 1] = { raw = line, source = path .. ":" .. n }
    end
  end
end

local function read_csv(path, text)
  local rows, header = csv.parse_table(text)
  if not rows then usage_error(path .. ": " .. header) end
  local has = {}
  for _, h in ipairs(header) do has[h] = true end
  if not has.domain then usage_error(path .. ": the header has no 'domain' column") end
  for _, row in ipairs(rows) do
    local src = path .. ":" .. csv.line(row)
    local service = (row.service or ""):lower()
    local key, kerr
    if row.shortpixel_key and row.shortpixel_key ~= "" then key, kerr = check.key(row.shortpixel_key, "shortpixel_key") end
    local other = script.other_profile(row.profile, path)
    if csv.problem(row) then bad[#bad + 1] = { source = src, message = (csv.problem(row):gsub("^line %d+: ", "")) }
    elseif other then bad[#bad + 1] = { source = src, message = other }
    elseif service == "easyio" then notes[#notes + 1] = "skipped " .. src .. ": service is easyio (no ShortPixel domain)"
    elseif service ~= "" and service ~= "shortpixel" and service ~= "both" then
      bad[#bad + 1] = { source = src, message = "service: unknown service '" .. row.service .. "' (shortpixel, easyio or both)" }
    elseif kerr then bad[#bad + 1] = { source = src, message = kerr }
    else inputs[#inputs + 1] = { raw = row.domain, source = src, key = key } end
  end
end

if opts.from then
  local text, rerr = script.read_input(opts.from)
  if not text then script.refuse("--from: cannot read " .. tostring(rerr)) end
  -- A CSV when its first meaningful line is a header: it has a comma or is 'domain'.
  local first
  for line in text:gsub("^\239\187\191", ""):gmatch("[^\r\n]+") do
    local l = line:match("^%s*(.-)%s*$")
    if l ~= "" and l:sub(1, 1) ~= "#" then first = l; break end
  end
  if first and (first:find(",", 1, true) or first:lower() == "domain") then read_csv(opts.from, text)
  else read_list(opts.from, text) end
elseif opts.urls then
  local text, rerr = script.read_input(opts.urls)
  if not text then script.refuse("--urls: cannot read " .. tostring(rerr)) end
  read_list(opts.urls, text)
else
  for _, p in ipairs(images and url_args or pos) do
    inputs[#inputs + 1] = { raw = p.value, source = "argument " .. p.index }
  end
end

-- The items to purge, {label (what a line names), host, source, key} and,
-- for an image, url (as checked) and purged (what is sent: '*' for the
-- extension). Domains give apex and www each once, in the order given;
-- URLs that purge the same image give it once.
local items, seen = {}, {}
local function add(label, item)
  if seen[label] then
    notes[#notes + 1] = "note: " .. label .. " (" .. item.source .. ") is already listed (" .. seen[label] .. "): purged once"
  else
    seen[label] = item.source
    item.label = label
    items[#items + 1] = item
  end
end
for _, input in ipairs(inputs) do
  if images then
    local u, uerr = check.https_url(input.raw, "url")
    if not u then bad[#bad + 1] = { source = input.source, message = uerr }
    else
      local target = ops.purge_target(u)
      add(target, { url = u, purged = target, host = ops.image_host(u), source = input.source })
    end
  else
    local d, derr = check.domain(input.raw, "domain")
    if not d then bad[#bad + 1] = { source = input.source, message = derr }
    else
      for _, h in ipairs(check.hosts(d)) do add(h, { host = h, source = input.source, key = input.key }) end
    end
  end
end
for _, b in ipairs(bad) do io.stderr:write("skipped ", b.source, ": ", b.message, "\n") end
for _, n in ipairs(notes) do io.stderr:write(n, "\n") end

-- What the run purges: its operation, the words for what goes ("... for
-- 4 hosts"), its question, one item's call and its JSON entry.
local mode
if images then
  mode = { name = "image", noun = "images", list = "urls", op = ops.by_name["shortpixel.purge_cdn_cache"] }
  function mode.scope(n)
    return string.format("%d image%s and %s variants from ShortPixel's CDN cache (purge-cdn-cache)",
      n, n == 1 and "" or "s", n == 1 and "its" or "their")
  end
  function mode.question()
    if #items == 1 then return (mode.op.confirm:gsub("{url}", function() return items[1].url end)) end
    local shown = {}
    for i = 1, math.min(#items, 6) do shown[i] = items[i].url end
    local more = #items > 6 and string.format(" and %d more", #items - 6) or ""
    return mode.op.confirm:gsub("{url}", function() return "each of " .. #items .. " images" end)
      .. ": " .. table.concat(shown, ", ") .. more
  end
  function mode.purge(it) return shortpixel.purge_cdn_cache(it.url, { key = it.key }) end
  function mode.entry(it) return { url = it.url, purged = it.purged, host = it.host, source = it.source } end
else
  mode = { name = opts.storage and "storage" or "cdn", noun = "hosts", list = "hosts",
    op = ops.by_name[opts.storage and "shortpixel.purge_storage_bulk" or "shortpixel.purge_cdn_cache_bulk"] }
  local what = opts.storage and "ShortPixel storage only (purge-storage-bulk)"
    or "CDN cache and ShortPixel storage (purge-cdn-cache-bulk)"
  function mode.scope(n) return string.format("%s for %d hosts", what, n) end
  function mode.question()
    local hosts = {}
    for i, it in ipairs(items) do hosts[i] = it.host end
    return (mode.op.confirm:gsub("{hosts}", function() return script.hosts_text(hosts) end))
  end
  local purge = opts.storage and shortpixel.purge_storage_bulk or shortpixel.purge_cdn_cache_bulk
  function mode.purge(it) return purge(it.host, { key = it.key }) end
  function mode.entry(it) return { host = it.host, source = it.source } end
end

local width = 0
for _, it in ipairs(items) do width = math.max(width, #it.label) end
-- Human lines go to stdout, or to stderr when stdout is the JSON document.
local human = opts.json and io.stderr or io.stdout
local function json_out(doc)
  if not opts.json then return end
  local json = require "cdnctl.json"
  for _, k in ipairs { mode.list, "bad", "not_associated" } do
    if doc[k] and #doc[k] == 0 then doc[k] = json.empty_array end
  end
  local ok, err = io.stdout:write(json.encode(doc), "\n")
  if not ok then io.stderr:write("cannot write the JSON to stdout: ", tostring(err), "\n"); cdnctl.exit(1) end
end
local function bad_list()
  local out = {}
  for _, b in ipairs(bad) do out[#out + 1] = { source = b.source, message = b.message } end
  return out
end

-- One item's line: its state and label in columns (padded here: a URL or a
-- host may be longer than string.format pads), its source, its message.
local function line(state, it, message)
  human:write(string.format("%-14s ", state), it.label, string.rep(" ", width - #it.label),
    "  (", it.source, ")", message and ("  " .. message) or "", "\n")
end

if opts.dry_run then
  human:write("dry run: would purge ", mode.scope(#items), "; nothing is sent\n")
  local list = {}
  for _, it in ipairs(items) do line("would purge", it); list[#list + 1] = mode.entry(it) end
  json_out { dry_run = true, mode = mode.name, [mode.list] = list, bad = bad_list() }
  cdnctl.exit(#bad == 0 and script.EXIT_OK or script.EXIT_FAILED)
end
if #items > 0 and not script.confirm(mode.question(), opts.yes) then cdnctl.exit(script.EXIT_USAGE) end
human:write("purging ", mode.scope(#items), "\n")

-- After a refusal, is the host not this key's? Decided from what public
-- clients show the service answers (../shared/api-evidence.md), never from
-- refusal codes, which nobody knows: read_domain's HasAccount false means no
-- account has it; a read_domain_cdn_usage answer that is not an object
-- (err.code "not_owner") means this key does not own it. -> "nobody",
-- "another account" or nil (it is this key's, or we cannot tell)
-- The code of read_domain_cdn_usage's "this key does not own the domain" (cdnctl.ops).
local NOT_OWNER = ops.by_name["shortpixel.read_domain_cdn_usage"].not_object.code
local function not_associated(host, key, err)
  if not host or type(err) ~= "table" or err.kind ~= "api" then return nil end
  local d = shortpixel.read_domain(host)
  if d and not d.HasAccount then return "nobody" end
  local u, uerr = shortpixel.read_domain_cdn_usage(host, { key = key })
  if not u and uerr.code == NOT_OWNER then return "another account" end
  return nil
end

local results = {}
local _, errs = cdnctl.parallel(items, function(it)
  local r, err = mode.purge(it)
  if r then return { state = "purged", message = r.Message ~= nil and tostring(r.Message) or nil } end
  local whose = not_associated(it.host, it.key, err)
  if whose then
    return { state = "not associated", message = "associated with " .. (whose == "nobody" and "no account"
      or "another account") .. "; the service said: " .. tostring(err.message) }
  end
  return { state = "failed", message = tostring(err) }
end, {
  concurrency = opts.concurrency or 8, label = "purge", failed = function(r) return r.state ~= "purged" end,
  on_result = function(i, r, err) results[i] = r or { state = "failed", message = tostring(err) } end,
})

-- An item with neither a result nor an error was never started: Ctrl-C
-- stopped the run first. It is "not tried", not "failed".
local counts = { purged = 0, ["not associated"] = 0, failed = 0, ["not tried"] = 0 }
local unassoc, listed, json_items = {}, {}, {}
for i, it in ipairs(items) do
  local r = results[i] or (errs[i] and { state = "failed", message = errs[i] })
    or { state = "not tried", message = "interrupted before it was sent" }
  counts[r.state] = counts[r.state] + 1
  if r.state == "not associated" and not listed[it.host] then
    listed[it.host] = true
    unassoc[#unassoc + 1] = it.host
  end
  line(r.state, it, r.message)
  local entry = mode.entry(it)
  entry.state, entry.message = r.state, r.message
  json_items[#json_items + 1] = entry
end
local not_tried = counts["not tried"] > 0 and string.format(", %d not tried (interrupted)", counts["not tried"]) or ""
human:write(string.format("%d %s: %d purged, %d not associated with the key, %d failed%s; %d bad inputs\n",
  #items, mode.noun, counts.purged, counts["not associated"], counts.failed, not_tried, #bad))
if #unassoc > 0 then
  human:write("not associated with the key: ", table.concat(unassoc, " "), "\n")
end
json_out { mode = mode.name, [mode.list] = json_items, bad = bad_list(), not_associated = unassoc,
  counts = { purged = counts.purged, not_associated = counts["not associated"], failed = counts.failed,
             not_tried = counts["not tried"], bad_inputs = #bad } }
local all_ok = counts.purged == #items and #bad == 0
cdnctl.exit(all_ok and script.EXIT_OK or script.EXIT_FAILED)
