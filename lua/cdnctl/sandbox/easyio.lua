-- cdnctl.sandbox.easyio: the rules of EWWW's Easy IO Admin API, as the page
-- states them (../shared/api-docs/easyio-admin-api.md). Every endpoint is a
-- POST with a user-agent and an api_key (savings.php names a site by its
-- alias and needs no key); every error is {"error": "message"}. Each handler
-- takes (sb, who, form) — sb the instance's state object (state.lua), who
-- the caller's account (nil for savings) — and returns the answer's body as
-- a Lua table; routes are in router.lua's shape, at the end with how the
-- service reads and refuses. Choices where the page is silent
-- are listed in docs/sandbox.md and made here, once.

local check = require "cdnctl.check"
local json = require "cdnctl.json"
local percent = require "cdnctl.percent"

local M = {}

-- Error messages; the first two are the page's own words.
M.ERR = {
  no_site_url = "site URL not provided",
  duplicate = "duplicate site url",
  bad_key = "API key not found",
  no_key = "API key not provided",
  bad_site_url = "invalid site URL",
  no_site_id = "site ID not provided",
  no_site = "site not found",
  pending = "site is pending and cannot be removed yet",
  limit = "site limit reached",
  no_cname = "custom hostname not provided",
  bad_cname = "invalid custom hostname",
  no_alias = "alias not provided",
  bad_alias = "invalid alias",
  not_registered = "site URL not registered: create the site first",
  activate_pending = "site is still pending: activate it in a few minutes",
  alias_not_found = "alias not found",
  origin_mismatch = "the alias belongs to another origin",
  verify_pending = "site is still pending: verify it in a few minutes",
  subkey_keys = "sub-keys cannot create or manage sub-keys",
  no_sub_key = "sub-key not provided",
  bad_sub_key = "sub-key not found",
  bad_number = "%s must be a whole number",
  bad_config = "%s must be 0 or 1",
}

local function err(msg, ...) return { error = select("#", ...) > 0 and msg:format(...) or msg } end

-- Origins that look like development or staging copies (dev = 1, live = 0:
-- they do not count against the site limit).
M.STAGING = {
  first_labels = { "staging", "stage", "dev", "develop", "development", "test", "testing", "qa", "uat",
                   "preview", "sandbox", "local" },
  suffixes = { ".local", ".test", ".localhost", ".invalid", ".wpengine.com", ".wpenginepowered.com",
               ".kinsta.cloud", ".flywheelsites.com", ".pantheonsite.io", ".cloudwaysapps.com",
               ".myftpupload.com", ".instawp.xyz", ".lndo.site", ".ddev.site" },
  words = { "staging" },
}

function M.is_staging(host)
  local first = host:match("^([^.]+)%.")
  for _, l in ipairs(M.STAGING.first_labels) do if first == l then return true end end
  for _, s in ipairs(M.STAGING.suffixes) do if host:sub(-#s) == s or host == s:sub(2) then return true end end
  for _, w in ipairs(M.STAGING.words) do if host:find(w, 1, true) then return true end end
  return false
end

-- Where the origin is, from its top-level domain.
local LOCATIONS = { eu = "EU,DE", de = "EU,DE", fr = "EU,FR", uk = "EU,GB", nl = "EU,NL", it = "EU,IT", es = "EU,ES",
  se = "EU,SE", pl = "EU,PL", ro = "EU,RO", au = "OC,AU", nz = "OC,NZ", ca = "NA,CA" }

M.DEFAULT_CONFIG = { avif = 0, webp = 1, asset_domains = "", watermark = 0, watermark_offset = 0,
  watermark_min_size = 300, watermark_position = 0, watermark_url = "" }
-- config-update's fields: flags are 0/1, counts whole numbers, the rest text.
local CONFIG_KIND = { avif = "flag", webp = "flag", watermark = "flag", watermark_offset = "count",
  watermark_min_size = "count", watermark_position = "count", asset_domains = "text", watermark_url = "text" }

-- An account: 250 sites (an agency's plan), 2 TB of bandwidth a month.
M.DEFAULT_LICENSED = 250
function M.new_account(licensed)
  return { licensed = licensed or M.DEFAULT_LICENSED, interval = "month", quota = 2000000000000 }
end

function M.new_sub_key(parent)
  return { parent = parent, label = "", allowed = 0, site_limit = 0, stats = {}, bill = {} }
end

-- The caller: {key =, account = key of the account, sub = sub-key record or nil}.
function M.who(sb, key)
  local st = sb.state.easyio
  if st.accounts[key] then return { key = key, account = key } end
  local sk = st.sub_keys[key]
  if sk then return { key = key, account = sk.parent, sub = sk } end
  return nil
end

local function visible(who, site)
  if who.sub then return site.owner == who.key end
  return site.account == who.account
end

local function number(v)
  if v == nil or v == "" then return 0 end
  local n = math.tointeger(tonumber(v))
  if not n or n < 0 or not tostring(v):match("^%d+$") then return nil end
  return n
end

local function site_view(sb, s)
  local cfg = {}
  for k, v in pairs(s.config) do cfg[k] = v end
  return {
    site_id = tostring(s.site_id), zone = s.zone, alias = s.alias, site_url = s.site_url, location = s.location,
    pending = sb:now() - s.created < sb.pending, live = tostring(s.live), purgeable = "1",
    bandwidth = tostring(s.bandwidth), beforet = s.beforet, aftert = s.aftert, config = cfg,
  }
end

-- The sandbox instance's index of its sites, so that no request walks them
-- all: by alias (standard and custom), and live sites counted per account
-- and per owning key. Built once per sites table (a new state: loaded,
-- reset) and kept by create, cname and remove; lookups check an entry
-- against the site, so an alias that moved on is simply not found.
local function index(sb)
  local sites = sb.state.easyio.sites
  local idx = sb.easyio_index
  if idx and idx.sites == sites then return idx end
  idx = { sites = sites, by_alias = {}, live_account = {}, live_owner = {} }
  for _, s in pairs(sites) do
    idx.by_alias[s.zone .. ".exactdn.com"] = s
    if s.alias then idx.by_alias[s.alias] = s end
    if s.live == 1 then
      idx.live_account[s.account] = (idx.live_account[s.account] or 0) + 1
      idx.live_owner[s.owner] = (idx.live_owner[s.owner] or 0) + 1
    end
  end
  sb.easyio_index = idx
  return idx
end

-- Counts a site in (delta 1) or out (delta -1) of the live counts.
local function count_live(sb, s, delta)
  if s.live ~= 1 then return end
  local idx = index(sb)
  idx.live_account[s.account] = (idx.live_account[s.account] or 0) + delta
  idx.live_owner[s.owner] = (idx.live_owner[s.owner] or 0) + delta
end

-- Live sites of an account (who.account) or, for a sub-key, of that key.
local function live_of(sb, who)
  local idx = index(sb)
  if who.sub then return idx.live_owner[who.key] or 0 end
  return idx.live_account[who.account] or 0
end

local function find_site(sb, who, form)
  if form.site_id == nil or form.site_id == "" then return nil, err(M.ERR.no_site_id) end
  local s = sb.state.easyio.sites[form.site_id]
  if not s or not visible(who, s) then return nil, err(M.ERR.no_site) end
  return s
end

local H = {}

-- A site by its URL, whoever owns it (check.site_key: host case, punycode
-- and the trailing slash do not count). The index lives in the state.
local function site_by_url(sb, url)
  local st = sb.state.easyio
  local k = check.site_key(url) or url
  if not st.by_url then
    st.by_url = {}
    for id, s in pairs(st.sites) do st.by_url[check.site_key(s.site_url) or s.site_url] = id end
  end
  local id = st.by_url[k]
  return id and st.sites[id], k
end

-- show.php: the account's sites (a sub-key sees its own), filtered by
-- site_url with the same rule (EWWW sends the URL without the trailing slash).
function H.show(sb, who, form)
  local st = sb.state.easyio
  local want = form.site_url and form.site_url ~= "" and (check.site_key(form.site_url) or form.site_url)
  local ids = {}
  if want then -- one site at most: the URL index, not a walk
    local s = site_by_url(sb, form.site_url)
    if s and visible(who, s) then ids[1] = s.site_id end
  else
    for id, s in pairs(st.sites) do
      if visible(who, s) then ids[#ids + 1] = math.tointeger(tonumber(id)) end
    end
  end
  table.sort(ids)
  local sites = {}
  for _, id in ipairs(ids) do sites[#sites + 1] = site_view(sb, st.sites[tostring(id)]) end
  local acct = st.accounts[who.account]
  local out = {
    live_sites = live_of(sb, who),
    sites = #sites > 0 and sites or json.empty_array,
    licensed = tostring(who.sub and who.sub.site_limit or acct.licensed),
    quota = acct.quota,
  }
  if not who.sub then out.interval = acct.interval end
  return out
end

-- create.php: a new site; trailing slash added; a URL already registered
-- (by any account: a choice) is refused with "duplicate site url" (evidence:
-- EWWW maps it to "already registered"); staging-looking origins are dev;
-- live sites past the account's (or the sub-key's) limit are refused.
function H.create(sb, who, form)
  if form.site_url == nil or form.site_url == "" then return err(M.ERR.no_site_url) end
  local url = check.site_url(form.site_url)
  if not url or not form.site_url:match("^[Hh][Tt][Tt][Pp][Ss]?://") then return err(M.ERR.bad_site_url) end
  local existing, url_key = site_by_url(sb, url)
  if existing then return err(M.ERR.duplicate) end
  local host = url:match("^%a+://([^/:]+)")
  local dev = M.is_staging(host)
  local st = sb.state.easyio
  if not dev then
    local acct = st.accounts[who.account]
    if acct.licensed > 0 and live_of(sb, { account = who.account }) >= acct.licensed then
      return err(M.ERR.limit)
    end
    if who.sub and who.sub.site_limit > 0 and live_of(sb, who) >= who.sub.site_limit then
      return err(M.ERR.limit)
    end
  end
  local id = st.next_site_id
  st.next_site_id = id + 1
  local zone = "e" .. sb:random_name(10) -- e + 10 of [a-z0-9], as live aliases are
  local tld = host:match("%.([^.]+)$")
  st.sites[tostring(id)] = {
    site_id = id, account = who.account, owner = who.key, zone = zone, alias = zone .. ".exactdn.com",
    site_url = url, location = LOCATIONS[tld] or "NA,US", created = sb:now(), live = dev and 0 or 1,
    bandwidth = 0, original = 0, savings = 0,
    beforet = "https://gtmetrix.com/reports/" .. host .. "/" .. sb:random_name(8) .. "/",
    aftert = "https://gtmetrix.com/reports/" .. host .. "/" .. sb:random_name(8) .. "/",
    config = (function() local c = {}; for k, v in pairs(M.DEFAULT_CONFIG) do c[k] = v end; return c end)(),
  }
  st.by_url[url_key] = tostring(id)
  local s = st.sites[tostring(id)]
  index(sb).by_alias[s.alias] = s
  count_live(sb, s, 1)
  return { id = id, site_url = url, dev = dev and 1 or 0, alias = zone .. ".exactdn.com", status = "success" }
end

-- config-update.php: the given fields change; the rest stay.
function H.config_update(sb, who, form)
  local s, e = find_site(sb, who, form)
  if not s then return e end
  local new = {}
  for k, kind in pairs(CONFIG_KIND) do
    local v = form[k]
    if v ~= nil then
      if kind == "flag" then
        if v ~= "0" and v ~= "1" then return err(M.ERR.bad_config, k) end
        new[k] = tonumber(v)
      elseif kind == "count" then
        new[k] = number(v)
        if not new[k] then return err(M.ERR.bad_number, k) end
      else
        new[k] = v
      end
    end
  end
  for k, v in pairs(new) do s.config[k] = v end
  local out = { success = 1 }
  for k, v in pairs(s.config) do out[k] = v end
  return out
end

-- cname.php: a custom hostname becomes the alias.
function H.cname(sb, who, form)
  local s, e = find_site(sb, who, form)
  if not s then return e end
  if form.custom_cname == nil or form.custom_cname == "" then return err(M.ERR.no_cname) end
  local h = check.domain(form.custom_cname)
  if not h or h ~= form.custom_cname:lower() then return err(M.ERR.bad_cname) end
  s.alias, s.custom_cname = h, h
  index(sb).by_alias[h] = s
  return { success = "Custom hostname successfully added.", alias = h }
end

-- cname-revert.php: the standard hostname again.
function H.cname_revert(sb, who, form)
  local s, e = find_site(sb, who, form)
  if not s then return e end
  s.alias, s.custom_cname = s.zone .. ".exactdn.com", nil
  return { success = "Default hostname successfully restored: " .. s.alias, alias = s.alias }
end

-- remove.php: pending sites cannot be removed.
function H.remove(sb, who, form)
  local s, e = find_site(sb, who, form)
  if not s then return e end
  if sb:now() - s.created < sb.pending then return err(M.ERR.pending) end
  count_live(sb, s, -1)
  sb.state.easyio.sites[tostring(s.site_id)] = nil
  local _, k = site_by_url(sb, s.site_url)
  sb.state.easyio.by_url[k] = nil
  return { success = true }
end

-- savings.php: by CDN alias (the standard one or a custom hostname).
function H.savings(sb, _, form)
  if form.alias == nil or form.alias == "" then return err(M.ERR.no_alias) end
  local s = M.site_by_alias(sb, form.alias:lower())
  if not s then return err(M.ERR.bad_alias) end
  local acct = sb.state.easyio.accounts[s.account]
  return { original = s.original, savings = s.savings, quota = acct and acct.quota or 0, bandwidth = s.bandwidth }
end

-- activate.php's plan_id (a choice: the plugin reads it with (int), and
-- the sandbox has one plan).
M.PLAN_ID = 1

-- activate.php, from the client's WordPress (EWWW's Activate button, after
-- create.php): site_url and home_url, no key (EWWW class-exactdn.php
-- 583-650). The site whose URL is site_url, else home_url (the site URL
-- rule), no longer pending (choices: the plugin tells users to wait), is
-- recorded as activated and answers {"domain": ALIAS, "plan_id": N}, the
-- alias the plugin rewrites to.
function H.activate(sb, _, form)
  if (form.site_url or "") == "" and (form.home_url or "") == "" then return err(M.ERR.no_site_url) end
  local s = (form.site_url or "") ~= "" and site_by_url(sb, form.site_url) or nil
  if not s and (form.home_url or "") ~= "" then s = site_by_url(sb, form.home_url) end
  if not s then return err(M.ERR.not_registered) end
  if sb:now() - s.created < sb.pending then return err(M.ERR.activate_pending) end
  if not s.activated then s.activated = true end -- (a write only the first time: a repeat journals nothing)
  return { domain = s.alias, plan_id = M.PLAN_ID }
end

-- verify.php, after activation: alias, origin and, on the first
-- verification, url (a test image on the alias: accepted, not fetched)
-- (EWWW class-exactdn.php 666-790). {"success": true} with the site's
-- asset_domains when it has them, for a site of that origin (the site URL
-- rule) no longer pending, live or dev; an unknown alias is an error
-- containing "not found", which makes the plugin forget the alias, so no
-- other refusal says it. The plugin takes any body containing "error" as an
-- error: the sandbox's successes contain it only where the site's own
-- asset_domains do, as production's would.
function H.verify(sb, _, form)
  if form.alias == nil or form.alias == "" then return err(M.ERR.no_alias) end
  local s = M.site_by_alias(sb, form.alias:lower())
  if not s then return err(M.ERR.alias_not_found) end
  if not check.same_site(s.site_url, form.origin or "") then return err(M.ERR.origin_mismatch) end
  if sb:now() - s.created < sb.pending then return err(M.ERR.verify_pending) end
  local domains = s.config.asset_domains
  return { success = true, asset_domains = (domains ~= nil and domains ~= "") and tostring(domains) or nil }
end

local function keys_of(sb, who)
  local out = {}
  for k, sk in pairs(sb.state.easyio.sub_keys) do
    if sk.parent == who.account then out[#out + 1] = k end
  end
  table.sort(out, function(a, b)
    local sa, sb2 = sb.state.easyio.sub_keys[a], sb.state.easyio.sub_keys[b]
    if sa.created ~= sb2.created then return (sa.created or 0) < (sb2.created or 0) end
    return a < b
  end)
  return out
end

local function map_or_empty(t) return next(t) and t or json.empty_array end

-- api_key/show.php: the sub-keys, with maps indexed by the keys themselves.
function H.key_show(sb, who)
  if who.sub then return err(M.ERR.subkey_keys) end
  local keys = keys_of(sb, who)
  local limits, sites, site_limit, labels, stats, bill = {}, {}, {}, {}, {}, {}
  for _, k in ipairs(keys) do
    local sk = sb.state.easyio.sub_keys[k]
    limits[k] = tostring(sk.allowed)
    sites[k] = index(sb).live_owner[k] or 0
    site_limit[k] = tostring(sk.site_limit)
    labels[k] = sk.label
    stats[k] = map_or_empty(sk.stats or {})
    bill[k] = map_or_empty(sk.bill or {})
  end
  return { keys = #keys > 0 and keys or json.empty_array, limits = map_or_empty(limits), sites = map_or_empty(sites),
           site_limit = map_or_empty(site_limit), labels = map_or_empty(labels), stats = map_or_empty(stats),
           bill = map_or_empty(bill) }
end

-- api_key/create.php: a new sub-key; sub-keys cannot create sub-keys.
function H.key_create(sb, who)
  if who.sub then return err(M.ERR.subkey_keys) end
  local k = sb:random_name(32)
  local sk = M.new_sub_key(who.account)
  sk.created = sb:now()
  sb.state.easyio.sub_keys[k] = sk
  return { success = 1, sub_key = k }
end

local function own_sub_key(sb, who, form)
  if who.sub then return nil, err(M.ERR.subkey_keys) end
  if form.sub_key == nil or form.sub_key == "" then return nil, err(M.ERR.no_sub_key) end
  local sk = sb.state.easyio.sub_keys[form.sub_key]
  if not sk or sk.parent ~= who.account then return nil, err(M.ERR.bad_sub_key) end
  return sk
end

-- api_key/remove.php
function H.key_remove(sb, who, form)
  local sk, e = own_sub_key(sb, who, form)
  if not sk then return e end
  sb.state.easyio.sub_keys[form.sub_key] = nil
  return { success = 1, sub_key = form.sub_key }
end

-- api_key/change.php: "omitted fields will be set to empty values".
function H.key_change(sb, who, form)
  local sk, e = own_sub_key(sb, who, form)
  if not sk then return e end
  local allowed, site_limit = number(form.allowed), number(form.site_limit)
  if not allowed then return err(M.ERR.bad_number, "allowed") end
  if not site_limit then return err(M.ERR.bad_number, "site_limit") end
  sk.label, sk.allowed, sk.site_limit = form.label or "", allowed, site_limit
  return { success = 1, sub_key = form.sub_key, label = sk.label, allowed = allowed, site_limit = site_limit }
end

-- How Easy IO reads a request and refuses one (router.lua's service shape):
-- POST of form data with a user-agent and, unless the route says key =
-- false, an api_key; the handler gets (who, form). Transport refusals (405,
-- 400, 415) are choices: PHP would not get as far as its JSON; a missing or
-- unknown key is HTTP 200, as every Easy IO error is.
-- -> {who, form} | nil, status, message; req.fields = the form (for the log)
local function read(sb, req, route)
  if (req.headers["user-agent"] or "") == "" then return nil, 400, "a user-agent is required" end
  local ctype = (req.headers["content-type"] or ""):lower()
  if req.body ~= "" and not ctype:find("application/x-www-form-urlencoded", 1, true) then
    return nil, 415, "the body must be application/x-www-form-urlencoded"
  end
  local form, e = percent.parse_form(req.body)
  if not form then return nil, 400, "malformed form body: " .. e end
  for k, v in pairs(form) do
    if not utf8.len(k) or not utf8.len(v) then return nil, 400, "the form body is not UTF-8" end
  end
  req.fields = form
  if route.key == false then return { n = 2, nil, form } end
  if form.api_key == nil or form.api_key == "" then return nil, 200, M.ERR.no_key end
  local who = M.who(sb, form.api_key)
  if not who then return nil, 200, M.ERR.bad_key end
  return { who, form }
end

M.service = {
  name = "easyio",
  methods = { POST = true },
  say = { [405] = "requests must use the POST method" },
  refuse = function(_, message) return err(message) end,
  read = read,
}

-- Routes (router.lua's shape) by path. key = false: the api_key is not
-- required (savings.php, activate.php, verify.php).
local S = M.service
M.routes = {
  ["/exactdn/show.php"] = { service = S, handler = H.show },
  ["/exactdn/create.php"] = { service = S, handler = H.create },
  ["/exactdn/config-update.php"] = { service = S, handler = H.config_update },
  ["/exactdn/cname.php"] = { service = S, handler = H.cname },
  ["/exactdn/cname-revert.php"] = { service = S, handler = H.cname_revert },
  ["/exactdn/remove.php"] = { service = S, handler = H.remove },
  ["/exactdn/savings.php"] = { service = S, handler = H.savings, key = false },
  -- the plugin's own calls from a client's WordPress: no key, no binding
  ["/exactdn/activate.php"] = { service = S, handler = H.activate, key = false },
  ["/exactdn/verify.php"] = { service = S, handler = H.verify, key = false },
  ["/api_key/show.php"] = { service = S, handler = H.key_show },
  ["/api_key/create.php"] = { service = S, handler = H.key_create },
  ["/api_key/remove.php"] = { service = S, handler = H.key_remove },
  ["/api_key/change.php"] = { service = S, handler = H.key_change },
}

-- CDN traffic for a site (GET /_sandbox/cdn/ALIAS/PATH).
function M.serve(sb, s, size, saved)
  s.bandwidth = s.bandwidth + (size - saved)
  s.original = s.original + size
  s.savings = s.savings + saved
end

-- A site by its standard alias or its custom hostname, through the index.
function M.site_by_alias(sb, alias)
  local s = index(sb).by_alias[alias]
  if s and sb.state.easyio.sites[tostring(s.site_id)] == s
     and (s.alias == alias or s.zone .. ".exactdn.com" == alias) then
    return s
  end
end

M.err = err
return M
