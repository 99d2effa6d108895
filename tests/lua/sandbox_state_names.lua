-- GET /_sandbox/state names every account and sub-key by the 16-hex
-- fingerprint the journals use (script.fingerprint), so that two keys that
-- end in the same four characters are two members, not one duplicated (a
-- parser keeps one of duplicate members and drops an account). No key is
-- in the text; each record shows its key masked, as everything else does.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"
local script = require "cdnctl.kit.script"

local SP1, SP2 = "spTwinFirstKey001234", "spTwinOtherKey991234"
local EZ1, EZ2 = "ez-twin-account-a-77", "ez-twin-account-b-77"
local SUB1, SUB2 = "ez-twin-subkey-aa-55", "ez-twin-subkey-bb-55"

local function state_text(config)
  local handler = sandbox.new(json.encode(config))
  local r = handler { method = "GET", uri = "/_sandbox/state", body = "", headers = {} }
  t.eq(r.status, 200)
  return r.body
end

local function count(map)
  local n = 0
  for _ in pairs(map) do n = n + 1 end
  return n
end

local config = { pending = 0, seed = 1, accounts = {
  shortpixel = { { key = SP1, email = "a@example.com" }, { key = SP2, email = "b@example.com" } },
  easyio = { { key = EZ1, sub_keys = { SUB1 } }, { key = EZ2, sub_keys = { SUB2 } } },
} }

t.test("two keys with the same last four characters are two members, named by fingerprint", function()
  local text = state_text(config)
  local st = json.decode(text)
  t.eq(count(st.shortpixel.users), 4, "the demo users and both twins")
  t.eq(count(st.easyio.accounts), 3, "the demo account and both twins")
  t.eq(count(st.easyio.sub_keys), 3, "the demo sub-key and both twins")
  for _, k in ipairs { SP1, SP2 } do t.ok(st.shortpixel.users[script.fingerprint(k)], "user " .. k:sub(-4)) end
  for _, k in ipairs { EZ1, EZ2 } do t.ok(st.easyio.accounts[script.fingerprint(k)], "account " .. k:sub(-4)) end
  for _, k in ipairs { SUB1, SUB2 } do
    local sk = st.easyio.sub_keys[script.fingerprint(k)]
    t.ok(sk, "sub-key " .. k:sub(-4))
    t.eq(sk.key, "****" .. k:sub(-4), "the record shows its key masked")
  end
end)

t.test("no key is in the state's text, under a --state file too", function()
  local dir = os.tmpname()
  os.remove(dir)
  local cfg = { pending = 0, seed = 1, accounts = config.accounts, state = dir .. ".state.json" }
  local text = state_text(cfg)
  for _, k in ipairs { SP1, SP2, EZ1, EZ2, SUB1, SUB2 } do t.nomatch(text, k) end
  t.eq(count(json.decode(text).shortpixel.users), 4, "the users, named by fingerprint, with --state")
  os.remove(cfg.state); os.remove(cfg.state .. ".journal"); os.remove(cfg.state .. ".journal.pid")
end)

t.done()
