-- cdnctl.inventory: the agency's client list, one reader for every command.
--
-- A CSV, one row per client domain (docs/inventory.md). Only `domain` is
-- required; the other columns are `client`, `profile`, `service`,
-- `site_url`, `state`, `cname` and the Easy IO settings that
-- easyio.update_site_config takes (their names and kinds come from the
-- operation table). Spreadsheet habits are read as spreadsheets write them:
-- a BOM, CRLF, "," or ";" as the delimiter (from the header line), quotes,
-- trailing spaces, a header in any case, empty rows (skipped and counted).
-- A file without a header that is a plain list of domains reads as one.
--
--   local inv, err = inventory.read(csv.blocks_of(file), { keys = "refuse" })
--   inv.clients: one client per domain, in the order of their first rows:
--     { name, profile (nil: the run's own source), domain (the apex),
--       hosts = {apex, www}, service, shortpixel, easyio (booleans),
--       site_url, site_url_given, state ("present" | "absent"),
--       settings = {field = value as sent}, cname (nil: leave; false: none;
--       a hostname), keys = {shortpixel = K, easyio = K} (only with
--       opts.keys = "rows"), notes = {x_... = text}, line, lines }
--   inv.problems: { {line = n, message = "line n: ..."} } rows that cannot
--     be read or that disagree with an earlier row about the same domain
--   inv.withheld: the clients of domains with a problem row (not acted on)
--   inv.empty_rows, inv.delimiter, inv.header, inv.rows (rows read)
--
-- A row with a problem makes no client (and spoils the rows of its domain
-- that disagree with it); a file-level problem (no domain column, an
-- unknown column, a key column where keys are refused) is nil, message.

local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"
local suggest = require "cdnctl.suggest"

local M = {}

-- The Easy IO settings an inventory may hold: update_site_config's config
-- fields, each with its kind (flag, count, hostlist, text).
local function settings_fields()
  local op = ops.by_name["easyio.update_site_config"]
  for _, a in ipairs(op.args) do
    if a.fields then return a.fields end
  end
  error("easyio.update_site_config has no config fields")
end
M.settings = settings_fields()

M.columns = { "client", "profile", "domain", "service", "site_url", "state", "cname" }
-- onboard's results columns: known, and ignored, so that a results file is an inventory
M.ignored = { "status", "shortpixel_apex", "shortpixel_www", "easyio_site", "easyio_site_id",
              "easyio_alias", "error", "line" }
M.key_columns = { shortpixel_key = "shortpixel", easyio_key = "easyio" }

local function known_columns()
  local names = {}
  for _, c in ipairs(M.columns) do names[#names + 1] = c end
  local fields = {}
  for f in pairs(M.settings) do fields[#fields + 1] = f end
  table.sort(fields)
  for _, f in ipairs(fields) do names[#names + 1] = f end
  for _, c in ipairs(M.ignored) do names[#names + 1] = c end
  for c in pairs(M.key_columns) do names[#names + 1] = c end
  table.sort(names, function(a, b) return a < b end)
  return names
end

local function is_known(name)
  if M.settings[name] or M.key_columns[name] then return true end
  for _, c in ipairs(M.columns) do if c == name then return true end end
  for _, c in ipairs(M.ignored) do if c == name then return true end end
  return false
end

-- The header's columns: domain is there, every other column is known or
-- the agency's own (x_...), and key columns only where keys are read.
local function check_header(header, delim, opts)
  local has_domain = false
  for _, h in ipairs(header) do has_domain = has_domain or h == "domain" end
  if not has_domain then
    return nil, string.format("the header has no 'domain' column (its line '%s' was split at '%s' into %d "
      .. "column%s; the delimiter is ',' or ';', read from the header line)", table.concat(header, delim), delim,
      #header, #header == 1 and "" or "s")
  end
  for i, h in ipairs(header) do
    if h ~= "domain" and h:sub(1, 2) ~= "x_" and not is_known(h) then
      local near = suggest.closest(h, known_columns())
      return nil, string.format("header column %d: unknown column '%s'%s (columns of the agency's own start with x_)",
        i, h, near and ("; did you mean '" .. near .. "'?") or "")
    end
    if M.key_columns[h] and opts.keys ~= "rows" then
      return nil, string.format("header column %d: '%s': keys do not live in the inventory; put the key in a "
        .. "profile (cdnctl profiles add NAME --%s-key-cmd CMD) and name the profile in the 'profile' column",
        i, h, M.key_columns[h])
    end
  end
  return true
end

-- A row whose every cell is empty (a spreadsheet's blank row).
local function is_empty(row, header)
  for _, h in ipairs(header) do if row[h] ~= "" then return false end end
  return true
end

-- Reads the Easy IO settings of a row, each by its kind -> settings | nil, message
local function row_settings(row)
  local out
  for name, kind in pairs(M.settings) do
    local v = row[name]
    if v and v ~= "" then
      local val, err
      if kind == "flag" then
        local b
        b, err = check.boolean(v, name)
        if b ~= nil then val = b and 1 or 0 end
      else
        val, err = check[kind](v, name)
      end
      if val == nil then return nil, err end
      out = out or {}
      out[name] = val
    end
  end
  return out or {}
end

local function read_service(v)
  v = (v or ""):lower()
  if v == "" then v = "both" end
  if v == "shortpixel" then return { shortpixel = true } end
  if v == "easyio" then return { easyio = true } end
  if v == "both" then return { shortpixel = true, easyio = true } end
  return nil, "service: unknown service '" .. v .. "' (shortpixel, easyio or both)"
end

local function read_state(v)
  v = (v or ""):lower()
  if v == "" or v == "present" then return "present" end
  if v == "absent" then return "absent" end
  return nil, "state: must be present or absent, got '" .. v .. "'"
end

-- cname: empty leaves it as it is (nil), "-" is none (false), else a hostname.
local function read_cname(v)
  if not v or v == "" then return nil end
  if v == "-" then return false end
  return check.domain(v, "cname")
end

local function read_keys(row)
  local keys = {}
  for col, service in pairs(M.key_columns) do
    local v = row[col]
    if v and v ~= "" then
      local k, err = check.key(v, col)
      if not k then return nil, err end
      keys[service] = k
    end
  end
  return keys
end

-- One row as a client of its own -> client | nil, message
local function row_client(row, line, opts)
  local domain, err = check.domain(row.domain or "", "domain")
  if not domain then return nil, err end
  local hosts = check.hosts(domain)
  local svc, serr = read_service(row.service)
  if not svc then return nil, serr end
  local state, sterr = read_state(row.state)
  if not state then return nil, sterr end
  local given = row.site_url and row.site_url ~= "" and row.site_url or nil
  local site_url, uerr = check.site_url(given or ("https://www." .. hosts[1] .. "/"), "site_url")
  if not site_url then return nil, uerr end
  local settings, seterr = row_settings(row)
  if not settings then return nil, seterr end
  local cname, cerr = read_cname(row.cname)
  if cname == nil and cerr then return nil, cerr end
  local keys, kerr = {}, nil
  if opts.keys == "rows" then keys, kerr = read_keys(row) end
  if not keys then return nil, kerr end
  local notes = {}
  for k, v in pairs(row) do
    if type(k) == "string" and k:sub(1, 2) == "x_" then notes[k] = v end
  end
  local profile = row.profile ~= "" and row.profile or nil
  return { name = row.client ~= "" and row.client or nil, profile = profile, domain = hosts[1], hosts = hosts,
           shortpixel = svc.shortpixel or false, easyio = svc.easyio or false, site_url = site_url,
           site_url_given = given ~= nil, state = state, settings = settings, cname = cname, keys = keys,
           notes = notes, line = line, lines = { line } }
end

-- What two rows of one domain say together -> the client | nil, message.
-- Services add up; the profile, an explicit site URL, the state, the
-- client's name, the CNAME and each setting must agree where both give them.
local function combine(a, b)
  local function differ(what, x, y, show)
    show = show or tostring
    return nil, string.format("domain %s: %s %s here, %s on line %d", a.domain, what, show(y), show(x), a.line)
  end
  local function q(v) return v == nil and "(empty)" or "'" .. tostring(v) .. "'" end
  if a.profile ~= b.profile then return differ("profile", a.profile, b.profile, q) end
  if a.site_url_given and b.site_url_given and not check.same_site(a.site_url, b.site_url) then
    return differ("site_url", a.site_url, b.site_url, q)
  end
  if a.state ~= b.state then return differ("state", a.state, b.state, q) end
  if a.name and b.name and a.name ~= b.name then return differ("client", a.name, b.name, q) end
  if a.cname ~= nil and b.cname ~= nil and a.cname ~= b.cname then return differ("cname", a.cname, b.cname, q) end
  for f, v in pairs(b.settings) do
    if a.settings[f] ~= nil and a.settings[f] ~= v then return differ(f, a.settings[f], v, q) end
  end
  for s, k in pairs(b.keys) do
    if a.keys[s] and a.keys[s] ~= k then return nil, string.format("domain %s: another %s key here than on line %d", a.domain, s, a.line) end
  end
  a.shortpixel, a.easyio = a.shortpixel or b.shortpixel, a.easyio or b.easyio
  if b.site_url_given and not a.site_url_given then a.site_url, a.site_url_given = b.site_url, true end
  a.name = a.name or b.name
  if a.cname == nil then a.cname = b.cname end
  for f, v in pairs(b.settings) do a.settings[f] = v end
  for s, k in pairs(b.keys) do a.keys[s] = k end
  for k, v in pairs(b.notes) do if a.notes[k] == nil or a.notes[k] == "" then a.notes[k] = v end end
  a.lines[#a.lines + 1] = b.line
  return a
end

-- A plain list of domains (no header: its first line is a domain) reads
-- as rows with a domain column. -> header, next_row
local function as_list(header, next_row)
  local col, first = header[1], true
  return { "domain" }, function()
    if first then
      first = false
      return { domain = col }, 1
    end
    local row = next_row()
    if not row then return nil end
    return { domain = row[col] }, csv.line(row), csv.problem(row)
  end
end

local function is_domain_list(header)
  return #header == 1 and header[1] ~= "domain" and header[1]:find(".", 1, true) and check.domain(header[1]) ~= nil
end

-- The next row of the source as (row, line, problem), whatever its shape.
local function rows_of(header, next_row)
  if is_domain_list(header) then return as_list(header, next_row) end
  return header, function()
    local row = next_row()
    if not row then return nil end
    return row, csv.line(row), csv.problem(row)
  end
end

-- Takes one row into inv (a client, a merge, a problem or an empty row).
local function take_row(inv, header, row, line, problem, opts)
  inv.rows = inv.rows + 1
  if not problem and is_empty(row, header) then inv.empty_rows = inv.empty_rows + 1; return end
  local c, err
  if problem then err = problem:gsub("^line %d+: ", "")
  else c, err = row_client(row, line, opts) end
  if not c then
    inv.problems[#inv.problems + 1] = { line = line, message = "line " .. line .. ": " .. err }
    local d = not problem and check.domain(row.domain or "")
    if d then inv.spoiled[check.hosts(d)[1]] = true end
    return
  end
  local prev = inv.by_domain[c.domain]
  if not prev then
    inv.by_domain[c.domain] = c
    inv.clients[#inv.clients + 1] = c
    return
  end
  local ok, cerr = combine(prev, c)
  if not ok then
    inv.problems[#inv.problems + 1] = { line = line, message = "line " .. line .. ": " .. cerr }
    inv.spoiled[c.domain] = true
  end
end

-- The clients with no problem on any of their rows; the others are withheld
-- (their problems say why), so that nothing acts on half a client.
local function finish(inv)
  local clients = {}
  for _, c in ipairs(inv.clients) do
    c.name = c.name or c.domain
    c.service = c.shortpixel and c.easyio and "both" or c.shortpixel and "shortpixel" or "easyio"
    if inv.spoiled[c.domain] then
      inv.withheld[#inv.withheld + 1] = c
      inv.by_domain[c.domain] = nil
    else
      clients[#clients + 1] = c
    end
  end
  inv.clients, inv.spoiled = clients, nil
  return inv
end

-- M.read(more [, opts]) -> inventory | nil, message
-- more() gives the CSV's text in pieces (csv.blocks_of(file)); opts.keys =
-- "rows" reads the per-row key columns (the ready scripts), anything else
-- refuses them (plan, apply, status, import).
function M.read(more, opts)
  opts = opts or {}
  local header, next_row, delim = csv.table_reader(more, "auto")
  if not header then return nil, next_row end
  local hdr, rows = rows_of(header, next_row)
  if hdr == header then
    local ok, err = check_header(header, delim, opts)
    if not ok then return nil, err end
  end
  local inv = { clients = {}, by_domain = {}, problems = {}, withheld = {}, spoiled = {}, empty_rows = 0,
                rows = 0, delimiter = delim, header = hdr }
  for row, line, problem in rows do take_row(inv, hdr, row, line, problem, opts) end
  return finish(inv)
end

-- M.parse(text [, opts]) -> inventory | nil, message (M.read of a string)
function M.parse(text, opts)
  local done = false
  return M.read(function()
    if done then return nil end
    done = true
    return text
  end, opts)
end

return M
