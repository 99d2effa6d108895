-- cdnctl.plan: what it takes to bring the accounts to the inventory.
--
--   local world = plan.read(inv, opts)   -- the live state, read per profile
--   local p = plan.make(inv, world)      -- actions and findings, nothing sent
--
-- plan.make is a pure function of the inventory (cdnctl.inventory) and
-- what plan.read found, so that `plan`, `apply` and `status` agree and the
-- rules are tested without a server. An action is a binding call: op is
-- the binding's full name and args its arguments, so what apply sends is
-- what the plan shows; read is only what the action depends on (a saved
-- plan goes stale when that changes, and only then). An argument that an
-- earlier action of the plan produces is {known_after = N, field = F}, N
-- the 0-based index of that action in p.actions (as jq counts).
--
-- The world, per profile ("" is the run's own source):
--   world[p].hosts[host] = {owned = true} | {owned = false, has_account = B} | {err = "why"}
--     (status reads: also status = read_domain's Status as a number, status_name)
--   world[p].sites = show_sites' list | nil, world[p].sites_err = "why" | nil
--   world[p].easyio = show_sites' answer (its account figures)
--   world[p].credits = api_status' answer | nil, world[p].credits_err (status reads)

local check = require "cdnctl.check"
local inventory = require "cdnctl.inventory"

local M = {}

M.KIND = { ["shortpixel.add_domain"] = "add", ["easyio.create_site"] = "add",
           ["easyio.update_site_config"] = "change", ["easyio.set_cname"] = "change",
           ["easyio.revert_cname"] = "change", ["shortpixel.revoke_domain"] = "remove",
           ["easyio.remove_site"] = "remove" }

local function pkey(profile) return profile or "" end

-- The reads most actions depend on, one table each (shared, never changed):
-- a plan of thousands of clients holds one of each.
local READ = { owned = { owner = "this account" }, nobody = { owner = "none" }, missing = { site = "missing" },
               created = { site = "created by this plan" } }

-- A setting as show.php gives it, in the form the inventory holds (as sent).
local function normal(kind, v)
  if v == nil then return nil end
  if kind == "flag" then
    local s = tostring(v):lower()
    return (s == "1" or s == "true") and 1 or 0
  elseif kind == "count" then
    return math.tointeger(tonumber(v)) or v
  elseif kind == "hostlist" then
    return check.hostlist(v, "config") or v
  end
  return tostring(v)
end

local function truthy(v) return v == true or v == 1 or v == "1" or v == "true" end

local function site_index(sites)
  local idx = {}
  for _, s in ipairs(sites or {}) do
    if type(s) == "table" then idx[check.site_key(s.site_url) or s.site_url] = s end
  end
  return idx
end

-- The state of a plan being made: p (the result), the world, indexes.
local function new_plan(world)
  local st = { world = world, idx = {}, notes_said = {},
               p = { actions = {}, findings = {}, notes = {},
                     summary = { add = 0, change = 0, remove = 0, conflict = 0, pending = 0, unmanaged = 0,
                                 unreadable = 0 } } }
  for prof, w in pairs(world) do st.idx[prof] = site_index(w.sites) end
  return st
end

local function action(st, c, op, args, why, read)
  local a = { client = c.name, profile = c.profile, line = c.line, op = op, args = args, why = why, read = read }
  st.p.actions[#st.p.actions + 1] = a
  st.p.summary[M.KIND[op]] = st.p.summary[M.KIND[op]] + 1
  return #st.p.actions - 1
end

local function finding(st, c, kind, service, target, message)
  st.p.findings[#st.p.findings + 1] = { client = c and c.name, profile = c and c.profile, line = c and c.line,
                                         kind = kind, service = service, target = target, message = message }
  st.p.summary[kind] = st.p.summary[kind] + 1
end

local function note_once(st, text)
  if st.notes_said[text] then return end
  st.notes_said[text] = true
  st.p.notes[#st.p.notes + 1] = text
end

-- ShortPixel, per host (apex and www).
local function plan_hosts(st, c, w)
  for _, h in ipairs(c.hosts) do
    local r = w and w.hosts and w.hosts[h]
    if w and w.source_err then
      finding(st, c, "unreadable", "shortpixel", h, w.source_err)
    elseif not r then
      finding(st, c, "unreadable", "shortpixel", h, "not read")
    elseif r.err then
      finding(st, c, "unreadable", "shortpixel", h, r.err)
    elseif c.state == "absent" then
      if r.owned then action(st, c, "shortpixel.revoke_domain", { h }, "state = absent", READ.owned) end
    elseif not r.owned and r.has_account then
      finding(st, c, "conflict", "shortpixel", h, "associated with another account (not the key of "
        .. (c.profile and ("profile '" .. c.profile .. "'") or "the run's source") .. ")")
    elseif not r.owned then
      action(st, c, "shortpixel.add_domain", { h }, "not associated", READ.nobody)
    end
  end
end

-- The settings of the row that differ from the site's -> {field = new}, read {field = old}, why | nil
local function setting_changes(st, c, site)
  local cfg = type(site) == "table" and type(site.config) == "table" and site.config or {}
  local changes, old, why = nil, {}, {}
  local names = {}
  for f in pairs(c.settings) do names[#names + 1] = f end
  table.sort(names)
  for _, f in ipairs(names) do
    local new = c.settings[f]
    if site and cfg[f] == nil then
      note_once(st, f .. ": show.php does not return it, so it cannot be compared and is not sent"
        .. (f:match("^watermark") and " (the service does not implement watermarking yet)" or ""))
    else
      local cur = site and normal(inventory.settings[f], cfg[f])
      if cur ~= new then
        changes = changes or {}
        changes[f], old[f] = new, cur
        why[#why + 1] = site and string.format("%s: %s -> %s", f, tostring(cur), tostring(new)) or (f .. " = " .. tostring(new))
      end
    end
  end
  return changes, old, table.concat(why, ", ")
end

local function custom_cname(site)
  if type(site.zone) ~= "string" or site.alias == site.zone .. ".exactdn.com" then return false end
  return site.alias
end

-- An existing site: its settings and CNAME, or its removal.
local function plan_existing(st, c, site)
  local id = math.tointeger(tonumber(site.site_id)) or site.site_id
  if c.state == "absent" then
    if truthy(site.pending) then
      finding(st, c, "pending", "easyio", c.site_url, "the site is pending and cannot be removed yet")
    else
      action(st, c, "easyio.remove_site", { id }, "state = absent", { site_id = id, site_url = site.site_url })
    end
    return
  end
  local changes, old, why = setting_changes(st, c, site)
  if changes then
    action(st, c, "easyio.update_site_config", { id, changes }, why, { site_id = id, config = old })
  end
  if c.cname ~= nil then
    local cur = custom_cname(site)
    local rd = { site_id = id, alias = site.alias, zone = site.zone }
    if c.cname == false and cur then
      action(st, c, "easyio.revert_cname", { id }, "cname: " .. cur .. " -> none", rd)
    elseif c.cname and cur ~= c.cname then
      action(st, c, "easyio.set_cname", { id, c.cname }, "cname: " .. (cur or "none") .. " -> " .. c.cname, rd)
    end
  end
end

-- Easy IO, per site (the one site-URL rule: check.site_key).
local function plan_site(st, c, w)
  if not w or w.sites_err or not w.sites then
    finding(st, c, "unreadable", "easyio", c.site_url, w and w.sites_err or "not read")
    return
  end
  local site = st.idx[pkey(c.profile)][check.site_key(c.site_url)]
  if site then return plan_existing(st, c, site) end
  if c.state == "absent" then return end
  local n = action(st, c, "easyio.create_site", { c.site_url }, "no such site", READ.missing)
  local changes, _, why = setting_changes(st, c, nil)
  local id = { known_after = n, field = "id" }
  if changes then action(st, c, "easyio.update_site_config", { id, changes }, why, READ.created) end
  if c.cname then
    action(st, c, "easyio.set_cname", { id, c.cname }, "cname: none -> " .. c.cname, READ.created)
  end
end

-- The sites of the accounts that no row of any profile names.
local function plan_unmanaged(st, inv)
  local named = {}
  for _, c in ipairs(inv.clients) do
    if c.easyio then named[check.site_key(c.site_url)] = true end
  end
  for _, c in ipairs(inv.withheld or {}) do named[check.site_key(c.site_url)] = true end
  local profs = {}
  for prof in pairs(st.world) do profs[#profs + 1] = prof end
  table.sort(profs)
  for _, prof in ipairs(profs) do
    for _, s in ipairs(st.world[prof].sites or {}) do
      local k = type(s) == "table" and (check.site_key(s.site_url) or s.site_url)
      if k and not named[k] then
        finding(st, nil, "unmanaged", "easyio", s.site_url, "a site of " .. (prof ~= "" and ("profile '" .. prof .. "'")
          or "the run's source") .. " that no row names (site " .. tostring(s.site_id) .. ", " .. tostring(s.alias) .. ")")
        st.p.findings[#st.p.findings].profile = prof ~= "" and prof or nil
      end
    end
  end
end

-- One client's actions in the order: creates, then settings, then CNAMEs;
-- revokes and removals last (an absent client has only those).
local function plan_client(st, c)
  local w = st.world[pkey(c.profile)]
  if c.shortpixel then plan_hosts(st, c, w) end
  if c.easyio then plan_site(st, c, w) end
end

-- Reading ---------------------------------------------------------------------

-- One host as this profile's key sees it: owned (read_domain_cdn_usage
-- answers an object), or not, with whether it has an account at all
-- (read_domain); full (status): read_domain's status too, always.
function M.read_host(h, full)
  local u, uerr = shortpixel.read_domain_cdn_usage(h)
  if not u and uerr.code ~= "not_owner" then return { err = "read_domain_cdn_usage: " .. tostring(uerr.message) } end
  if u and not full then return { owned = true } end
  local r, rerr = shortpixel.read_domain(h)
  if not r then return { err = "read_domain: " .. tostring(rerr.message), owned = u and true or nil } end
  return { owned = u and true or false, has_account = truthy(r.HasAccount),
           status = require("cdnctl.ops").status_code(r.Status), status_name = r.status_name }
end
-- Staleness ---------------------------------------------------------------

-- M.stale(a, now) -> nil | why: whether what a saved plan's action depends
-- on (a.read) still holds. now.host: M.read_host's answer for the action's
-- host; now.site: the site the action names as show_sites lists it now
-- (false: not listed). An action on a site this plan creates reads nothing.
function M.stale(a, now)
  local r = a.read or {}
  if r.site == "created by this plan" then return nil end
  if r.owner then
    local h = now.host
    if not h or h.err then return "its host could not be read again: " .. tostring(h and h.err) end
    local owner = h.owned and "this account" or (h.has_account and "another account" or "none")
    if owner ~= r.owner then return "the host's owner was " .. r.owner .. " when planned and is " .. owner .. " now" end
    return nil
  end
  if now.site == nil then return "its site could not be read again" end
  if r.site == "missing" then
    return now.site and ("the site exists now (site " .. tostring(now.site.site_id) .. ")") or nil
  end
  if not now.site then return "the site " .. tostring(r.site_id) .. " is no longer listed" end
  local cfg = type(now.site.config) == "table" and now.site.config or {}
  for f, old in pairs(type(r.config) == "table" and r.config or {}) do
    local cur = normal(inventory.settings[f], cfg[f])
    if cur ~= old then return string.format("%s was %s when planned and is %s now", f, tostring(old), tostring(cur)) end
  end
  if r.alias ~= nil and now.site.alias ~= r.alias then
    return "its alias was " .. tostring(r.alias) .. " when planned and is " .. tostring(now.site.alias) .. " now"
  end
  return nil
end

-- The clients of the inventory by profile -> {profile key, clients}... (sorted)
local function groups_of(inv)
  local by, order = {}, {}
  for _, c in ipairs(inv.clients) do
    local k = pkey(c.profile)
    if not by[k] then by[k] = { key = k, profile = c.profile, clients = {} }; order[#order + 1] = by[k] end
    table.insert(by[k].clients, c)
  end
  table.sort(order, function(a, b) return a.key < b.key end)
  return order
end

-- The run's source for a group: its profile, or the run's own (saved).
function M.use_source(g, own)
  local settings = require "cdnctl.settings"
  if not g.profile then return settings.change(cdnctl.settings, { profile = own or false }) end
  local cfg_file = require "cdnctl.config_file"
  local cfg, err = cfg_file.load()
  if not cfg then return nil, err or "there is no config file, so there is no profile '" .. g.profile .. "'" end
  local p, perr = cfg_file.select(cfg, g.profile)
  if not p then return nil, perr or ("no profile '" .. g.profile .. "'") end
  return settings.change(cdnctl.settings, { profile = p })
end

-- The members of a site that plan and status read (an account of thousands
-- of sites is held without the rest: report URLs, locations).
local SITE_FIELDS = { "site_id", "site_url", "alias", "zone", "pending", "live", "bandwidth", "config" }
local function slim(sites)
  local out = {}
  for i, s in ipairs(sites) do
    if type(s) == "table" then
      local t = {}
      for _, f in ipairs(SITE_FIELDS) do t[f] = s[f] end
      out[#out + 1] = t
    end
    sites[i] = nil
  end
  return out
end

-- The reads of one group: its hosts (in parallel), its account's sites
-- (once) and, for status, its credits.
local function read_group(g, opts)
  local w = { hosts = {} }
  local hosts, need_sites = {}, false
  for _, c in ipairs(g.clients) do
    if c.shortpixel then for _, h in ipairs(c.hosts) do if not w.hosts[h] then w.hosts[h] = true; hosts[#hosts + 1] = h end end end
    need_sites = need_sites or c.easyio
  end
  local label = "reading " .. (g.profile and ("profile " .. g.profile) or "the run's source")
  -- each answer kept as it comes (on_result), and the collector run now and
  -- then: the transfers' handles live outside Lua's heap, where it does not
  -- see their weight, so memory stays flat however long the list is
  cdnctl.parallel(hosts, function(h) return M.read_host(h, opts.account) end,
    { concurrency = opts.concurrency or 16, label = label, progress = opts.progress,
      on_result = function(i, r, err)
        w.hosts[hosts[i]] = r or { err = tostring(err):match("^[^\n]*") }
        if i % 64 == 0 then collectgarbage() end
      end })
  for _, h in ipairs(hosts) do if w.hosts[h] == true then w.hosts[h] = { err = "not read" } end end
  local r, err = easyio.show_sites()
  if r then
    w.sites = slim(require("cdnctl.ops").as_list(r.sites))
    r.sites = nil
    w.easyio = r
  elseif need_sites or err.kind ~= "invalid" then w.sites_err = "show_sites: " .. tostring(err.message) end
  if opts.account then
    local a, aerr = shortpixel.api_status()
    w.credits, w.credits_err = a, not a and tostring(aerr.message) or nil
  end
  return w
end

-- M.read(inv [, opts]) -> world: every group's reads under its profile.
-- opts.concurrency (16), opts.account (also api_status, for status).
-- The run's own source is restored at the end.
function M.read(inv, opts)
  opts = opts or {}
  local own = cdnctl.settings.profile
  local world = {}
  for _, g in ipairs(groups_of(inv)) do
    local ok, err = M.use_source(g, own)
    if ok then world[g.key] = read_group(g, opts)
    else world[g.key] = { hosts = {}, sites_err = err, source_err = err } end
  end
  require("cdnctl.settings").change(cdnctl.settings, { profile = own or false })
  return world
end

-- M.make(inv, world [, opts]) -> {actions, findings, notes, summary}
-- opts.all: the whole inventory when inv holds the targeted clients only
-- (a site a row names is managed whether or not that row is targeted).
function M.make(inv, world, opts)
  local st = new_plan(world)
  for _, c in ipairs(inv.clients) do plan_client(st, c) end
  plan_unmanaged(st, opts and opts.all or inv)
  note_once(st, "ShortPixel cannot list an account's domains: domains no row names cannot be found")
  return st.p
end

return M
