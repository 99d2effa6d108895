-- cdnctl.front.import: `cdnctl import [--profile NAME ...] [--domains FILE]
-- [--out INVENTORY.csv] [--concurrency N]`. Writes an inventory of what the
-- accounts hold today: one row per Easy IO site of each profile (its
-- domain, the exact site_url, its settings and CNAME), and one per
-- ShortPixel domain of --domains that a profile owns (each tried with
-- every profile given, read_domain_cdn_usage; the first that owns it is
-- written). A domain no profile owns is not written, and stderr says so.
-- ShortPixel cannot list an account's domains, hence --domains. `plan` of
-- what import writes shows no changes. Here --profile is repeatable and
-- names the accounts to read (none: the run's own source). Exit: 0
-- written, 1 a read failed (nothing is written: a partial inventory would
-- say that sites do not exist), 2 usage.

local plan = require "cdnctl.plan"
local planfront = require "cdnctl.front.plan"
local inventory = require "cdnctl.inventory"
local script = require "cdnctl.kit.script"
local files = require "cdnctl.kit.files"
local csv = require "cdnctl.kit.csv"
local check = require "cdnctl.check"
local ops = require "cdnctl.ops"

local M = {}

M.USAGE = [[
usage: cdnctl import [--profile NAME ...] [--domains FILE] [--out INVENTORY.csv] [--concurrency N]
  Writes an inventory (the columns of docs/inventory.md) of what the accounts
  hold today: a row per Easy IO site of each profile, with its exact site_url,
  settings and CNAME, and a row per domain of --domains that a profile's
  ShortPixel key owns. `cdnctl plan` of it shows no changes.
  --profile NAME      an account to read (repeatable; none: the run's own source)
  --domains FILE      the ShortPixel domains to look for (one a line, or a CSV
                      with a domain column): ShortPixel cannot list them
  --out FILE          the inventory (default: standard output)
  --concurrency N     reads in flight (default 16)
exit status: 0 written, 1 a read failed (nothing written), 2 usage error]]

M.OPTIONS = { "--profile", "--domains", "--out", "--concurrency", "--help", "-h" }

local SPEC = { ["--profile"] = "list", ["--domains"] = "value", ["--out"] = "value", ["--concurrency"] = "value" }

local function usage_error(msg)
  io.stderr:write("cdnctl import: ", msg, "\n", M.USAGE, "\n")
  return script.EXIT_USAGE
end

-- The settings columns, in the order they are written.
local function settings_columns()
  local names = {}
  for f in pairs(inventory.settings) do names[#names + 1] = f end
  table.sort(names)
  return names
end

-- A setting as show.php gives it, as a cell.
local function cell(kind, v)
  if v == nil then return "" end
  if kind == "flag" then
    local s = tostring(v):lower()
    return (s == "1" or s == "true") and "true" or "false"
  end
  return tostring(v)
end

-- One Easy IO site as an inventory row.
local function site_row(site, profile)
  local host = site.site_url:match("^%a+://([^/:]+)")
  local hosts = host and check.hosts(host)
  local apex = hosts and hosts[1] or host or site.site_url
  local row = { client = apex, profile = profile or "", domain = apex, service = "easyio", site_url = site.site_url }
  local custom = type(site.zone) == "string" and site.alias ~= site.zone .. ".exactdn.com" and site.alias
  row.cname = custom or "-"
  local cfg = type(site.config) == "table" and site.config or {}
  for f, kind in pairs(inventory.settings) do row[f] = cell(kind, cfg[f]) end
  return row
end

-- The domains of --domains -> {apex...} | nil, message
local function domains_of(path)
  local text, err = script.read_input(path)
  if not text then return nil, err end
  local inv, ierr = inventory.parse(text, { keys = "rows" })
  if not inv then return nil, path .. ": " .. ierr end
  if #inv.problems > 0 then return nil, path .. ":" .. inv.problems[1].message end
  local out = {}
  for _, c in ipairs(inv.clients) do out[#out + 1] = c.domain end
  return out
end

-- Reads each profile's sites, and who owns each domain -> rows | nil, message
local function read_all(profiles, domains, opts)
  local own, rows, by_domain, notes = cdnctl.settings.profile, {}, {}, {}
  local unowned = {}
  for _, d in ipairs(domains) do unowned[d] = true end
  for _, name in ipairs(profiles) do
    local g = { profile = name ~= "" and name or nil }
    local ok, err = plan.use_source(g, own)
    if not ok then return nil, "profile '" .. name .. "': " .. tostring(err) end
    local r, serr = easyio.show_sites()
    if not r and serr.kind ~= "invalid" then return nil, (g.profile or "the run's source") .. ": show_sites: " .. tostring(serr.message) end
    for _, s in ipairs(r and ops.as_list(r.sites) or {}) do
      if type(s) == "table" and type(s.site_url) == "string" then
        local row = site_row(s, g.profile)
        rows[#rows + 1] = row
        by_domain[row.domain] = by_domain[row.domain] or row
      end
    end
    local left = {}
    for _, d in ipairs(domains) do if unowned[d] then left[#left + 1] = d end end
    local owned = cdnctl.parallel(left, function(d) return plan.read_host(d) end,
      { concurrency = tonumber(opts.concurrency) or 16, label = "reading " .. (g.profile or "the run's source") })
    for i, d in ipairs(left) do
      local h = owned[i]
      if not h or h.err then return nil, d .. ": " .. tostring(h and h.err or "not read") end
      if h.owned then
        unowned[d] = nil
        local row = by_domain[d]
        if row and row.profile == (g.profile or "") then row.service = "both"
        elseif row then notes[#notes + 1] = d .. ": its ShortPixel hosts are profile '" .. (g.profile or "")
          .. "''s and its Easy IO site profile '" .. row.profile .. "''s: one row has one profile; the site's row is written"
        else
          local s = { client = d, profile = g.profile or "", domain = d, service = "shortpixel" }
          rows[#rows + 1], by_domain[d] = s, s
        end
      end
    end
  end
  require("cdnctl.settings").change(cdnctl.settings, { profile = own or false })
  for _, d in ipairs(domains) do
    if unowned[d] then notes[#notes + 1] = d .. ": no profile given owns it; not written" end
  end
  return rows, notes
end

-- M.main(args): args the words after "import".
function M.main(args)
  local opts, pos = planfront.parse(args, M.USAGE, SPEC)
  if not opts then return usage_error(pos) end
  if opts.help then io.stdout:write(M.USAGE, "\n"); return 0 end
  if #pos > 0 then return usage_error("unexpected argument '" .. pos[1] .. "' (the accounts are named with --profile)") end
  local c = tonumber(opts.concurrency or "16")
  if not c or c < 1 or c > 256 or c ~= math.floor(c) then return usage_error("--concurrency: an integer from 1 to 256") end
  local profiles = opts.profile or {}
  if #profiles == 0 then profiles = { "" } end
  local outs, oerr = files.check({ ["--out"] = opts.out and files.output_path(opts.out) or nil },
    opts.domains and { files.input_path(opts.domains) } or {})
  if not outs then return usage_error(oerr) end
  local domains = {}
  if opts.domains then
    local d, derr = domains_of(opts.domains)
    if not d then io.stderr:write("cdnctl import: --domains ", derr, "\n"); return script.EXIT_USAGE end
    domains = d
  end
  local rows, notes = read_all(profiles, domains, opts)
  if not rows then io.stderr:write("cdnctl import: ", notes, "; nothing was written\n"); return 1 end
  local columns = { "client", "profile", "domain", "service", "site_url", "cname" }
  for _, f in ipairs(settings_columns()) do columns[#columns + 1] = f end
  local head = {}
  for _, n in ipairs(columns) do head[n] = n end
  local text = { csv.format_row(head, columns) }
  for _, r in ipairs(rows) do text[#text + 1] = csv.format_row(r, columns) end
  local ok, werr
  if outs["--out"] then ok, werr = outs["--out"]:replace(table.concat(text))
  else ok, werr = script.write_stdout(table.concat(text)) end
  if not ok then io.stderr:write("cdnctl import: ", tostring(werr), "\n"); return 1 end
  for _, n in ipairs(notes) do io.stderr:write("cdnctl import: ", n, "\n") end
  io.stderr:write(string.format("cdnctl import: %d rows from %d profile%s\n", #rows, #profiles, #profiles == 1 and "" or "s"))
  return 0
end

return M
