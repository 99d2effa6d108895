-- cdnctl.settings: one value holds what a run is set to, built once at start
-- by the front end (or by a test, from its own table) and passed to whoever
-- needs it; no library module keeps a setting of its own.
--
--   settings.new(t) -> s     pure: reads nothing but t
--   settings.from_environment(t) -> s
--                            t plus the environment variables the services
--                            table (cdnctl.ops) names: the keys and base URLs
--   settings.change(s, changes) -> s | nil, message
--                            the one way to change s at run time:
--                            cdnctl.retry{} (policy), a ready script's
--                            --profile (profile), cdnctl.debug (debug),
--                            cdnctl.confirmations at the prompt (confirm)
--
-- The value: sandbox = {urls = {sp=, api=, ez=}, keys = {shortpixel=,
-- easyio=}} (--sandbox or a test's fixture); env = {NAME = value} (the
-- environment's keys and URLs, read once); profile (config_file.select's,
-- or nil); allow_http; quiet (no progress lines); debug (0, 1 or 2);
-- policy (cdnctl.retry's numbers over retry.DEFAULTS); har (the --har
-- recorder, cdnctl.har, or nil); confirm (the prompt's destructive
-- bindings ask first: cdnctl.front.guard). And what a run
-- remembers, which lives and dies with the value: key_cmds (each profile key
-- command's result), noted (services whose choice of source was said),
-- shape_warned (keys warned about), budgets (a retry budget per base URL),
-- resolved (the source config.resolve chose, each service's view of it and
-- its key once found, and each operation's base URL, path template and
-- transport verdict, cdnctl.request: emptied whole by M.change), locks (cdnctl.lock's queues: the
-- creates that must not overlap in this process), meta (cdnctl.meta: {op, attempts, retries, time} beside each result, weak).

local retry = require "cdnctl.retry"
local ops = require "cdnctl.ops"

local M = {}

-- The policy's numbers and their ranges (README, "Retries").
local POLICY_RANGES = { base = { 0, 3600, "seconds" }, cap = { 0, 3600, "seconds" },
  retry_after_cap = { 0, 3600, "seconds" }, timeout = { 0.001, 86400, "seconds" },
  budget = { 0, 1e6, "tokens" }, retry_cost = { 0, 1e4, "tokens" }, timeout_cost = { 0, 1e4, "tokens" },
  refund = { 0, 1e4, "tokens" }, settle = { 0, 600, "seconds" } }

-- M.check_policy(t) -> true | nil, message: every value of t a known policy
-- number, finite and in its range.
function M.check_policy(t)
  if type(t) ~= "table" then return nil, "table expected" end
  for k, v in pairs(t) do
    local range = POLICY_RANGES[k]
    if retry.DEFAULTS[k] == nil then return nil, "unknown setting '" .. tostring(k) .. "'" end
    if k == "attempts" then
      if math.type(v) ~= "integer" or v < 1 then return nil, "attempts must be a positive integer" end
    elseif type(v) ~= "number" or not (v >= range[1] and v <= range[2]) then
      return nil, string.format("%s must be a number of %s in [%s, %s], got %s",
        k, range[3], range[1], range[2], tostring(v))
    end
  end
  return true
end

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

local function nonempty(t)
  local out = {}
  for k, v in pairs(t or {}) do if v ~= "" then out[k] = v end end
  return out
end

-- M.new(t) -> settings, from t alone (see the header); t may be nil.
function M.new(t)
  t = t or {}
  local sandbox = t.sandbox or {}
  local s = {
    sandbox = { urls = copy(sandbox.urls), keys = copy(sandbox.keys) },
    env = nonempty(t.env), profile = t.profile, allow_http = t.allow_http or false,
    quiet = t.quiet or false, debug = t.debug or 0, har = t.har, confirm = t.confirm or false,
    policy = copy(retry.DEFAULTS),
    key_cmds = {}, noted = {}, shape_warned = {}, budgets = {}, resolved = {}, locks = {},
    meta = setmetatable({}, { __mode = "k" }),
  }
  local ok, err = M.check_policy(t.policy or {})
  if not ok then error("settings.new: policy: " .. err, 2) end
  for k, v in pairs(t.policy or {}) do s.policy[k] = v end
  return s
end

-- The names of the environment variables a settings value reads: each
-- service's key and base URLs (cdnctl.ops.services).
function M.env_names()
  local names = {}
  for _, service in ipairs(ops.service_order) do
    local svc = ops.services[service]
    names[#names + 1] = svc.key_env
    for _, u in ipairs(svc.urls) do names[#names + 1] = u.env end
  end
  return names
end

-- M.from_environment(t) -> M.new(t) with t.env read from os.getenv;
-- empty variables count as unset.
function M.from_environment(t)
  local env = {}
  for _, name in ipairs(M.env_names()) do
    local v = os.getenv(name)
    if v and v ~= "" then env[name] = v end
  end
  local u = copy(t)
  u.env = env
  return M.new(u)
end

-- M.change(s, changes) -> s | nil, message: changes = {policy = {...}
-- (checked, merged), profile = p | false (none), debug = level, confirm =
-- boolean}. Nothing changes unless everything is valid.
function M.change(s, changes)
  if changes.policy ~= nil then
    local ok, err = M.check_policy(changes.policy)
    if not ok then return nil, err end
  end
  if changes.debug ~= nil and changes.debug ~= true and changes.debug ~= false
    and math.type(changes.debug) ~= "integer" then
    return nil, "debug: boolean or integer expected"
  end
  if changes.confirm ~= nil and type(changes.confirm) ~= "boolean" then
    return nil, "confirm: boolean expected"
  end
  for k, v in pairs(changes.policy or {}) do s.policy[k] = v end
  if changes.confirm ~= nil then s.confirm = changes.confirm end
  if changes.profile ~= nil then s.profile = changes.profile or nil end
  s.resolved = {} -- what was resolved under the old value
  if changes.debug ~= nil then
    local level = changes.debug
    if level == true then level = 1 elseif level == false then level = 0 end
    s.debug = level
  end
  return s
end

return M
