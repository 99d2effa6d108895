-- cdnctl.sandbox.state: one sandbox instance's state object, the `sb` every
-- handler takes. It holds everything that lives as long as the instance
-- and nothing lives longer (two sandboxes in one process share nothing):
--   sb.state     the data both APIs change (what /_sandbox/state shows and
--                the --state file keeps)
--   sb.pending   seconds a new Easy IO site stays pending
--   sb:now(), sb:today(delta_days)   the sandbox's clock (the wall clock
--                plus the state's clock_offset, or a replayed request's time)
--   sb:random_name(n)   names drawn from the seeded generator (recorded
--                while a request runs, so that a replay draws the same)
--   sb:plain(v)   v with the state's tables in it copied out as plain
--                tables (with --state they are proxies that json.encode and
--                next see empty: store.lua); what router.run encodes
--   sb:known_name(s), sb:remember_name(s, name)   the memo of hostnames
--   sb:mask(text) every key the sandbox knows, masked
-- plus the per-instance indexes the rule modules keep, each named
-- sb.NAME_index (sb.easyio_index): derived from sb.state and dropped
-- (rebuilt on first use) whenever writes to it are undone.

local redact = require "cdnctl.redact"
local shortpixel = require "cdnctl.sandbox.shortpixel"
local easyio = require "cdnctl.sandbox.easyio"

local M = {}
local State = {}
State.__index = State

M.VERSION = 1
-- The sandbox's clock stays where os.date can show it: 1970 to 9999.
M.CLOCK_MAX = 253402300799
-- Hostnames remembered at most (then the memo starts again).
M.NAMES_MAX = 10000

-- A fresh state with the configured accounts (demo ones first).
function M.fresh(accounts)
  local st = {
    version = M.VERSION, clock_offset = 0,
    shortpixel = { users = {}, domains = {} },
    easyio = { accounts = {}, sub_keys = {}, sites = {}, next_site_id = 16 }, -- the page's examples use ids 16-18
  }
  for _, a in ipairs(accounts.shortpixel) do st.shortpixel.users[a.key] = shortpixel.new_user(a.email) end
  for _, a in ipairs(accounts.easyio) do
    st.easyio.accounts[a.key] = easyio.new_account(a.licensed)
    for i, sub in ipairs(a.sub_keys or {}) do
      local sk = easyio.new_sub_key(a.key)
      sk.label, sk.allowed, sk.site_limit, sk.created = "demo client", 2000, 2, i
      st.easyio.sub_keys[sub] = sk
    end
  end
  return st
end

-- Accounts named in the configuration that a loaded state lacks are added.
local function ensure_accounts(st, accounts)
  local base = M.fresh(accounts)
  for k, u in pairs(base.shortpixel.users) do st.shortpixel.users[k] = st.shortpixel.users[k] or u end
  for k, a in pairs(base.easyio.accounts) do st.easyio.accounts[k] = st.easyio.accounts[k] or a end
  for k, s in pairs(base.easyio.sub_keys) do
    if not st.easyio.sub_keys[k] and st.easyio.accounts[s.parent] then st.easyio.sub_keys[k] = s end
  end
end

-- Whether a clock offset keeps the sandbox's time in range.
function M.clock_ok(offset)
  local t = math.tointeger(offset) and os.time() + offset
  return t ~= nil and t >= 0 and t <= M.CLOCK_MAX
end

-- Whether a loaded state is one: -> true | nil, why
function M.valid(st)
  local shaped = type(st) == "table" and st.version == M.VERSION and type(st.shortpixel) == "table"
    and type(st.shortpixel.users) == "table" and type(st.shortpixel.domains) == "table"
    and type(st.easyio) == "table" and type(st.easyio.accounts) == "table"
    and type(st.easyio.sub_keys) == "table" and type(st.easyio.sites) == "table"
    and math.type(st.easyio.next_site_id) == "integer"
  if not shaped then return nil, "wrong shape or version" end
  if not M.clock_ok(st.clock_offset or 0) then return nil, "its clock_offset puts the clock outside 1970-9999" end
  return true
end

-- M.new(cfg, loaded) -> sb: the instance over a loaded state (or a fresh
-- one), with the configured accounts; cfg has accounts and pending.
function M.new(cfg, loaded)
  local st = loaded or M.fresh(cfg.accounts)
  ensure_accounts(st, cfg.accounts)
  return setmetatable({ state = st, pending = cfg.pending, accounts = cfg.accounts,
                        names = {}, names_count = 0 }, State)
end

-- Back to the configured accounts and nothing else (/_sandbox/reset): the
-- state's own table keeps its identity, so that its writes are tracked.
function State:reset()
  local st, fresh = self.state, M.fresh(self.accounts)
  for k in pairs(st) do if fresh[k] == nil then st[k] = nil end end
  for k, v in pairs(fresh) do st[k] = v end
end

-- sb:track(plain): the state's tables are proxies from now on, plain(v)
-- copies them out (store.lua's start).
function State:track(plain) self.plain_of = plain end

function State:plain(v)
  local plain = self.plain_of
  if plain then return plain(v) end
  return v
end

-- The indexes kept on sb (sb.NAME_index) dropped: the state under them was
-- undone.
function State:drop_indexes()
  for k in pairs(self) do
    if type(k) == "string" and k:sub(-6) == "_index" then self[k] = nil end
  end
end

function State:now() return (self.wall or os.time()) + (self.state.clock_offset or 0) end

function State:today(delta_days)
  return os.date("!%Y-%m-%d", self:now() + (delta_days or 0) * 86400)
end

-- Rule modules may still say sb:changed(): it does nothing (store.lua sees
-- every write).
function State:changed() end

-- A request starts: its wall time, and either the names a replayed one drew
-- (replaying) or a list that records the names this one draws (recording).
function State:begin(wall, replaying, recording)
  self.wall, self.replaying, self.drawn = wall, replaying, recording
end

-- The request is over.
function State:finish()
  self.wall, self.replaying, self.drawn = nil, nil, nil
end

local ABC = "abcdefghijklmnopqrstuvwxyz0123456789"
function State:random_name(n)
  if self.replaying then return table.remove(self.replaying, 1) or "" end
  local t = {}
  for i = 1, n do
    local c = math.random(1, #ABC)
    t[i] = ABC:sub(c, c)
  end
  local name = table.concat(t)
  if self.drawn then self.drawn[#self.drawn + 1] = name end
  return name
end

-- The memo of hostnames checked (shortpixel.lua's domain_name): a hot loop
-- over the same domains checks each once. -> name | false (refused) | nil (not seen)
function State:known_name(s)
  return self.names[s]
end

function State:remember_name(s, name)
  if self.names_count >= M.NAMES_MAX then self.names, self.names_count = {}, 0 end
  self.names[s], self.names_count = name or false, self.names_count + 1
end

-- Masks every key the sandbox knows (accounts, sub-keys) in a text.
function State:mask(text)
  local keys, st = {}, self.state
  for k in pairs(st.shortpixel.users) do keys[#keys + 1] = k end
  for k in pairs(st.easyio.accounts) do keys[#keys + 1] = k end
  for k in pairs(st.easyio.sub_keys) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return #a > #b end)
  for _, k in ipairs(keys) do
    if #k >= 4 then text = redact.mask(text, k) end
  end
  return text
end

return M
