-- cdnctl.ops: the table of operations. Everything the client side knows
-- about the two APIs is here (the sandbox's emulation of them is in
-- sandbox/, checked against the same fixtures): each entry names the binding, the
-- service, the HTTP method, the path template, the arguments (positional
-- and option fields, with their checkers), how the key travels, how to read
-- the answer, whether a blind retry is safe, and the documentation that
-- help(), the man page and `cdnctl call --list` print.
--
-- destructive = "irreversible" | "costly": the operation destroys what
-- cannot be had back, or empties caches that cost credits and traffic to
-- fill again. `cdnctl call` and the ready scripts ask first on a terminal
-- (cdnctl.kit.script.confirm), naming what goes with the `confirm` template
-- ({arg} an argument, {hosts} the hosts a purge reaches); bindings called
-- from a script never ask.
--
-- columns: the default columns of `cdnctl call OP --output table|csv` (a
-- list's fields that fit 120 columns; --fields chooses others).
--
-- Path templates: {sp}, {api} and {ez} are the base URLs; {name} is an
-- argument, already validated, percent-encoded when substituted; {name*}
-- takes the rest of the path: the argument (checked to hold nothing a path
-- cannot carry as it is), not percent-encoded, after the operation's
-- rest[name](value, opts) when it has one (purge_cdn_cache: an image's URL).

local M = {}

-- cdnctl.check requires this module (the common options): the checks below
-- take it when they run.
local function check() return require "cdnctl.check" end

-- JSON null as the answers carry it (cdnctl.json.null).
M.null = require("cdnctl.json").null

-- The services: the name people read (label), the environment variable of
-- the key, the cheapest read that tells whether a key is accepted
-- (key_check, for `cdnctl whoami`), and the base URLs that path templates
-- name ({sp}, {api}, {ez}), each with its environment variable, its config
-- file field and its built-in default. config.lua reads keys and URLs through this table;
-- whoami, profiles, the man page and the sandbox print from it.
M.services = {
  shortpixel = {
    label = "ShortPixel", key_env = "SHORTPIXEL_API_KEY", key_check = "api_status",
    urls = {
      { name = "sp", env = "CDNCTL_SHORTPIXEL_URL", field = "shortpixel_url",
        default = "https://no-cdn.shortpixel.ai", doc = "Base URL of the ShortPixel CDN API" },
      { name = "api", env = "CDNCTL_SHORTPIXEL_API_URL", field = "shortpixel_api_url",
        default = "https://api.shortpixel.com", doc = "Base URL of api-status" },
    },
  },
  easyio = {
    label = "Easy IO", key_env = "EASYIO_API_KEY", key_check = "show_keys",
    urls = {
      { name = "ez", env = "CDNCTL_EASYIO_URL", field = "easyio_url",
        default = "https://optimize.exactlywww.com", doc = "Base URL of the Easy IO Admin API" },
    },
  },
}
M.service_order = { "shortpixel", "easyio" }
-- Each base URL by its name in path templates, with its service.
M.base_urls = {}
for _, service in ipairs(M.service_order) do
  local svc = M.services[service]
  svc.name = service
  svc.key_field, svc.key_cmd_field = service .. "_key", service .. "_key_cmd"
  for _, u in ipairs(svc.urls) do
    u.service = service
    M.base_urls[u.name] = u
  end
end

-- ShortPixel's statuses (read-domain), by number. SPAI's comment lists
-- them: "2 OK (credits available, this is also for not associated domains),
-- 0 credits near limit, -1 credits depleted, CDN active, -2 credits
-- depleted, CDN inactive, -3 connection error" (../shared/api-evidence.md).
M.STATUS = {
  [2] = "ok",
  [1] = "credits almost exhausted",
  [0] = "credits near limit",
  [-1] = "credits exhausted",
  [-2] = "credits exhausted some time ago",
  [-3] = "domain not reachable",
}

-- The name of a read-domain status; one no client knows is "unknown (N)".
function M.status_name(n)
  return M.STATUS[n] or ("unknown (" .. tostring(n) .. ")")
end

-- A ShortPixel Status as a Lua integer: the service sends an integer, a
-- decimal string ("2", "-401") or a {Code, Message} object. Numbers are
-- read as decimal only ("0x2" is no status). -> integer | nil
function M.status_code(v)
  if type(v) == "table" then v = v.Code end
  if math.type(v) == "integer" then return v end
  if math.type(v) == "float" then return math.tointeger(v) end
  if type(v) == "string" then
    local d = v:match("^%s*([+-]?%d+)%s*$")
    return d and #d <= 18 and math.tointeger(tonumber(d)) or nil
  end
  return nil
end

-- Reading answers -----------------------------------------------------------
-- accept(body) -> true | false, message, code. `body` is the decoded JSON,
-- a table: an answer that is not a JSON object never reaches a reader (the
-- operation's `not_object` says what such an answer means, if anything;
-- its `bare(value)` may turn a JSON value that is not an object into the
-- object it means). finish(body), when the operation has one, completes an
-- accepted answer (read_domain: status_name).

local function sp_message(body)
  local m = body.Message
  if m == nil and type(body.Status) == "table" then m = body.Status.Message end
  return m ~= nil and tostring(m) or nil
end

-- ShortPixel's domain actions answer {"Status": n, "Message": "..."}:
-- 1 or 2 means done (SPAI counts both); anything else is the service saying no.
local function sp_action(body)
  local st = M.status_code(body.Status)
  if st == nil then return false, "answer has no readable Status (" .. tostring(body.Status) .. ")" end
  if st == 1 or st == 2 then return true end
  return false, sp_message(body) or "refused", st
end

-- read-domain sometimes answers a bare status ("2"): the object it means.
local function sp_bare_status(v)
  if math.type(v) == "integer" then return { Status = v } end
  return nil
end

-- read-domain's answer, read: its status named (status_name).
local function sp_name_status(body)
  body.status_name = M.status_name(M.status_code(body.Status))
end

-- An answer of either service with an HTTP error status: its message, if any.
function M.http_error_message(body)
  local msg = type(body) == "table" and (body.error or body.Message or body.message) or nil
  return type(msg) == "string" and msg or nil
end

-- read-domain: every status is the domain's state, an answer, not a failure.
local function sp_read(body)
  if M.status_code(body.Status) ~= nil then return true end
  return false, "answer has no readable Status (" .. tostring(body.Status) .. ")"
end

-- api-status: {"Status": {"Code": "2", "Message": "Success"}, ...}
local function sp_api_status(body)
  if type(body.Status) ~= "table" then return false, "unexpected answer (no Status object)" end
  local code = M.status_code(body.Status)
  if code == 2 then return true end
  return false, sp_message(body) or "API key refused", code
end

-- read-domain-cdn-usage: the statistics, or a ShortPixel refusal object.
local function sp_usage(body)
  if body.Status ~= nil and body.Email == nil then return sp_action(body) end
  return true
end

-- Easy IO: any object with an "error" member is a failure.
local function ez_accept(body)
  if body.error ~= nil then return false, tostring(body.error) end
  return true
end

-- purge-cdn-cache: what SPIO sends after an optimisation or a restore, the
-- image's full CDN URL "WITHOUT_EXTENSION*" (CDNController 174-180,
-- 604-622, 787-850): the last path segment's extension (from its last '.')
-- becomes '*', a last segment without '.' gets '*' appended, a path that
-- already ends in '*' is a prefix, sent as it is; opts.exact sends the URL
-- unchanged. -> the text that follows KEY/ in the path
function M.purge_target(url, opts)
  if (opts and opts.exact) or url:sub(-1) == "*" then return url end
  local dir, last = url:match("^(.*/)([^/]*)$")
  local stem = last:match("^(.*)%.[^.]*$")
  return dir .. (stem or last) .. "*"
end

-- The client's host in an image URL as ShortPixel's CDN serves it: for
-- https://CDNHOST/spio/OPTIONS/HOST/... the segment after the options; for
-- https://CDNHOST/spai/OPTIONS/https://HOST/... the inner URL's host; for
-- any other https://HOST/..., HOST. -> host (lower-cased) | nil
function M.image_host(url)
  local host, path = url:match("^[Hh][Tt][Tt][Pp][Ss]://([^/:]+)[^/]*(/.*)$")
  if not host then return nil end
  local kind, rest = path:match("^/(sp[ia][oi])/[^/]*/(.*)$")
  if kind == "spio" then host = rest:match("^([^/]+)")
  elseif kind == "spai" then host = rest:match("^[Hh][Tt][Tt][Pp][Ss]?://([^/:]+)") end
  return host and host:lower() or nil
end

-- purge-cdn-cache's answer is read by nobody (SPIO sends it and goes on), so
-- its shape is unknown: an object with a Status is read as the domain
-- actions are; any other 2xx answer is success. The result is a fresh table
-- naming what was purged (what came back is in cdnctl.meta(result).answer).
-- (value: the decoded answer when it is a JSON object, else nil)
-- -> result | false, message, code
local function purge_answer(value, values, opts)
  if value ~= nil and value.Status ~= nil then
    local ok, msg, code = sp_action(value)
    if not ok then return false, msg, code end
  end
  return { purged = M.purge_target(values.url, opts) }
end

-- Checking and preparing: calls that read other operations -----------------
-- Some calls read another operation on their own behalf, through `ctx`,
-- which client.lua builds for one call:
--   ctx.call(name [, values]) -> the result of operation `name` ("easyio.show_keys")
--     with the same key, the same timeout and what is left of the deadline | nil, err
--   ctx.fail(message [, code]) -> an "api" error of this call; ctx.log(fmt, ...) a debug line
-- An operation may carry:
--   snapshot(ctx, values) -> before | nil, err: read before the first attempt
--     (a create's or a remove's "was it there?"), what reconcile compares
--     with. nil, err means the call is not sent: its read failed (err is the
--     read's), or the read already answers (ctx.fail: the site existed before
--     this call, the sub-key never did).
--   reconcile(ctx, values, before) -> "made", result | "not_made" | "unknown", why:
--     after an answer that does not prove the work not done (lost, 5xx, a
--     timeout, a 2xx that is not JSON, a signal), what the service shows:
--     this call's own work (made: the result, marked reconciled), none of it
--     (not_made: "not seen", which client.lua weighs), or no telling
--     (unknown: why, the read's error or {message, appeared}).
--   guard = code: the refusal (a code of `refusals`) that a resend meets when
--     an earlier attempt did the work, so that a check that sees nothing may
--     send again; without one (create_key) nothing is sent twice in one call.
--   serial(values, key) -> name: calls of the same name never overlap in one
--     process (client.lua queues them), so that a check is never confused by
--     a twin of the same process.
--   prepare(ctx, values, opts) -> true | nil, err: complete values before the
--     first attempt.
--   on_refusal = {[code] = function(ctx, values, err, after_lost) -> result | nil, err}:
--     what a refusal (its code, from `refusals`) means, after_lost true when
--     an earlier attempt may have done the work.
--   unchecked: what may be left when the outcome is unknown, and how to see
--     and undo it ({arg} filled in).
--   reads_first = {name, note, unless = option, fills = argument}: what
--     --dry-run shows for the read snapshot or prepare sends first (skipped
--     under opts[unless]; the fields of argument `fills` it supplies).

-- PHP's json_encode writes a list whose indices are not 0..n-1 as an object
-- {"0": ..., "1": ...}: such a table becomes a Lua sequence again.
function M.as_list(v)
  if type(v) ~= "table" or v[1] ~= nil or next(v) == nil then return v end
  local out = {}
  for k, item in pairs(v) do
    local i = type(k) == "string" and k:match("^%d+$") and tonumber(k)
    if not i then return v end
    out[#out + 1] = { i, item }
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  for i, p in ipairs(out) do out[i] = p[2] end
  return out
end

-- The site of a show_sites answer whose URL is site_url (check.same_site).
function M.find_site(answer, site_url)
  for _, s in ipairs(type(answer) == "table" and M.as_list(answer.sites) or {}) do
    if type(s) == "table" and check().same_site(s.site_url, site_url) then return s end
  end
  return nil
end

-- create.php's answer for a site found on show_sites: what create_site
-- returns when a lost answer turns out to have taken effect.
local function created_site(s)
  return { id = math.tointeger(tonumber(s.site_id)) or s.site_id, site_url = s.site_url, alias = s.alias,
           dev = (tostring(s.live) == "0") and 1 or 0, status = "success", reconciled = true }
end

-- The words of a duplicate refusal for a site this account lists.
local function registered_as(site_url, site)
  return string.format("%s is already registered as site %s (%s)", site_url, tostring(site.site_id), tostring(site.alias))
end

-- create_site, before: the site must not be listed yet; if it is, it
-- existed before this call (a duplicate naming it, nothing sent).
local function site_absent(ctx, values)
  local r, err = ctx.call("easyio.show_sites", { site_url = values.site_url })
  if not r then return nil, err end
  local site = M.find_site(r, values.site_url)
  if not site then return true end
  local e = ctx.fail(registered_as(values.site_url, site), "duplicate")
  e.site = site
  return nil, e
end

-- create_site: the site is on show_sites (it was not before: site_absent).
local function site_created(ctx, values)
  local r, err = ctx.call("easyio.show_sites", { site_url = values.site_url })
  if not r then return "unknown", err end
  local site = M.find_site(r, values.site_url)
  if site then return "made", created_site(site) end
  return "not_made"
end

-- Whether show_sites lists the site id -> true | false | nil, err
local function site_listed(ctx, site_id)
  local r, err = ctx.call("easyio.show_sites")
  if not r then return nil, err end
  for _, site in ipairs(type(r.sites) == "table" and M.as_list(r.sites) or {}) do
    if type(site) == "table" and tostring(site.site_id) == tostring(site_id) then return true end
  end
  return false
end

-- remove_site, before: the site must be listed; one that is not was never
-- there (or is another account's): not_found, nothing sent.
local function site_present(ctx, values)
  local listed, err = site_listed(ctx, values.site_id)
  if listed == nil then return nil, err end
  if listed then return true end
  return nil, ctx.fail("site " .. tostring(values.site_id) .. " is not on this account (show_sites does not list it)",
    "not_found")
end

-- remove_site: the site is no longer on show_sites (it was before: site_present).
local function site_removed(ctx, values)
  local listed, err = site_listed(ctx, values.site_id)
  if listed == nil then return "unknown", err end
  if listed then return "not_made" end
  return "made", { success = true, reconciled = true }
end

-- create_site refused with "duplicate site url". The read before did not
-- list the site, so after an attempt that may have done the work, that is
-- the first try having taken effect: the site is returned. Otherwise the
-- site was registered meanwhile by someone else: the error names it
-- (err.site) when this account's show_sites lists it.
local function duplicate_site(ctx, values, err, after_lost)
  local r = ctx.call("easyio.show_sites", { site_url = values.site_url })
  local site = r and M.find_site(r, values.site_url)
  if site and after_lost then
    ctx.log("reconciled after a lost answer: the retry met the site the first try created")
    return created_site(site)
  end
  err.site = site
  if site then
    err.message = registered_as(values.site_url, site)
  elseif r then
    err.message = values.site_url .. " is already registered, but not on this account (show_sites does not list it)"
  else
    err.message = values.site_url .. " is already registered (" .. err.message .. "); looking it up failed"
  end
  return nil, err
end

-- A remove refused as "not found". The read before listed it, so after an
-- attempt that may have done the work, that attempt removed it; otherwise
-- it was removed meanwhile by someone else.
local function removed_meanwhile(done)
  return function(ctx, values, err, after_lost)
    if after_lost then
      ctx.log("reconciled after a lost answer: the retry found it gone")
      return done(values)
    end
    err.message = err.message .. " (it was listed just before: removed meanwhile by another call)"
    return nil, err
  end
end

-- The sub-keys of a show_keys answer, as a set.
local function key_set(r)
  local set = {}
  for _, k in ipairs(type(r.keys) == "table" and M.as_list(r.keys) or {}) do set[k] = true end
  return set
end

-- create_key, before: the sub-keys there are; a new one is how a lost answer is found.
local function sub_keys(ctx)
  local r, err = ctx.call("easyio.show_keys")
  if not r then return nil, err end
  return key_set(r)
end

-- create_key: the one sub-key that was not there before. More than one
-- (another process, the web interface) cannot be told apart: unknown,
-- naming them masked.
local function key_created(ctx, _, before)
  local now, err = sub_keys(ctx)
  if not now then return "unknown", err end
  local new = {}
  for k in pairs(now) do
    if not before[k] then new[#new + 1] = k end
  end
  if #new == 0 then return "not_made" end
  if #new == 1 then return "made", { success = 1, sub_key = new[1], reconciled = true } end
  local short = require("cdnctl.redact").short
  for i, k in ipairs(new) do new[i] = short(k) end
  table.sort(new)
  return "unknown", { appeared = new, message = #new .. " sub-keys appeared while it ran (" .. table.concat(new, ", ")
    .. "), so which one it made cannot be told" }
end

-- remove_key, before: the sub-key must be on show_keys.
local function key_present(ctx, values)
  local now, err = sub_keys(ctx)
  if not now then return nil, err end
  if now[values.sub_key] then return true end
  return nil, ctx.fail("sub-key not found on this account (show_keys does not list it)", "not_found")
end

-- remove_key: the sub-key is no longer on show_keys.
local function key_removed(ctx, values)
  local now, err = sub_keys(ctx)
  if not now then return "unknown", err end
  if now[values.sub_key] then return "not_made" end
  return "made", { success = 1, sub_key = values.sub_key, reconciled = true }
end

-- change_key: the API blanks omitted fields, so the current ones (show_keys)
-- are sent too, unless opts.replace.
local function keep_omitted(ctx, values, opts)
  if opts.replace then return true end
  local r, err = ctx.call("easyio.show_keys")
  if not r then return nil, err end
  local sub = values.sub_key
  if not key_set(r)[sub] then return nil, ctx.fail("sub-key not found on this account (show_keys)") end
  local cur = {
    label = type(r.labels) == "table" and r.labels[sub] or nil,
    allowed = type(r.limits) == "table" and r.limits[sub] or nil,
    site_limit = type(r.site_limit) == "table" and r.site_limit[sub] or nil,
  }
  local merged = {}
  for k, v in pairs(cur) do
    if v ~= nil and v ~= M.null then merged[k] = (k == "label") and tostring(v) or (check().count(v, k) or 0) end
  end
  for k, v in pairs(values.fields or {}) do merged[k] = v end
  values.fields = merged
  return true
end

-- Operations ---------------------------------------------------------------

local SP_RULE_WWW = "example.com and www.example.com are separate domains to ShortPixel: see shortpixel.hosts()."

M.list = {
  -- ShortPixel CDN API
  {
    service = "shortpixel", name = "add_domain", method = "GET",
    path = "{sp}/add-domain/{domain}/{key}", key_in = "path", key_optional = true,
    args = { { name = "domain", check = "domain" } },
    accept = sp_action, idempotent = true,
    doc = "Add a domain and associate it with the user who has the API key.",
    returns = "{Status = 2, Message = ...}",
    rules = {
      "Adding a domain again is safe.",
      "With opts.key == false the domain is added but associated with nobody (500 free credits).",
      "A domain added without a key is associated with the first key that adds or sets it later.",
      "A domain already associated with one user cannot be taken by another key.",
      SP_RULE_WWW,
    },
  },
  {
    service = "shortpixel", name = "read_domain", method = "GET",
    path = "{sp}/read-domain/{domain}", key_in = "none",
    args = { { name = "domain", check = "domain" } }, options = { refresh = "boolean" },
    path_options = { refresh = "/refresh" },
    accept = sp_read, idempotent = true, bare = sp_bare_status, finish = sp_name_status,
    doc = "Read a domain's status and account state ({refresh = true}: ask for fresh data).",
    returns = "{Status = n, status_name, HasAccount, Email, FreeCredits, UsedFreeCredits, TemporaryRedirectOrigin, timestamp, Message, CDNQuota, UsedCDN, Unlimited}: "
      .. "2 ok, 1 credits almost exhausted, 0 credits near limit, -1 credits exhausted, -2 exhausted some time ago, -3 domain not reachable",
    rules = { "Every status describes the domain; it is an answer, not a failure (an unknown one is named 'unknown (N)').",
              "HasAccount is true when the domain is associated with a user; a domain nobody added reads Status 2 too.",
              "Counters may come as numbers or decimal strings: read them with cdnctl.number().",
              "CDNQuota and UsedCDN are bytes (UsedCDN a number here, a {date = {Traf}} map in read_domain_cdn_usage); "
                .. "for a domain without an account they are its free CDN pool. Unlimited is the string 'true' or 'false'.",
              SP_RULE_WWW },
  },
  {
    service = "shortpixel", name = "set_domain", method = "GET",
    path = "{sp}/set-domain/{domain}/{key}", key_in = "path",
    args = { { name = "domain", check = "domain" } },
    accept = sp_action, idempotent = true,
    doc = "Associate an existing, unassociated domain with the key's user; adds nothing.",
    returns = "{Status = 2, Message = ...}",
    rules = { "The domain must exist already.", "A domain associated with another user is refused.", SP_RULE_WWW },
  },
  {
    service = "shortpixel", name = "revoke_domain", method = "GET",
    path = "{sp}/revoke-domain/{domain}/{key}", key_in = "path",
    destructive = "irreversible", confirm = "revoke {domain} from the ShortPixel key's account",
    args = { { name = "domain", check = "domain" } },
    accept = sp_action, idempotent = true,
    doc = "Revoke a domain's association; only the owner's key can.",
    returns = "{Status = 2, Message = ...}",
    rules = { "Works only with the API key of the current owner.", SP_RULE_WWW },
  },
  {
    service = "shortpixel", name = "api_status", method = "POST",
    path = "{api}/v2/api-status.php", key_in = "form", key_field = "key",
    args = {},
    accept = sp_api_status, idempotent = true,
    doc = "Credits of the API key: quota, calls made, one-time credits.",
    returns = "{Status = {Code, Message}, APICallsMade, APICallsFree, APICallsQuota, APICallsQuotaOneTime, APICallsMadeOneTime, "
      .. "DateSubscription, DomainCheck, Unlimited, PlanType, CaptionsCallsMade, CaptionsCallsQuota, CaptionsCallsRemaining}",
    rules = { "The key travels in a POST form body (key=...), as ShortPixel's own clients send it: never in a URL that proxies log.",
              "Sent over https even though the page shows http: a key never travels in clear text.",
              "The counters come as decimal strings (\"289806.00000000000\"), kept as sent: read them with cdnctl.number()." },
  },
  {
    service = "shortpixel", name = "read_domain_cdn_usage", method = "GET",
    path = "{sp}/read-domain-cdn-usage/{domain}/{key}", key_in = "path",
    args = { { name = "domain", check = "domain" } },
    accept = sp_usage, idempotent = true,
    -- SPAI validates a key this way: "if ($response === '' || !is_object($response)) return false;"
    not_object = { code = "not_owner", message = "this key does not own {domain} (or the key is not valid)" },
    doc = "CDN traffic and API-call statistics of a domain, with daily breakdowns.",
    returns = "{Email, APIQuota, ..., UsedCDN = {[date] = {Traf}}, UsedCredits = {[date] = {Paid, Free, ...}}}",
    rules = { "An answer that is not a JSON object means the key does not own the domain: err.code = 'not_owner'.", SP_RULE_WWW },
  },
  {
    service = "shortpixel", name = "purge_storage_bulk", method = "GET",
    path = "{sp}/purge-storage-bulk/{key}/{domain}", key_in = "path",
    destructive = "costly", confirm = "purge ShortPixel storage of {hosts}",
    args = { { name = "domain", check = "domain" } }, options = { both = "boolean" },
    accept = sp_action, idempotent = true, both_hosts = true, done_word = "purged",
    doc = "Purge every file of the domain on ShortPixel's storage servers.",
    returns = "{Status = 2, Message = ...}; with opts.both, {[apex] = result, [www] = result}",
    rules = { "The domain must be associated with the key's user.", SP_RULE_WWW .. " opts.both = true purges both." },
  },
  {
    service = "shortpixel", name = "purge_cdn_cache_bulk", method = "GET",
    path = "{sp}/purge-cdn-cache-bulk/{key}/{domain}", key_in = "path",
    destructive = "costly", confirm = "purge CDN cache and storage of {hosts}",
    args = { { name = "domain", check = "domain" } }, options = { both = "boolean" },
    accept = sp_action, idempotent = true, both_hosts = true, done_word = "purged",
    doc = "Purge every file of the domain on the CDN and on ShortPixel's storage.",
    returns = "{Status = 2, Message = ...}; with opts.both, {[apex] = result, [www] = result}",
    rules = { "The domain must be associated with the key's user.", SP_RULE_WWW .. " opts.both = true purges both." },
  },
  {
    service = "shortpixel", name = "purge_cdn_cache", method = "GET",
    path = "{sp}/purge-cdn-cache/{key}/{url*}", key_in = "path", rest = { url = M.purge_target },
    destructive = "costly", confirm = "purge {url} (and its variants) from ShortPixel's CDN cache",
    args = { { name = "url", check = "https_url" } }, options = { exact = "boolean" },
    any_answer = purge_answer, idempotent = true, done_word = "purged",
    doc = "Purge one image and its variants from the CDN cache, by its full https URL (as ShortPixel Image Optimizer does).",
    returns = "{purged = the URL as sent (extension replaced by '*')}; what came back: cdnctl.meta(result).answer",
    rules = { "The URL travels as the rest of the path, not encoded: the last segment's extension becomes '*' "
              .. "(photo.jpg -> photo*), a last segment without '.' gets '*', a URL ending in '*' is a prefix; "
              .. "opts.exact = true sends it unchanged.",
              "A URL with a space, '?', '#' or '%', or that is not https with a host and a path, is refused: nothing is sent.",
              "The client's host (spio: the segment after the options; spai: the inner URL's host; else the URL's host) "
              .. "must be associated with the key's user.",
              "Nobody reads the answer: a Status other than 1 or 2 is a refusal, any other 2xx answer is success." },
  },

  -- Easy IO Admin API: every call is a POST with api_key and a user-agent.
  {
    service = "easyio", name = "show_sites", method = "POST", path = "{ez}/exactdn/show.php",
    args = { { name = "site_url", check = "site_url", optional = true } },
    accept = ez_accept, idempotent = true, lists = { "sites" },
    columns = { "site_id", "site_url", "alias", "live", "pending", "bandwidth" },
    doc = "List the account's CDN sites (a sub-key sees its own), optionally one site_url.",
    returns = "{live_sites, licensed, interval, quota, sites = {{site_id, zone, alias, site_url, location, pending, live, purgeable, bandwidth, beforet, aftert, config}}}",
    rules = { "live_sites counts only sites with live = 1; dev sites do not count against licensed." },
  },
  {
    service = "easyio", name = "create_site", method = "POST", path = "{ez}/exactdn/create.php",
    args = { { name = "site_url", check = "site_url" } },
    options = { settle = "number" },
    accept = ez_accept, idempotent = false, snapshot = site_absent, reconcile = site_created, guard = "duplicate",
    serial = function(values) return "create_site\0" .. (check().site_key(values.site_url) or values.site_url) end,
    on_refusal = { duplicate = duplicate_site },
    reads_first = { name = "easyio.show_sites",
      note = "read first: the site, to tell a site that existed before this call from one it made" },
    unchecked = "the site {site_url} may have been created: see it with `cdnctl call easyio.show_sites {site_url}` "
      .. "and remove it with `cdnctl call easyio.remove_site SITE_ID`",
    refusals = { ["duplicate site url"] = "duplicate" },
    doc = "Add a CDN site for an origin URL.",
    returns = "{id, site_url, dev, alias, status = 'success'}",
    rules = {
      "The service adds a trailing slash to site_url.",
      "A URL already registered is refused: err.code = 'duplicate', err.site = the existing site when show_sites lists it.",
      "Staging-looking URLs are dev = 1 and do not count against the site limit.",
      "Reads show_sites(site_url) first: a site listed before the call is a duplicate, and nothing is sent.",
      "Not safe to retry blindly: after an answer that does not prove it was not done (lost, 5xx, a timeout, not JSON) "
        .. "cdnctl looks the site up before sending again; what it cannot tell fails with err.code = 'unknown_outcome'.",
      "Interrupted (Ctrl-C, SIGTERM, SIGHUP) while in flight, it looks the site up and returns it; not seen, it may still be made: unknown_outcome.",
      "opts.settle (seconds, default 5): how long to wait before the last look.",
    },
  },
  {
    service = "easyio", name = "update_site_config", method = "POST", path = "{ez}/exactdn/config-update.php",
    args = { { name = "site_id", check = "site_id" },
             { name = "config", fields = {
                 webp = "flag", avif = "flag", asset_domains = "hostlist", watermark = "flag",
                 watermark_offset = "count", watermark_min_size = "count", watermark_position = "count",
                 watermark_url = "text" } } },
    accept = ez_accept, idempotent = true,
    doc = "Change a site's configuration (webp, avif, asset_domains, watermark...).",
    returns = "{success = 1, webp, avif, asset_domains, watermark, ...}",
    rules = { "Lua booleans are sent as 1/0.", "Watermarking is not yet implemented by the service." },
  },
  {
    service = "easyio", name = "set_cname", method = "POST", path = "{ez}/exactdn/cname.php",
    args = { { name = "site_id", check = "site_id" }, { name = "custom_cname", label = "hostname", check = "domain" } },
    accept = ez_accept, idempotent = true,
    doc = "Give a site a custom CDN hostname (CNAME).",
    returns = "{success = 'Custom hostname successfully added.', alias}",
  },
  {
    service = "easyio", name = "revert_cname", method = "POST", path = "{ez}/exactdn/cname-revert.php",
    args = { { name = "site_id", check = "site_id" } },
    accept = ez_accept, idempotent = true,
    doc = "Remove a site's custom hostname and restore the standard one.",
    returns = "{success = 'Default hostname successfully restored: ...', alias}",
  },
  {
    service = "easyio", name = "remove_site", method = "POST", path = "{ez}/exactdn/remove.php",
    destructive = "irreversible", confirm = "remove the Easy IO site {site_id}",
    args = { { name = "site_id", check = "site_id" } }, options = { settle = "number" },
    accept = ez_accept, idempotent = true, snapshot = site_present, reconcile = site_removed, guard = "not_found",
    refusals = { ["site not found"] = "not_found" },
    on_refusal = { not_found = removed_meanwhile(function() return { success = true, reconciled = true } end) },
    reads_first = { name = "easyio.show_sites", note = "read first: the sites, to tell a site that never was from one removed" },
    unchecked = "site {site_id} may have been removed: see the sites with `cdnctl call easyio.show_sites`",
    doc = "Remove a CDN site.",
    returns = "{success = true}",
    rules = { "Pending (new) sites cannot be removed.",
              "Reads show_sites first: a site it does not list fails with err.code = 'not_found', and nothing is sent." },
  },
  {
    service = "easyio", name = "savings", method = "POST", path = "{ez}/exactdn/savings.php", key_in = "form_optional",
    args = { { name = "alias", check = "domain" } },
    accept = ez_accept, idempotent = true,
    doc = "Image savings and statistics of a site, by its CDN alias.",
    returns = "{original, savings, quota, bandwidth} (bytes)",
  },
  {
    service = "easyio", name = "show_keys", method = "POST", path = "{ez}/api_key/show.php",
    args = {},
    accept = ez_accept, idempotent = true, lists = { "keys" },
    doc = "List the account's sub-keys with limits, sites, labels, usage and bills.",
    returns = "{keys = {...}, limits = {[key] = n}, sites, site_limit, labels, stats, bill}",
  },
  {
    service = "easyio", name = "create_key", method = "POST", path = "{ez}/api_key/create.php",
    args = {},
    options = { settle = "number" },
    accept = ez_accept, idempotent = false, reconcile = key_created, snapshot = sub_keys,
    serial = function(_, key) return "create_key\0" .. tostring(key) end,
    reads_first = { name = "easyio.show_keys",
      note = "read first: the sub-keys, to tell after a lost answer or a Ctrl-C whether the key was made" },
    unchecked = "a sub-key may have been created: see the sub-keys with `cdnctl scripts/keys.lua list --show-keys` "
      .. "and remove it with `cdnctl scripts/keys.lua remove KEY`",
    doc = "Create a sub-key.",
    returns = "{success = 1, sub_key}",
    rules = { "Sub-keys cannot create sub-keys.",
              "Never sent twice in one call: after an answer that does not prove it was not done (lost, 5xx, a timeout, "
                .. "not JSON) cdnctl compares show_keys before and after, looks again after opts.settle seconds (default 5), "
                .. "and fails with err.code = 'unknown_outcome' when it cannot see its one new sub-key.",
              "Calls on one account key wait for each other inside one process, so that one's sub-key is never taken for another's.",
              "Interrupted (Ctrl-C, SIGTERM, SIGHUP) while in flight, it checks the same way and returns the new sub-key; not seen: unknown_outcome." },
  },
  {
    service = "easyio", name = "remove_key", method = "POST", path = "{ez}/api_key/remove.php",
    destructive = "irreversible", confirm = "remove the Easy IO sub-key {sub_key}",
    args = { { name = "sub_key", check = "key" } }, options = { settle = "number" },
    accept = ez_accept, idempotent = true, snapshot = key_present, reconcile = key_removed, guard = "not_found",
    refusals = { ["sub-key not found"] = "not_found" },
    on_refusal = { not_found = removed_meanwhile(function(values)
      return { success = 1, sub_key = values.sub_key, reconciled = true } end) },
    reads_first = { name = "easyio.show_keys", note = "read first: the sub-keys, to tell a sub-key that never was from one removed" },
    unchecked = "the sub-key may have been removed: see the sub-keys with `cdnctl scripts/keys.lua list`",
    rules = { "Reads show_keys first: a sub-key it does not list fails with err.code = 'not_found', and nothing is sent." },
    doc = "Remove a sub-key.",
    returns = "{success = 1, sub_key}",
  },
  {
    service = "easyio", name = "change_key", method = "POST", path = "{ez}/api_key/change.php",
    args = { { name = "sub_key", check = "key" },
             { name = "fields", fields = { label = "text", allowed = "count", site_limit = "count" } } },
    options = { replace = "boolean" },
    accept = ez_accept, idempotent = true, prepare = keep_omitted,
    reads_first = { name = "easyio.show_keys", unless = "replace", fills = "fields",
      note = "read first: the current label, allowed and site_limit (change.php blanks the fields it is not given)" },
    doc = "Change a sub-key's label, monthly image limit (allowed) or site limit.",
    returns = "{success = 1, sub_key, label, allowed, site_limit}",
    rules = { "The service blanks every field it is not given: cdnctl reads the current values "
              .. "(show_keys) and sends all three, unless opts.replace = true." },
  },
}

-- Hosts known to have moved: a transport failure against one says so.
M.TRANSPORT_HINTS = {
  ["optimize.exactlywww.com"] = "EWWW's own plugin moved to https://api.exactlywww.net in May 2026: "
    .. "set CDNCTL_EASYIO_URL=https://api.exactlywww.net (or easyio_url in the profile) to try it",
}

-- Options every binding takes, in the order help and completion show them,
-- with their types and what they mean (the one list: client.lua checks
-- them, `cdnctl call` and the prompt offer them, help prints them).
M.common_option_list = {
  { name = "key", type = "key", doc = "the key for this call; it replaces the key only, not the URLs" },
  { name = "timeout", type = "number", doc = "seconds per attempt, in [0.001, 86400]" },
  { name = "attempts", type = "integer", doc = "attempts in all, first try included" },
  { name = "deadline", type = "deadline", doc = "seconds for the whole call, retries included, in [0.001, 86400]" },
}
M.common_options = {}
for _, o in ipairs(M.common_option_list) do M.common_options[o.name] = o.type end

M.by_name = {}
for _, op in ipairs(M.list) do
  op.full = op.service .. "." .. op.name
  op.key_in = op.key_in or "form"   -- where the key travels: path, form, form_optional, none
  M.by_name[op.full] = op
end

return M
