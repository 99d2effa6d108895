#!/usr/bin/env bash
# scripts/onboard.lua against a standalone sandbox: the happy path, bad rows,
# per-client keys, the dry run, faults, and kill -9 in the middle followed by
# a rerun: every host associated, exactly one site per client, nothing redone.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
ONBOARD=$SRC/scripts/onboard.lua

export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config

# Facts about the sandbox, read through the bindings: one line per client
# "apex associated-apex associated-www sites-with-that-url".
cat >"$T/verify.lua" <<'LUA'
local csv = require "cdnctl.kit.csv"
local rows = csv.parse_table(io.open(arg[1]):read("a"))
local sites = assert(easyio.show_sites())
local count = {}
for _, s in ipairs(sites.sites) do count[s.site_url] = (count[s.site_url] or 0) + 1 end
for _, r in ipairs(rows) do
  local d = cdnctl.check.domain(r.domain, "domain")
  if d then
    local hosts = shortpixel.hosts(d)
    local key = r.shortpixel_key ~= "" and r.shortpixel_key or nil
    local a = shortpixel.read_domain_cdn_usage(hosts[1], { key = key }) and "yes" or "no"
    local w = shortpixel.read_domain_cdn_usage(hosts[2], { key = key }) and "yes" or "no"
    local url = r.site_url ~= "" and r.site_url or ("https://www." .. hosts[1] .. "/")
    url = cdnctl.check.site_url(url)
    print(hosts[1], a, w, count[url] or 0)
  end
end
LUA

# --- the happy path, bad rows and per-client keys
start_sandbox main --pending 0
use "$SURL"
printf '\xef\xbb\xbfdomain,service,site_url,shortpixel_key\r\n' >"$T/clients.csv"
cat >>"$T/clients.csv" <<'CSV'
alpha.example.com,both,,
"Beta.Example.com",both,https://www.beta.example.com/shop,

gamma.example.com,shortpixel,,spDemoOther000000002
delta.example.com,easyio,https://delta.example.com/,
bad domain.com,both,,
epsilon.example.com,teleport,,
CSV
"$BIN" "$ONBOARD" "$T/clients.csv" --out "$T/results.csv" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "some rows failed: exit status 3" || bad "exit status $st, want 3" "$(cat "$T/out" "$T/err")"
grep -q '^bad domain.com,failed,.*line 7: domain: contains a space' "$T/results.csv" && ok "a bad domain is reported with its line number" || bad "bad domain row" "$(cat "$T/results.csv")"
grep -q "^epsilon.example.com,failed,.*line 8: service: unknown service 'teleport'" "$T/results.csv" && ok "an unknown service is reported with its line number" || bad "bad service row" "$(cat "$T/results.csv")"
[ "$(grep -c ',ok,' "$T/results.csv")" = 4 ] && ok "the four good clients are ok in the results" || bad "ok rows" "$(cat "$T/results.csv")"
"$BIN" "$T/verify.lua" "$T/clients.csv" >"$T/facts" 2>&1
grep -qx 'alpha.example.com	yes	yes	1' "$T/facts" && ok "both: apex and www associated, one site" || bad "alpha facts" "$(cat "$T/facts")"
grep -qx 'beta.example.com	yes	yes	1' "$T/facts" && ok "a given site_url (shop/) is used" || bad "beta facts" "$(cat "$T/facts")"
grep -qx 'gamma.example.com	yes	yes	0' "$T/facts" && ok "shortpixel only, with the client's own key" || bad "gamma facts" "$(cat "$T/facts")"
grep -qx 'delta.example.com	no	no	1' "$T/facts" && ok "easyio only: a site and no ShortPixel domain" || bad "delta facts" "$(cat "$T/facts")"
grep -qF 'spDemoOther000000002' "$T/results.csv" "$T/results.journal" "$T/out" "$T/err" && bad "per-client keys never reach the results, journal or output" || ok "per-client keys never reach the results, journal or output"
ls "$T" | grep -q 'results.csv.tmp' && bad "no temporary file is left behind" || ok "no temporary file is left behind"

before=$(curl -sf "$SURL/_sandbox/state")
"$BIN" "$ONBOARD" "$T/clients.csv" --out "$T/results.csv" >"$T/out2" 2>&1
after=$(curl -sf "$SURL/_sandbox/state")
[ "$before" = "$after" ] && ok "a rerun with a complete journal changes nothing" || bad "rerun changed the state"

# --- the dry run changes nothing and says what it would do
cat >"$T/new.csv" <<'CSV'
domain
zeta.example.com
alpha.example.com
CSV
before=$(curl -sf "$SURL/_sandbox/state")
"$BIN" "$ONBOARD" "$T/new.csv" --dry-run --out "$T/dry.csv" >"$T/out" 2>&1; st=$?
after=$(curl -sf "$SURL/_sandbox/state")
[ $st = 0 ] && [ "$before" = "$after" ] && ok "--dry-run changes nothing" || bad "dry run ($st)" "$(cat "$T/out")"
grep -q "create_site https://www.zeta.example.com/: new" "$T/out" && grep -q "create_site https://www.alpha.example.com/: exists as site" "$T/out" \
  && ok "--dry-run prints the plan, telling new from existing" || bad "dry run plan" "$(cat "$T/out")"
[ ! -e "$T/dry.csv" ] && ok "--dry-run writes no results file" || bad "dry run wrote results"
grep -q "add_domain www.zeta.example.com: not associated with any account: add_domain adds it and associates" "$T/out" \
  && grep -q "add_domain alpha.example.com: associated with an account (agency@example.com, ok)" "$T/out" \
  && ok "--dry-run tells new hosts from associated ones by read_domain's HasAccount" || bad "dry run ShortPixel plan" "$(cat "$T/out")"

# --- the dry run says when it cannot make a plan
EASYIO_API_KEY=ez-not-a-real-account-9 "$BIN" "$ONBOARD" "$T/new.csv" --dry-run >"$T/out" 2>&1; st=$?
[ $st = 1 ] && grep -q "could not make a plan" "$T/out" && grep -q "easyio key: " "$T/out" \
  && ok "--dry-run with a refused key: exit 1, saying it could not make a plan" || bad "dry run, refused key ($st)" "$(cat "$T/out")"
CDNCTL_SHORTPIXEL_URL=http://127.0.0.1:1 CDNCTL_SHORTPIXEL_API_URL=http://127.0.0.1:1 CDNCTL_EASYIO_URL=http://127.0.0.1:1 \
  timeout 120 "$BIN" "$ONBOARD" "$T/new.csv" --dry-run >"$T/out" 2>&1; st=$?
[ $st = 1 ] && grep -q "could not make a plan" "$T/out" && ! grep -q ": new: create_site" "$T/out" \
  && ok "--dry-run with the services down: exit 1, no create_site planned" || bad "dry run, service down ($st)" "$(cat "$T/out")"

# --- a site that exists already (another spelling, no journal) is "existing", not a second site
"$BIN" -e 'assert(easyio.create_site("https://WWW.Eta.example.com"))' >/dev/null 2>&1
"$BIN" -e 'assert(easyio.create_site("https://www.theta.example.com/"))' >/dev/null 2>&1
printf 'domain,service,site_url\neta.example.com,easyio,https://www.eta.example.com\n' >"$T/eta.csv"
"$BIN" "$ONBOARD" "$T/eta.csv" --out "$T/eta-results.csv" --journal "$T/eta.journal" >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q '^eta.example.com,ok,,,existing,' "$T/eta-results.csv" \
  && [ "$("$BIN" -e 'print(#easyio.show_sites("https://www.eta.example.com/").sites)')" = 1 ] \
  && ok "an existing site in another spelling is 'existing', with no journal and no second site" || bad "existing site ($st)" "$(cat "$T/out" "$T/eta-results.csv")"
rm -f "$T/eta.journal"
"$BIN" -e 'local _, e = easyio.create_site("https://www.eta.example.com/"); print(e.code, e.site and e.site.site_id)' >"$T/out" 2>&1
grep -q '^duplicate	[0-9]' "$T/out" && ok "create_site of an existing site: code duplicate with the site" || bad "duplicate" "$(cat "$T/out")"
printf 'domain,service,site_url,easyio_key\ntheta.example.com,easyio,https://www.theta.example.com/,ez-demo-subkey-0001\n' >"$T/theta.csv"
"$BIN" "$ONBOARD" "$T/theta.csv" --out "$T/theta-results.csv" --journal "$T/theta.journal" >"$T/out" 2>&1; st=$?
[ $st = 3 ] && grep -q 'already registered, but not on this account.*: theta.example.com$' "$T/out" \
  && ok "a site registered on another account fails, saying so" || bad "site of another account ($st)" "$(cat "$T/out")"

# --- usage errors
"$BIN" "$ONBOARD" >"$T/out" 2>&1; [ $? = 2 ] && ok "no CSV: usage error 2" || bad "no csv"
"$BIN" "$ONBOARD" "$T/clients.csv" --bogus >"$T/out" 2>&1; [ $? = 2 ] && grep -q "unknown option '--bogus'" "$T/out" && ok "an unknown option: usage error naming it" || bad "unknown option" "$(cat "$T/out")"
printf 'name\nx.com\n' >"$T/nodomain.csv"
"$BIN" "$ONBOARD" "$T/nodomain.csv" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "no 'domain' column" "$T/out" && ok "a CSV without a domain column: usage error" || bad "no domain column" "$(cat "$T/out")"
printf 'domain\n"unterminated\n' >"$T/broken.csv"
"$BIN" "$ONBOARD" "$T/broken.csv" --out "$T/broken-results.csv" >"$T/out" 2>&1; [ $? = 3 ] && grep -q "line 2: unterminated quoted field" "$T/out" && ok "an unterminated quote fails its row, with its line" || bad "broken csv" "$(cat "$T/out")"

# --- kill -9 in the middle, then a rerun; with faults on the wire
start_sandbox slow --pending 0 --latency 40 --faults 500:0.05,429:0.03,reset:0.02,lost:0.03 --seed 11 --state "$T/slow-state.json"
use "$SURL"
{ echo "domain"; for i in $(seq 1 40); do echo "client$i.example.org"; done; } >"$T/many.csv"
"$BIN" "$ONBOARD" "$T/many.csv" --concurrency 6 --out "$T/many.csv.out" --journal "$T/many.journal" >"$T/out" 2>&1 &
RUN=$!
cleanup_pid $RUN
for _ in $(seq 400); do [ "$({ wc -l <"$T/many.journal"; } 2>/dev/null || echo 0)" -ge 30 ] && break; sleep 0.02; done
kill -9 $RUN; wait $RUN 2>/dev/null
lines=$(wc -l <"$T/many.journal")
[ "$lines" -ge 30 ] && [ "$lines" -lt 120 ] && ok "killed with -9 in the middle ($lines of 120 steps journaled)" || bad "kill timing: $lines journal lines"
# A client whose call met a fault on each of its 3 attempts is reported
# failed (exit 3); running again is how a user finishes it. At 13% faults a
# second rerun is rarely needed, a fourth never.
for run in 1 2 3; do
  "$BIN" "$ONBOARD" "$T/many.csv" --concurrency 6 --out "$T/many.csv.out" --journal "$T/many.journal" >"$T/out" 2>&1; st=$?
  [ $st = 3 ] || break
done
[ $st = 0 ] && ok "rerunning finishes every client ($run run(s) after the kill)" || bad "rerun status $st" "$(cat "$T/out")"
"$BIN" "$T/verify.lua" "$T/many.csv" >"$T/facts" 2>&1
[ "$(grep -c 'yes	yes	1$' "$T/facts")" = 40 ] && ok "after kill -9 and faults: every host associated, exactly one site per client" \
  || bad "facts after kill" "$(grep -v 'yes	yes	1$' "$T/facts" | head -5)"
[ "$(grep -c '"ok":true' "$T/many.journal")" = 120 ] && ok "the journal holds each of the 120 steps exactly once" || bad "journal steps: $(grep -c '"ok":true' "$T/many.journal")"
finish
