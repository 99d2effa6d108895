#!/usr/bin/env bash
# Exactly once, or say so, under faults: 200 create_key and 200 create_site
# over 16 workers against a sandbox that fails answers (500), closes
# connections before the work (reset) and after it (lost), with latency.
# At least 80% of the calls succeed; every call that reports success made
# exactly the one object it returns (it exists now, it did not before, no
# other call returns it); no call leaves more than one object (objects made
# beyond the successes are at most the failures; one site per URL).
# create_key is serialised per account key inside one process, so the calls
# spread over 16 accounts; settle is shortened (the sandbox's faults are
# immediate: nothing arrives late).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

FAULTS=500:0.05,done500:0.05,reset:0.05,lost:0.05
ACCOUNTS=()
for i in $(seq -w 1 16); do ACCOUNTS+=(--account "easyio:ez-stress-acct-k0$i:1000"); done
start_sandbox sb --pending 0 --faults "$FAULTS" --latency 20-200 --seed 1 "${ACCOUNTS[@]}" --log "$T/log"
use "$SURL"
export EASYIO_API_KEY=ez-demo-account-0001 SHORTPIXEL_API_KEY=spDemoAgency00000001

cat >"$T/stress.lua" <<'LUA'
local sched, json = require "cdnctl.sched", require "cdnctl.json"
local N, ACCOUNTS = 200, 16
local function account(i) return string.format("ez-stress-acct-k0%02d", (i - 1) % ACCOUNTS + 1) end
local function url(i) return "https://s" .. i .. ".stress.example.com/" end
-- the sub-keys of every account, read with retries of our own (reads are safe to retry)
local function all_keys()
  local set = {}
  for a = 1, ACCOUNTS do
    for _, k in ipairs(assert(easyio.show_keys { key = account(a), attempts = 20 }).keys) do set[k] = account(a) end
  end
  return set
end
-- the sites by URL, from the sandbox's state (any naming of its accounts)
local function state_sites()
  local r = assert(sched.request { method = "GET", url = os.getenv("CDNCTL_EASYIO_URL") .. "/_sandbox/state" })
  local by_url = {}
  for _, s in pairs(json.decode(r.body).easyio.sites) do
    local l = by_url[s.site_url] or {}
    l[#l + 1] = tostring(s.site_id)
    by_url[s.site_url] = l
  end
  return by_url
end

local before = all_keys()
cdnctl.retry { settle = 0.2, base = 0.01, cap = 0.05 }
local items = {}
for i = 1, 2 * N do items[i] = i end
local res, errs = cdnctl.parallel(items, function(i)
  if i % 2 == 1 then return easyio.create_key { key = account(i) } end
  return easyio.create_site(url(i), { key = account(i) })
end, { concurrency = 16, progress = false })

local after, sites = all_keys(), state_sites()
local f = { calls = 2 * N, ok = 0, key_ok = 0, key_failed = 0, site_ok = 0, site_failed = 0, not_own = 0, shared = 0,
            new_keys = 0, new_sites = 0, url_twice = 0, unknown = 0, not_sent = 0 }
local returned = {}
for i = 1, 2 * N do
  local r, kind = res[i], i % 2 == 1 and "key" or "site"
  if r then
    f.ok, f[kind .. "_ok"] = f.ok + 1, f[kind .. "_ok"] + 1
    local id = kind == "key" and r.sub_key or tostring(r.id)
    if returned[id] then f.shared = f.shared + 1 end
    returned[id] = true
    local own
    if kind == "key" then own = after[id] == account(i) and not before[id]
    else own = sites[url(i)] and #sites[url(i)] == 1 and sites[url(i)][1] == id end
    if not own then f.not_own = f.not_own + 1 end
  else
    f[kind .. "_failed"] = f[kind .. "_failed"] + 1
    if tostring(errs[i]):find("the outcome is unknown", 1, true) then f.unknown = f.unknown + 1
    elseif tostring(errs[i]):find(": not sent: ", 1, true) then f.not_sent = f.not_sent + 1 end
  end
end
for k in pairs(after) do if not before[k] then f.new_keys = f.new_keys + 1 end end
for i = 2, 2 * N, 2 do
  local l = sites[url(i)]
  if l then f.new_sites = f.new_sites + 1; if #l > 1 then f.url_twice = f.url_twice + 1 end end
end
for _, name in ipairs { "calls", "ok", "key_ok", "key_failed", "site_ok", "site_failed", "unknown", "not_sent", "not_own", "shared",
                        "new_keys", "new_sites", "url_twice" } do
  print(name .. "=" .. f[name])
end
local first = next(errs)
for i, e in pairs(errs) do if not tostring(e):find("the outcome is unknown", 1, true) then first = i; break end end
if first then print("first_error=" .. tostring(errs[first])) end
LUA
"$BIN" "$T/stress.lua" >"$T/out" 2>"$T/err"; st=$?
fact() { sed -n "s/^$1=//p" "$T/out"; }
if [ $st != 0 ] || [ -z "$(fact calls)" ]; then
  bad "the stress run ends ($st)" "$(cat "$T/out"; head -3 "$T/err")"
  finish
fi
calls=$(fact calls) okc=$(fact ok)
[ $((okc * 100)) -ge $((calls * 80)) ] && ok "$okc of $calls calls succeed (at least 80%) under $FAULTS" \
  || bad "too few successes: $okc of $calls" "$(cat "$T/out")"
[ "$(fact not_own)" = 0 ] && [ "$(fact shared)" = 0 ] \
  && ok "every success returns an object that exists, that it made, and that no other call returns" \
  || bad "a success returns what it did not make" "$(cat "$T/out")"
[ $(($(fact new_keys) - $(fact key_ok))) -le "$(fact key_failed)" ] && [ "$(fact new_keys)" -ge "$(fact key_ok)" ] \
  && ok "sub-keys: $(fact new_keys) made for $(fact key_ok) successes and $(fact key_failed) failures (at most one each)" \
  || bad "sub-keys beyond one per call" "$(cat "$T/out")"
[ $(($(fact new_sites) - $(fact site_ok))) -le "$(fact site_failed)" ] && [ "$(fact url_twice)" = 0 ] \
  && ok "sites: $(fact new_sites) made for $(fact site_ok) successes and $(fact site_failed) failures, none twice" \
  || bad "sites beyond one per call" "$(cat "$T/out")"
[ $(($(fact unknown) + $(fact not_sent))) = $(($(fact key_failed) + $(fact site_failed))) ] \
  && ok "every failure says what is known: an unknown outcome ($(fact unknown)), or not sent as its read before failed ($(fact not_sent))" \
  || bad "other failures" "$(cat "$T/out")"
for f in reset lost 500; do
  grep -q "\"fault\":\"$f\"" "$T/log" && ok "the sandbox injected $f faults" || bad "no $f fault in the log"
done
finish
