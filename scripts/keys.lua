-- scripts/keys.lua: Easy IO sub-keys for agencies (one per client).
--
--   cdnctl scripts/keys.lua list [--show-keys]
--   cdnctl scripts/keys.lua create --label L [--allowed N] [--site-limit N]
--   cdnctl scripts/keys.lua change SUBKEY [--label L] [--allowed N] [--site-limit N]
--   cdnctl scripts/keys.lua remove SUBKEY [--yes]
--   (each takes --profile NAME)
--
-- Keys are shown masked (redact.short: "****" and the last four characters;
-- cdnctl masks every sub-key it has seen in all output anyway) unless list
-- --show-keys. create prints the new sub-key once, alone on standard output:
-- the one place this script prints a key (both through cdnctl.write_unmasked).
-- SUBKEY is the full sub-key or its masked form as list shows it, which
-- keeps the key off the command line. change sends only what is given and
-- keeps the rest (easyio.change_key reads the current values first: the API blanks
-- omitted fields). remove asks first on a terminal, naming the key (masked)
-- and its label; --yes skips the question; without a terminal and without
-- --yes nothing is sent (exit 2). Exit: 0 done, 3 the API refused or
-- failed, 2 usage or not confirmed, 1 a create not sent because the read
-- that checks it (show_keys) failed, or a change lost: the read-back
-- shows another value for a field given (another change landed meanwhile).

local script = require "cdnctl.kit.script"
local check = require "cdnctl.check"
local redact = require "cdnctl.redact"
local host = require "cdnctl.host"

local USAGE = [[usage: cdnctl scripts/keys.lua list [--show-keys] [--json]
       cdnctl scripts/keys.lua create --label L [--allowed N] [--site-limit N]
       cdnctl scripts/keys.lua change SUBKEY [--label L] [--allowed N] [--site-limit N]
       cdnctl scripts/keys.lua remove SUBKEY [--yes]
       (each also takes --profile NAME)]]

local HELP = USAGE .. [[


Manages the Easy IO account's sub-keys (with the account key, from the
source below; a sub-key cannot manage sub-keys).

  list      each sub-key with its label, its monthly image limit (allowed),
            its site limit, its sites and this month's use (credits and bill);
            keys are masked (****abcd) unless --show-keys
  create    creates a sub-key, then sets its label and limits. The new key is
            printed once, alone on standard output (KEY=$(... create ...)):
            this is the only place this script prints a key in full, so keep
            it then. The rest goes to standard error.
  change    changes the label or limits given and keeps the others, then
            reads the sub-key back: change.php has no compare-and-set, so
            when a field given reads back with another value (another
            change landed meanwhile) it says which and exits 1
  remove    removes the sub-key. On a terminal it asks first, naming the key
            (masked) and its label; --yes removes without asking; without a
            terminal (cron, a pipe) it removes nothing and exits 2 unless
            --yes is given

SUBKEY is the full sub-key or its masked form as list shows it (****abcd),
which keeps the key out of ps and the shell's history. Limits are whole
numbers; 0 means no limit. Exit status: 0 done, 3 the API refused or failed,
2 usage or not confirmed, 1 a change lost to another one, or a create not
sent because the read that checks it failed.

]] .. script.KEYS_HELP .. "\n\n" .. script.OUTPUTS_HELP

local argv = { ... }
for _, a in ipairs(argv) do
  if a == "--help" or a == "-h" then io.stdout:write(HELP, "\n"); cdnctl.exit(0) end
end
local opts, pos = script.args(argv, {
  ["--show-keys"] = "flag", ["--label"] = "value", ["--allowed"] = "value", ["--site-limit"] = "value",
  ["--profile"] = "value", ["--yes"] = "flag", ["--json"] = "flag",
}, USAGE)

local function usage_error(msg)
  io.stderr:write(msg, "\n", USAGE, "\n")
  cdnctl.exit(script.EXIT_USAGE)
end
local function failed(msg)
  io.stderr:write(msg, "\n")
  cdnctl.exit(script.EXIT_FAILED)
end

local COMMANDS = { list = 0, create = 0, change = 1, remove = 1 } -- arguments after the command
local cmd = pos[1]
if not cmd then usage_error("a command is needed: list, create, change or remove") end
if COMMANDS[cmd] == nil then
  local hint = require("cdnctl.suggest").closest(cmd, { "list", "create", "change", "remove" })
  usage_error("unknown command '" .. cmd .. "'" .. (hint and ("; did you mean '" .. hint .. "'?") or "")
    .. " (list, create, change or remove)")
end
if #pos - 1 ~= COMMANDS[cmd] then
  usage_error(COMMANDS[cmd] == 1 and (cmd .. " needs one SUBKEY") or (cmd .. " takes no arguments"))
end
if opts.show_keys and cmd ~= "list" then usage_error("--show-keys goes with list only") end
if opts.json and cmd ~= "list" then usage_error("--json goes with list only") end
if opts.yes and cmd ~= "remove" then usage_error("--yes goes with remove only") end
if (cmd == "list" or cmd == "remove") and (opts.label or opts.allowed or opts.site_limit) then
  usage_error("--label, --allowed and --site-limit go with create and change")
end
if cmd == "create" and not opts.label then usage_error("create needs --label") end

-- The fields to set, checked: {label =, allowed =, site_limit =}.
local fields = {}
if opts.label then
  local v, err = check.text(opts.label, "--label")
  if not v then usage_error(err) end
  fields.label = v
end
for opt, name in pairs({ allowed = "--allowed", site_limit = "--site-limit" }) do
  if opts[opt] then
    local n = opts[opt]:match("^%d+$") and check.count(opts[opt], name)
    if not n then usage_error(name .. " must be a whole number (0 for no limit), not '" .. opts[opt] .. "'") end
    fields[opt] = n
  end
end
if cmd == "change" and next(fields) == nil then usage_error("change needs --label, --allowed or --site-limit") end

local ok, perr = script.use_profile(opts.profile)
if not ok then io.stderr:write(perr, "\n"); cdnctl.exit(script.EXIT_USAGE) end
-- The outputs (--har) against standard output, before any request.
do
  local outs, oerr = script.outputs({}, {}, (opts.json or cmd == "create") and "the " .. cmd .. " output")
  if not outs then script.refuse(oerr) end
end

local short = redact.short
local EXIT_LOST = 1 -- change: the read-back shows a field given with another value
local function describe(r)
  return string.format("label '%s', allowed %s, site limit %s", tostring(r.label or ""),
    tostring(r.allowed or 0), tostring(r.site_limit or 0))
end

-- The full sub-key for SUBKEY: itself, or the one key list shows that way
-- (then also the show_keys answer it was found in).
local function resolve(arg)
  local masked = arg:match("^%*%*%*%*") ~= nil
  if not masked then
    local k, err = check.key(arg, "SUBKEY")
    if not k then usage_error(err) end
    redact.add(k) -- masked in any message from here on
    return k
  end
  local r, err = easyio.show_keys()
  if not r then failed("cannot list the sub-keys to find " .. arg .. ": " .. tostring(err)) end
  local found = {}
  for _, k in ipairs(type(r.keys) == "table" and r.keys or {}) do
    if short(k) == arg then found[#found + 1] = k end
  end
  if #found == 0 then failed("no sub-key is shown as " .. arg .. " (see: cdnctl scripts/keys.lua list)") end
  if #found > 1 then failed(#found .. " sub-keys are shown as " .. arg .. ": give the full key (list --show-keys)") end
  redact.add(found[1])
  return found[1], r
end

if cmd == "list" then
  -- a stop signal during the read: one stopping line (sched), exit 128 + it
  local read, r, err = require("cdnctl.sched").unless_stopped(easyio.show_keys)
  if not read then cdnctl.exit(script.EXIT_FAILED) end
  if not r then failed("cannot list the sub-keys: " .. tostring(err)) end
  local month = os.date("!%Y-%m")
  local function get(map, k)
    local v = type(map) == "table" and map[k]
    if v == nil or v == false or v == cdnctl.null then return nil end
    return v
  end
  if opts.json then -- one JSON document: numbers as numbers, keys masked unless --show-keys
    local json = require "cdnctl.json"
    local list = {}
    for _, k in ipairs(type(r.keys) == "table" and r.keys or {}) do
      local stats, bill = get(r.stats, k), get(r.bill, k)
      list[#list + 1] = { key = opts.show_keys and k or short(k), label = tostring(get(r.labels, k) or ""),
        allowed = cdnctl.number(get(r.limits, k)) or 0, site_limit = cdnctl.number(get(r.site_limit, k)) or 0,
        sites = cdnctl.number(get(r.sites, k)) or 0, month = month,
        used = cdnctl.number(type(stats) == "table" and stats[month]) or 0,
        bill = type(bill) == "table" and bill[month] or json.null }
    end
    local text = json.encode { month = month, keys = #list > 0 and list or json.empty_array } .. "\n"
    local write = opts.show_keys and script.write_stdout_unmasked or script.write_stdout
    local okw, werr = write(text)
    if not okw then failed(werr) end
    cdnctl.exit(script.EXIT_OK)
  end
  local rows = {}
  for _, k in ipairs(type(r.keys) == "table" and r.keys or {}) do
    local stats, bill = get(r.stats, k), get(r.bill, k)
    rows[#rows + 1] = {
      opts.show_keys and k or short(k), tostring(get(r.labels, k) or ""), tostring(get(r.limits, k) or 0),
      tostring(get(r.site_limit, k) or 0), tostring(get(r.sites, k) or 0),
      tostring(type(stats) == "table" and stats[month] or 0), tostring(type(bill) == "table" and bill[month] or "-"),
    }
  end
  if #rows == 0 then io.stdout:write("no sub-keys on this account\n"); cdnctl.exit(script.EXIT_OK) end
  local head = { "KEY", "LABEL", "ALLOWED", "SITE LIMIT", "SITES", "USED " .. month, "BILL " .. month }
  local right = { false, false, true, true, true, true, true }
  local w = {}
  for c, h in ipairs(head) do
    w[c] = #h
    for _, row in ipairs(rows) do w[c] = math.max(w[c], utf8.len(row[c]) or #row[c]) end
  end
  local function line(row)
    local cells = {}
    for c, s in ipairs(row) do
      local pad = string.rep(" ", w[c] - (utf8.len(s) or #s))
      cells[c] = right[c] and (pad .. s) or (c == #row and s or s .. pad)
    end
    return table.concat(cells, "  ")
  end
  -- sub-keys are masked in everything printed; --show-keys asks for them in full
  local write = opts.show_keys and cdnctl.write_unmasked or io.stdout.write
  io.stdout:write(line(head), "\n")
  for _, row in ipairs(rows) do write(io.stdout, line(row), "\n") end
  io.stdout:write(#rows, " sub-keys; ALLOWED is images a month and 0 means no limit, as for SITE LIMIT\n")
  cdnctl.exit(script.EXIT_OK)

elseif cmd == "create" then
  -- One step that must not stop half-way: a signal ends the request in
  -- flight (a create then checks whether it took effect), and a closed
  -- standard output fails the print instead of ending the process, so that
  -- the new sub-key still gets its label and limits (script.critical).
  script.critical(function()
    local r, err = easyio.create_key()
    if not r and err.not_sent then -- the read its check needs failed: nothing was sent
      io.stderr:write("cannot create a sub-key: ", tostring(err), "\n")
      cdnctl.exit(1)
    end
    if not r then failed(err.kind == "interrupted" and tostring(err) or ("cannot create a sub-key: " .. tostring(err))) end
    local key = r.sub_key
    if type(key) ~= "string" or not check.key(key) then failed("create_key answered without a usable sub_key") end
    -- The key first: whatever happens next, this is the only time it is shown.
    -- Its write is checked: a full disk or a closed pipe loses it, and then
    -- nothing claims it was printed (the key exists: list --show-keys shows it).
    local printed, perr = script.write_stdout_unmasked(key, "\n")
    redact.add(key)
    local c, cerr = easyio.change_key(key, fields)
    if not printed then
      io.stderr:write("created sub-key ", short(key), c and (" with " .. describe(c)) or "",
        ", but could not print it: ", tostring(perr), "\n",
        c and "" or ("and setting " .. describe(fields) .. " failed: " .. tostring(cerr) .. "\n"),
        "see the key with: cdnctl scripts/keys.lua list --show-keys (or remove it: cdnctl scripts/keys.lua remove ",
        short(key), ")\n")
      cdnctl.exit(1)
    end
    if not c then
      failed("created sub-key " .. short(key) .. " (printed above, once), but setting " .. describe(fields)
        .. (cerr.kind == "interrupted" and " was interrupted" or (" failed: " .. tostring(cerr)))
        .. "\nset them with: cdnctl scripts/keys.lua change " .. short(key) .. " --label ..."
        .. "\nor remove it with: cdnctl scripts/keys.lua remove " .. short(key))
    end
    io.stderr:write("created sub-key ", short(key), " with ", describe(c),
      "; the key above is printed this once: store it now\n")
    if r.reconciled and host.stop_signal() ~= 0 then
      io.stderr:write("interrupted: the create had taken effect (checked), so its label and limits were set; stopping\n")
    end
  end)
  cdnctl.exit(script.EXIT_OK)

elseif cmd == "change" then
  -- change.php sets all three fields and has no compare-and-set: read the
  -- current values, send them with the ones given, then read the sub-key
  -- back. A field that then differs from what was sent means another
  -- change landed meanwhile, and one of the two may be lost: say so.
  local key = resolve(pos[2])
  local function current(r) -- the sub-key's fields in a show_keys answer, normalised
    local function get(map)
      local v = type(r) == "table" and type(map) == "table" and map[key] or nil
      if v == cdnctl.null then return nil end
      return v
    end
    return { label = tostring(get(r.labels) or ""), allowed = cdnctl.number(get(r.limits)) or 0,
             site_limit = cdnctl.number(get(r.site_limit)) or 0 }
  end
  local before, berr = easyio.show_keys()
  if not before then failed("cannot read " .. short(key) .. " before changing it: " .. tostring(berr)) end
  local sent = current(before)
  for k, v in pairs(fields) do sent[k] = v end
  local r, err = easyio.change_key(key, sent, { replace = true })
  if not r then failed("cannot change " .. short(key) .. ": " .. tostring(err)) end
  local after, aerr = easyio.show_keys()
  if not after then
    io.stderr:write("warning: changed ", short(key), " to ", describe(sent), ", but reading it back failed: ",
      tostring(aerr), "\n")
    cdnctl.exit(script.EXIT_OK)
  end
  -- A field given that reads back otherwise is this run's change lost
  -- (exit 1, naming it); another field that does is another change, said.
  local now, lost = current(after), {}
  for _, f in ipairs({ "label", "allowed", "site_limit" }) do
    if now[f] ~= sent[f] then
      local q = f == "label" and "'" or ""
      local was = string.format("%s's %s is now %s%s%s, not %s%s%s as sent", short(key), f, q, tostring(now[f]), q, q,
        tostring(sent[f]), q)
      if fields[f] ~= nil then
        lost[#lost + 1] = string.format("keys.lua change: your change of %s to %s%s%s is lost: %s; another change "
          .. "landed meanwhile and change.php has no compare-and-set (check with: cdnctl scripts/keys.lua list, "
          .. "then change it again)\n", f, q, tostring(sent[f]), q, was)
      else
        io.stderr:write("note: ", was, ": another change landed meanwhile (change.php has no compare-and-set); "
          .. "the fields you gave hold\n")
      end
    end
  end
  if #lost > 0 then
    io.stderr:write(table.concat(lost), "keys.lua change: ", short(key), " reads back as ", describe(now), "\n")
    cdnctl.exit(EXIT_LOST)
  end
  io.stdout:write("changed ", short(key), ": ", describe(now), "\n")
  cdnctl.exit(script.EXIT_OK)

elseif cmd == "remove" then
  -- Ask first (script.confirm): a full SUBKEY is checked at once; a masked
  -- one is looked up (show_keys) only once a terminal can answer, so that
  -- nothing is sent without one, and that one read also names it.
  local arg = pos[2]
  local key = not arg:match("^%*%*%*%*") and resolve(arg) or nil
  local ok = script.confirm("remove the Easy IO sub-key " .. (key and short(key) or arg), opts.yes, function()
    if key then return script.sub_key_detail(key) end
    local listed
    key, listed = resolve(arg)
    return script.sub_key_text(listed, key)
  end)
  if not ok then cdnctl.exit(script.EXIT_USAGE) end
  key = key or resolve(arg)
  local r, err = easyio.remove_key(key)
  if not r then failed("cannot remove " .. short(key) .. ": " .. tostring(err)) end
  io.stdout:write("removed ", short(key), "\n")
  cdnctl.exit(script.EXIT_OK)
end
