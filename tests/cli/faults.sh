#!/usr/bin/env bash
# Bulk work against a faulty sandbox: 500s, 429s, resets and lost answers
# (carried out, then the connection dropped). Creating sites under
# cdnctl.parallel must end with exactly one each, and every domain
# associated; a create_key is never sent twice, so one whose answer proves
# nothing and whose key cannot be seen fails as unknown_outcome, and every
# sub-key made is one a call returned; and all twenty bindings run clean
# (examples/tour.lua).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

"$BIN" --sandbox "$SRC/examples/tour.lua" >"$T/tour" 2>&1; st=$?
missing=$("$BIN" call --names | while read -r name; do grep -q "^$name .* ok$\|^$name .*pending" "$T/tour" || echo "$name"; done)
[ $st = 0 ] && [ "$("$BIN" call --names | wc -l)" = 20 ] && [ -z "$missing" ] && [ "$(grep -c ' ok$' "$T/tour")" = 21 ] \
  && grep -q "remove_site .*pending" "$T/tour" \
  && ok "all twenty bindings run against the sandbox (examples/tour.lua)" || bad "tour ($st; missing: $missing)" "$(cat "$T/tour")"

start_sandbox sb --pending 0 --faults 500:0.08,429:0.04,reset:0.05,lost:0.12 --seed 5 --log "$T/log"
use "$SURL"
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
cat >"$T/bulk.lua" <<'LUA'
cdnctl.retry { base = 0.01, cap = 0.05, attempts = 12, settle = 0.05 } -- 0.29^12: no call runs out of attempts
local n = 40
local items = {}
for i = 1, n do items[i] = i end
local _, errs, sum = cdnctl.parallel(items, function(i)
  local d = "client" .. i .. ".example.net"
  for _, h in ipairs(shortpixel.hosts(d)) do assert(shortpixel.add_domain(h)) end
  return assert(easyio.create_site("https://www." .. d .. "/"))
end, { concurrency = 8 })
print("sites", sum.done, sum.failed, next(errs) and errs[next(errs)] or "")
local keys0 = #(assert(easyio.show_keys()).keys)
local _, kerrs, ksum = cdnctl.parallel({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, function()
  return assert(easyio.create_key())
end, { concurrency = 1 })
local unknown = 0
for _, e in pairs(kerrs) do if tostring(e):find("the outcome is unknown", 1, true) then unknown = unknown + 1 end end
print("keys", ksum.done, ksum.failed - unknown)
-- count what the sandbox holds, with retries of our own reads
local sites = assert(easyio.show_sites()).sites
local per = {}
for _, s in ipairs(sites) do per[s.site_url] = (per[s.site_url] or 0) + 1 end
local dup, missing = 0, 0
for i = 1, n do
  local c = per["https://www.client" .. i .. ".example.net/"] or 0
  if c > 1 then dup = dup + 1 elseif c == 0 then missing = missing + 1 end
end
local assoc = 0
for i = 1, n do
  for _, h in ipairs(shortpixel.hosts("client" .. i .. ".example.net")) do
    if shortpixel.read_domain_cdn_usage(h) then assoc = assoc + 1 end
  end
end
print("facts", #sites, dup, missing, assoc, #(assert(easyio.show_keys()).keys) - keys0 - (ksum.done - ksum.failed))
LUA
CDNCTL_DEBUG=1 "$BIN" "$T/bulk.lua" >"$T/out" 2>"$T/trace"; st=$?
grep -qx 'sites	40	0	' "$T/out" && ok "40 clients onboarded through faults" || bad "sites ($st)" "$(cat "$T/out"; tail -5 "$T/trace")"
grep -qx 'keys	10	0' "$T/out" && ok "10 create_key through faults: each made its key or failed as unknown_outcome" || bad "keys" "$(cat "$T/out")"
grep -qx 'facts	40	0	0	80	0' "$T/out" && ok "exactly one site per client, 80 hosts associated, as many new sub-keys as calls that returned one" || bad "facts" "$(cat "$T/out")"
lost=$(grep -c '"fault":"lost"' "$T/log")
[ "$lost" -ge 5 ] && ok "the sandbox lost $lost answers on the way" || bad "too few lost answers: $lost"
grep -q 'checked: it took effect\|reconciled after a lost answer' "$T/trace" && ok "reconciliation shows in the trace" || bad "no reconciliation traced" "$(grep -i reconc "$T/trace" | head -3)"
grep -q 'retry' "$T/trace" && ok "retries show in the trace" || bad "no retries traced"
grep -q 'spDemoAgency00000001\|ez-demo-account-0001' "$T/trace" "$T/out" "$T/log" && bad "a key leaked into the trace or the log" || ok "no key in the trace, output or log"
finish
