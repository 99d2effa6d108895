-- cdnctl.sandbox.shortpixel: the rules of ShortPixel's CDN API, as the page
-- states them (../shared/api-docs/shortpixel-cdn-api.md) and as public client
-- code shows the real service answers (../shared/api-evidence.md: where the
-- two differ, the evidence wins). Each handler takes (sb, args...) — sb the
-- instance's state object (state.lua: data, clock, names) and args the
-- decoded path segments after the route's own — and returns the answer's
-- body as a Lua table (or a JSON text); routes are in router.lua's shape,
-- at the end with how the service reads and refuses. Where both are
-- silent (refusal codes and messages), the choices are listed in
-- docs/sandbox.md, marked "choice", and made here, once.

local json = require "cdnctl.json"
local percent = require "cdnctl.percent"

local M = {}

-- Status codes and messages of refusals (choices: no public client knows
-- any code but 2, 1, 0, -1, -2, -3, nor any refusal text). Successes are Status 2.
local REFUSE = {
  no_domain      = { -10, "Domain not found." },
  other_owner    = { -11, "Domain is associated with another user." },
  bad_domain     = { -12, "Invalid domain name." },
  not_owner      = { -13, "Only the API key of the domain's owner can revoke its association." },
  not_yours      = { -14, "Domain is not associated with this API key." },
  unassociated   = { -15, "Domain is not associated with any user." },
  bad_key        = { -401, "Invalid API key." },
}

local function refuse(what)
  local r = REFUSE[what]
  return { Status = r[1], Message = r[2] }
end

local function done(message) return { Status = 2, Message = message } end

-- Free credits of a domain that nobody owns (the page: "up to 500 free credits").
M.FREE_CREDITS = 500
-- Below this share of credits left, read-domain says "almost exhausted".
M.ALMOST = 0.10
-- Exhausted longer ago than this: "credits depleted, CDN inactive" (-2)
-- instead of -1 (evidence, a hint: images stay served "for up to 30 days").
M.LONG_AGO_DAYS = 30

function M.new_user(email)
  return { email = email, quota = 10000, quota_one_time = 5000, used = 0, used_one_time = 0, free = 0,
           subscribed = "2024-01-15 09:30:00", unlimited = false, cdn_quota = 1000 * 1000 * 1000 * 1000,
           plan = "Agency 10K" }
end

-- read-domain-cdn-usage's refusal: an answer that is not a JSON object
-- (evidence: SPAI validates a key with `!is_object($response)`; of the
-- answers it allows, the sandbox chooses []).
M.NOT_OBJECT = "[]"

local function user(sb, key)
  if type(key) ~= "string" or key == "" then return nil end
  return sb.state.shortpixel.users[key]
end

-- A hostname as the service accepts it in a path: letters, digits, hyphens
-- and dots (punycode for international names), lowercased. The instance
-- remembers names it checked (sb:known_name), so a hot loop over the same
-- domains checks each once.
local function domain_name(sb, s)
  if s == nil then return nil end
  local d = sb:known_name(s)
  if d ~= nil then return d or nil end
  d = s:lower()
  local okname = #d <= 253 and d:find("^[%w_-]+%.[%w_.-]+$") and not d:find("..", 1, true) and d:sub(-1) ~= "."
  if okname then
    for label in d:gmatch("[^.]+") do
      if #label > 63 or label:find("^%-") or label:find("%-$") then okname = false; break end
    end
  end
  sb:remember_name(s, okname and d)
  return okname and d or nil
end

-- Credits of a domain: its owner's monthly plus one-time credits, or the
-- free pool of an unassociated domain. -> total, used, record holding them
local function credits(sb, d)
  local u = d.owner and sb.state.shortpixel.users[d.owner]
  if u then return u.quota + u.quota_one_time, u.used + u.used_one_time, u end
  return M.FREE_CREDITS, d.free_used or 0, d
end

-- read-domain's status from the domain's credit and reachability state.
function M.status_of(sb, d)
  if d.reachable == false then return -3 end
  local total, used, rec = credits(sb, d)
  local left = total - used
  if left <= 0 then
    local since = rec.exhausted_at or sb:now()
    if sb:now() - since > M.LONG_AGO_DAYS * 86400 then return -2 end
    return -1
  end
  if left < total * M.ALMOST then return 1 end
  return 2
end

local STATUS_TEXT = { [2] = "All OK", [1] = "Credits almost exhausted", [-1] = "Credits exhausted",
  [-2] = "Credits used up some time ago", [-3] = "Domain not reachable" }

-- Record credits use; remember when the credits ran out.
function M.use_credits(sb, d, paid, free)
  local total, used, rec = credits(sb, d)
  if rec == d then d.free_used = (d.free_used or 0) + paid
  elseif rec.used < rec.quota then rec.used = rec.used + paid
  else rec.used_one_time = rec.used_one_time + paid end
  if rec ~= d then rec.free = (rec.free or 0) + free end
  if used < total and used + paid >= total then rec.exhausted_at = sb:now() end
  local day = sb:today()
  d.credits = d.credits or {}
  local c = d.credits[day] or { Paid = 0, Free = 0 }
  c.Paid, c.Free = c.Paid + paid, c.Free + free
  d.credits[day] = c
end

-- CDN traffic: per day on the domain, and per month on its owner (so that
-- read-domain-cdn-usage costs the same however many domains there are).
function M.add_traffic(sb, d, bytes)
  local day = sb:today()
  d.traffic = d.traffic or {}
  d.traffic[day] = (d.traffic[day] or 0) + bytes
  local u = d.owner and sb.state.shortpixel.users[d.owner]
  if u then
    local month = day:sub(1, 7)
    if u.traffic_month ~= month then u.traffic_month, u.traffic = month, 0 end
    u.traffic = u.traffic + bytes
  end
end

-- Whether any domain of a user is unreachable (api-status's DomainCheck),
-- recounted when the admin endpoint changes a domain's reachability.
function M.recount_unreachable(sb, key)
  local u = key and sb.state.shortpixel.users[key]
  if not u then return end
  local n = 0
  for _, d in pairs(sb.state.shortpixel.domains) do
    if d.owner == key and d.reachable == false then n = n + 1 end
  end
  u.unreachable = n
end

-- Handlers ------------------------------------------------------------------

-- The checks most handlers open with, in the service's order: the domain's
-- name, the key (when one is needed), the domain's existence.
-- -> name, domain record | nil, refusal
local function lookup(sb, name, key, need_key)
  local dn = domain_name(sb, name)
  if not dn then return nil, refuse("bad_domain") end
  if need_key and not user(sb, key) then return nil, refuse("bad_key") end
  local d = sb.state.shortpixel.domains[dn]
  if not d then return nil, refuse("no_domain") end
  return dn, d
end

local H = {}

-- add-domain/DOMAIN[/KEY]: add; associate with the key's user when given
-- and nobody owns it yet; adding again is safe.
function H.add_domain(sb, name, key)
  local dn = domain_name(sb, name)
  if not dn then return refuse("bad_domain") end
  local domains = sb.state.shortpixel.domains
  if key ~= nil and key ~= "" and not user(sb, key) then return refuse("bad_key") end
  local d = domains[dn]
  if not d then
    d = { added = sb:today() }
    domains[dn] = d
    if key == nil or key == "" then return done("Domain added, not associated with any user.") end
  end
  if key == nil or key == "" then return done("Domain already added.") end
  if d.owner == key then return done("Domain already associated with this API key.") end
  if d.owner then return refuse("other_owner") end
  d.owner = key
  return done("Domain added and associated with the API key.")
end

-- set-domain/DOMAIN/KEY: associate an existing, unassociated domain; adds nothing.
function H.set_domain(sb, name, key)
  local dn, d = lookup(sb, name, key, true)
  if not dn then return d end
  if d.owner == key then return done("Domain already associated with this API key.") end
  if d.owner then return refuse("other_owner") end
  d.owner = key
  return done("Domain associated with the API key.")
end

-- revoke-domain/DOMAIN/KEY: only the owner's key.
function H.revoke_domain(sb, name, key)
  local dn, d = lookup(sb, name, key, true)
  if not dn then return d end
  if not d.owner then return refuse("unassociated") end
  if d.owner ~= key then return refuse("not_owner") end
  d.owner = nil
  return done("Domain association revoked.")
end

-- CDN traffic a credit pays for: "1 credit = 5 MiB of CDN traffic" (SPAI
-- short-pixel-ai.class 18). A domain nobody owns has a free CDN pool of its
-- free credits' worth (a choice: production's value is not known).
M.CREDIT_BYTES = 5 * 1024 * 1024

-- read-domain's CDN traffic members: CDNQuota and UsedCDN (bytes) and
-- Unlimited ("true"/"false"), sent always (evidence: SPAI settings.tpl
-- 218-230 reads the first two for a domain without an account and divides
-- by CDNQuota, 125 the third once associated). Values (choices): the
-- owner's CDN quota, traffic this month and plan; without an owner, the free
-- pool (M.CREDIT_BYTES per free credit) and every byte the domain served.
local function cdn_members(sb, d, u, out)
  if u then
    local month = sb:today():sub(1, 7)
    out.CDNQuota, out.UsedCDN = u.cdn_quota, u.traffic_month == month and u.traffic or 0
    out.Unlimited = u.unlimited and "true" or "false"
    return out
  end
  local used = 0
  for _, bytes in pairs(d and d.traffic or {}) do used = used + bytes end
  out.CDNQuota, out.UsedCDN, out.Unlimited = M.FREE_CREDITS * M.CREDIT_BYTES, used, "false"
  return out
end

-- read-domain/DOMAIN[/refresh]: the status from the credit and
-- reachability state, with the fields real clients read (SPAI, AO):
-- HasAccount, Email, FreeCredits, UsedFreeCredits, TemporaryRedirectOrigin
-- ("true"/"false" since 2023), timestamp, and the CDN traffic members
-- (cdn_members). "2 OK (credits available, this is also for not associated
-- domains)": a domain never added reads Status 2, HasAccount false.
function H.read_domain(sb, name, refresh)
  if refresh ~= nil and refresh ~= "refresh" then return nil end
  local dn = domain_name(sb, name)
  if not dn then return refuse("bad_domain") end
  local d = sb.state.shortpixel.domains[dn]
  local st = d and M.status_of(sb, d) or 2
  local u = d and d.owner and sb.state.shortpixel.users[d.owner]
  return cdn_members(sb, d, u, {
    Status = st, Message = STATUS_TEXT[st], HasAccount = u ~= nil, Email = u and u.email or "",
    FreeCredits = M.FREE_CREDITS, UsedFreeCredits = d and d.free_used or 0,
    TemporaryRedirectOrigin = "false", timestamp = sb:now() })
end

local function decimal(n) return string.format("%.11f", n) end

-- v2/api-status.php, the key from the form, a multipart body or the query:
-- Status is an object; the counters are decimal strings with 11 decimals as
-- a live answer shows them, APICallsQuota an integer (evidence: the 2021
-- dump, the 2026 smoke test). The domain-check reachability is kept per
-- user, so the answer costs the same however many domains there are.
function H.api_status(sb, key)
  local u = user(sb, key)
  if not u then return { Status = { Code = "-401", Message = "Invalid API key" } } end
  return {
    Status = { Code = "2", Message = "Success" },
    APICallsMade = decimal(u.used), APICallsFree = decimal(u.free or 0),
    APICallsQuota = u.quota,
    APICallsQuotaOneTime = decimal(u.quota_one_time), APICallsMadeOneTime = decimal(u.used_one_time),
    DateSubscription = u.subscribed,
    DomainCheck = (u.unreachable or 0) > 0 and "Not accessible" or "Accessible",
    Unlimited = u.unlimited and "true" or "false",
    PlanType = u.plan or "Agency 10K", CaptionsCallsMade = 0, CaptionsCallsQuota = 0, CaptionsCallsRemaining = json.null,
  }
end

-- The last 30 days of a per-day table, or [] when there is none (PHP's
-- json_encode of an empty array).
local function recent(sb, days)
  local out, any = {}, false
  local cutoff = sb:today(-30)
  for day, v in pairs(days or {}) do
    if day >= cutoff then out[day] = v; any = true end
  end
  return any and out or json.empty_array
end

-- read-domain-cdn-usage/DOMAIN/KEY: the key's user's statistics with the
-- domain's daily traffic and credits. The domain must be the key's.
function H.read_domain_cdn_usage(sb, name, key)
  local dn = domain_name(sb, name)
  if not dn then return refuse("bad_domain") end
  local u, d = user(sb, key), sb.state.shortpixel.domains[dn]
  if not u or not d or d.owner ~= key then return M.NOT_OBJECT end
  local used_traffic = u.traffic_month == sb:today():sub(1, 7) and u.traffic or 0
  local now = os.date("!*t", sb:now())
  local next_month = os.time { year = now.year + (now.month == 12 and 1 or 0), month = now.month % 12 + 1, day = 1, hour = 0 }
  return {
    Email = u.email, APIQuota = u.quota, APIQuotaOneTime = decimal(u.quota_one_time),
    DaysToReset = math.max(0, (next_month - sb:now()) // 86400),
    IsSubaccount = 0, IsAlias = 0,
    RemainingCDNTraffic = math.max(0, u.cdn_quota - used_traffic), UsedCDNTraffic = tostring(used_traffic),
    FreeAPICalls = decimal(u.free or 0), PaidAPICalls = decimal(u.used), PaidAPICallsOneTime = decimal(u.used_one_time),
    CDNQuota = u.cdn_quota, Unlimited = u.unlimited and "true" or "false",
    UsedCDN = (function()
      local t = recent(sb, d.traffic)
      if t == json.empty_array then return t end
      local out = {}
      for day, b in pairs(t) do out[day] = { Traf = b } end
      return out
    end)(),
    UsedCredits = recent(sb, d.credits),
  }
end

-- purge-storage-bulk/KEY/DOMAIN and purge-cdn-cache-bulk/KEY/DOMAIN: only
-- for a domain associated with the key; www and apex are separate domains.
local function purge(what)
  return function(sb, key, name) -- a third segment, the CDN host (SPIO sends it), is accepted and ignored
    local dn, d = lookup(sb, name, key, true)
    if not dn then return d end
    if d.owner ~= key then return refuse("not_yours") end
    d.purges = d.purges or {}
    d.purges[what] = (d.purges[what] or 0) + 1
    d.cached = nil
    return done(what == "storage" and "Storage purge started." or "CDN cache and storage purge started.")
  end
end
H.purge_storage_bulk = purge("storage")
H.purge_cdn_cache_bulk = purge("cdn")

-- The client's host and the image's path on it in an image URL as
-- ShortPixel's CDN serves it: https://CDNHOST/spio/OPTIONS/HOST/PATH,
-- https://CDNHOST/spai/OPTIONS/https://HOST/PATH, or any other
-- https://HOST/PATH. -> host, path (no leading "/") | nil
local function image_path(url)
  local host, path = url:match("^[Hh][Tt][Tt][Pp][Ss]://([^/:]+)[^/]*/(.*)$")
  if not host then return nil end
  local kind, rest = path:match("^(sp[ia][oi])/[^/]*/(.*)$")
  if kind == "spio" then host, path = rest:match("^([^/]+)/?(.*)$")
  elseif kind == "spai" then host, path = rest:match("^[Hh][Tt][Tt][Pp][Ss]?://([^/:]+)[^/]*/?(.*)$") end
  return host, path
end

-- purge-cdn-cache/KEY/URL: one image and its variants (evidence: SPIO
-- sends it after every optimisation or restore, CDNController 174-180,
-- 604-622, 787-850), the client's host found in the URL (image_path), for a
-- domain associated with the key, as the bulk purge. A URL ending in '*'
-- is a prefix, any other one path: what /_sandbox/cdn/ has cached there
-- is fetched again as a first fetch. The count of such purges is kept per
-- domain, not the URLs, so the state does not grow with every purge. The
-- answer is a choice (SPIO does not read it).
function H.purge_cdn_cache(sb, key, url)
  local host, path = image_path(url)
  if not host then return refuse("bad_domain") end
  local dn, d = lookup(sb, host, key, true)
  if not dn then return d end
  if d.owner ~= key then return refuse("not_yours") end
  d.purges = d.purges or {}
  d.purges.image = (d.purges.image or 0) + 1
  local prefix = path:match("^(.*)%*$")
  for cached in pairs(prefix and d.cached or {}) do
    if cached:sub(1, #prefix) == prefix then d.cached[cached] = nil end
  end
  if not prefix and d.cached then d.cached[path] = nil end
  return done("CDN cache purge of the image started.")
end

-- purge-cdn-cache's arguments: the key (a segment) and the image's URL,
-- the rest of the path as sent (SPIO does not encode it; an encoded one is
-- decoded). -> {key, url} | nil, 404
local function read_purge_url(_, req)
  local rest = req.path:match("^/purge%-cdn%-cache/[^/]+/(.+)$")
  if not rest then return nil, 404 end
  if rest:find("%", 1, true) then
    local decoded = percent.unescape(rest)
    if not decoded then return nil, 400, "bad percent-encoding in the image's URL" end
    rest = decoded
  end
  return { req.args[1], rest }
end

-- How ShortPixel reads a request and refuses one (router.lua's service
-- shape): GET, POST or HEAD; the path segments after the route's own are
-- the handler's arguments; a refusal is {"Status": -HTTP status, "Message"}
-- (choices: the service's own answers to these are unknown).
M.service = {
  name = "shortpixel",
  methods = { GET = true, POST = true, HEAD = true },
  say = { [404] = "Not found.", [405] = "Method not allowed.", [413] = "Request body too large.",
          [431] = "Request header fields too large.", [500] = "Internal error." },
  refuse = function(status, message) return { Status = -status, Message = message } end,
  read = function(_, req) return req.args end,
}

-- The fields of a multipart/form-data body (what PHP's curl sends for an
-- array of POST fields: ShortPixel's SDK asks api-status this way).
-- -> {name = value} | nil, message
local function parse_multipart(body, ctype)
  local boundary = ctype:match('boundary="([^"]+)"') or ctype:match("boundary=([^;%s]+)")
  if not boundary then return nil, "multipart body without a boundary" end
  local fields, delim = {}, "--" .. boundary
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "multipart body without its boundary" end
  while true do
    pos = pos + #delim
    if body:sub(pos, pos + 1) == "--" then return fields end
    local head_end = body:find("\r\n\r\n", pos, true)
    local next_delim = body:find("\r\n" .. delim, pos, true)
    if not head_end or not next_delim or head_end > next_delim then return nil, "malformed multipart body" end
    local name = body:sub(pos, head_end):match('[Cc]ontent%-[Dd]isposition:[^\r\n]-name="([^"]*)"')
    if name then fields[name] = body:sub(head_end + 4, next_delim - 1) end
    pos = next_delim + 2
  end
end

-- api-status's key: from a form or multipart body (as ShortPixel's own
-- clients send it), else from the query (their fallback).
-- -> {key} | nil, 400, message (malformed)
local function read_status_key(_, req)
  local ctype = (req.headers["content-type"] or ""):lower()
  local form, e
  if req.method == "POST" and ctype:find("multipart/form-data", 1, true) then
    form, e = parse_multipart(req.body, req.headers["content-type"])
  elseif req.method == "POST" and req.body ~= "" then
    form, e = percent.parse_form(req.body)
  end
  if not e and not (form and form.key) then form, e = percent.parse_form(req.query or "") end
  if not form then return nil, 400, e end
  if form.key and not utf8.len(form.key) then return nil, 400, "the key is not UTF-8" end
  return { form.key }
end

-- Routes (router.lua's shape): the first path segment names the operation;
-- the rest are its arguments in order (args = {min, max}). key_at says
-- which argument holds the key (masked in the log).
local S = M.service
M.routes = {
  ["/add-domain"] = { service = S, handler = H.add_domain, args = { 1, 2 }, key_at = 2 },
  ["/read-domain"] = { service = S, handler = H.read_domain, args = { 1, 2 } },
  ["/set-domain"] = { service = S, handler = H.set_domain, args = { 1, 2 }, key_at = 2 },
  ["/revoke-domain"] = { service = S, handler = H.revoke_domain, args = { 1, 2 }, key_at = 2 },
  ["/read-domain-cdn-usage"] = { service = S, handler = H.read_domain_cdn_usage, args = { 1, 2 }, key_at = 2 },
  ["/purge-storage-bulk"] = { service = S, handler = H.purge_storage_bulk, args = { 1, 2 }, key_at = 1 },
  ["/purge-cdn-cache-bulk"] = { service = S, handler = H.purge_cdn_cache_bulk, args = { 1, 3 }, key_at = 1 },
  -- the rest of the path is an image's URL (its own slashes included)
  ["/purge-cdn-cache"] = { service = S, handler = H.purge_cdn_cache, args = { 2, math.huge }, key_at = 1,
    read = read_purge_url },
  -- the key in the body or the query; refusals are {"Status": {"Code", "Message"}}
  ["/v2/api-status.php"] = { service = S, handler = H.api_status, read = read_status_key,
    refuse = function(status, message) return { Status = { Code = tostring(-status), Message = message } } end },
}

-- CDN traffic for a domain (GET /_sandbox/cdn/DOMAIN/PATH): the first fetch
-- of a path is one optimisation (a paid credit, or a free one when it saves
-- under 5%); every fetch is traffic. Exhausted credits serve the original.
function M.serve(sb, d, path, size, saves)
  d.cached = d.cached or {}
  local credit = false
  if not d.cached[path] and M.status_of(sb, d) >= 1 then
    d.cached[path] = true
    if saves then M.use_credits(sb, d, 1, 0) else M.use_credits(sb, d, 0, 1) end
    credit = true
  end
  M.add_traffic(sb, d, size)
  return credit
end

return M
