#!/usr/bin/env bash
# scripts/watch.lua against a standalone sandbox: the monitoring-plugin exit
# statuses (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, the worst wins), the
# one-line summary, --json, the Prometheus textfile and --all-profiles.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
WATCH=$SRC/scripts/watch.lua
export HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_PROFILE CDNCTL_DEBUG
AG=spDemoAgency00000001 OT=spDemoOther000000002

start_sandbox sb --pending 0
use "$SURL"
export SHORTPIXEL_API_KEY=$AG EASYIO_API_KEY=ez-demo-account-0001
admin() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$SURL/_sandbox/$1" >/dev/null; }
run() { "$BIN" "$WATCH" "$@" >"$T/out" 2>"$T/err"; echo $?; }
first() { head -1 "$T/out"; }

"$BIN" -e "for _, h in ipairs{'a.example.com','www.a.example.com','b.example.com'} do assert(shortpixel.add_domain(h)) end
assert(shortpixel.add_domain('www.b.example.com', { key = '$OT' }))" >/dev/null 2>&1 || { echo "setup failed"; exit 1; }
printf 'domain,service\na.example.com,shortpixel\n' >"$T/a.csv"
printf 'domain,service\na.example.com,shortpixel\nb.example.com,shortpixel\n' >"$T/ab.csv"

st=$(run "$T/a.csv")
[ "$st" = 0 ] && [ "$(first)" = "CDN OK - 2 hosts ok | ok=2 warn=0 crit=0 unknown=0" ] \
  && ok "all hosts ok: exit 0 and the plugin summary line" || bad "OK ($st)" "$(cat "$T/out" "$T/err")"

st=$(run "$T/ab.csv")
[ "$st" = 1 ] && [ "$(first)" = "CDN WARNING - 1 of 4 hosts not associated with the account | ok=3 warn=1 crit=0 unknown=0" ] \
  && ok "a host another account owns: WARNING (1)" || bad "WARNING ($st)" "$(cat "$T/out" "$T/err")"

admin domain '{"domain": "a.example.com", "credits_quota": 1000, "credits_used": 950}'
st=$(run "$T/a.csv")
[ "$st" = 1 ] && first | grep -q '^CDN WARNING - 2 of 2 hosts credits almost exhausted; credits almost exhausted (5.0 % left) | ok=0 warn=2 crit=0' \
  && ok "credits under --warn (10 %): WARNING, hosts and account both named" || bad "credits warning ($st)" "$(cat "$T/out")"
st=$(run "$T/a.csv" --warn 4)
[ "$st" = 1 ] && ! first | grep -q 'credits almost exhausted (' && ok "--warn 4: the account's 5 % left is no longer a warning" || bad "--warn ($st)" "$(cat "$T/out")"

admin domain '{"domain": "a.example.com", "credits_used": 1000}'
st=$(run "$T/a.csv")
[ "$st" = 2 ] && first | grep -q '^CDN CRITICAL - 2 of 2 hosts credits exhausted; credits exhausted (0.0 % left) |' \
  && ok "credits gone: CRITICAL (2)" || bad "CRITICAL ($st)" "$(cat "$T/out")"
admin domain '{"domain": "a.example.com", "credits_used": 0}'

admin domain '{"domain": "www.a.example.com", "reachable": false}'
st=$(run "$T/ab.csv")
[ "$st" = 2 ] && first | grep -q '^CDN CRITICAL - 1 of 4 hosts domain not reachable; 1 of 4 hosts not associated with the account | ok=2 warn=1 crit=1' \
  && ok "the worst state wins (CRITICAL over WARNING), both named, worst first" || bad "worst wins ($st)" "$(cat "$T/out")"
admin domain '{"domain": "www.a.example.com", "reachable": true}'

st=$(CDNCTL_SHORTPIXEL_URL=http://127.0.0.1:1 CDNCTL_SHORTPIXEL_API_URL=http://127.0.0.1:1 run "$T/a.csv")
[ "$st" = 3 ] && first | grep -q '^CDN UNKNOWN - ' && ok "the service cannot be reached: UNKNOWN (3)" || bad "UNKNOWN ($st)" "$(cat "$T/out")"
admin domain '{"domain": "www.a.example.com", "reachable": false}'
st=$(CDNCTL_SHORTPIXEL_API_URL=http://127.0.0.1:1 run "$T/a.csv")
[ "$st" = 2 ] && ok "CRITICAL wins over UNKNOWN" || bad "CRITICAL over UNKNOWN ($st)" "$(cat "$T/out")"
admin domain '{"domain": "www.a.example.com", "reachable": true}'

st=$(run); [ "$st" = 3 ] && first | grep -q '^CDN UNKNOWN - a DOMAINS.csv file is needed' && ok "usage errors are UNKNOWN (3) with a summary line" || bad "usage ($st)" "$(cat "$T/out")"
st=$(run "$T/a.csv" --warn ten); [ "$st" = 3 ] && first | grep -q "^CDN UNKNOWN - --warn must be a percentage" && ok "a bad --warn: UNKNOWN naming it" || bad "bad --warn ($st)" "$(cat "$T/out")"
st=$(run "$T/a.csv" --bogus); [ "$st" = 3 ] && grep -q "unknown option '--bogus'" "$T/err" && first | grep -q '^CDN UNKNOWN' && ok "an unknown option: UNKNOWN (3)" || bad "unknown option ($st)" "$(cat "$T/out" "$T/err")"

st=$(run "$T/ab.csv" --json)
[ "$st" = 1 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="WARNING" and len(d["hosts"])==4, d' "$T/out" \
  && grep -q '^CDN WARNING - ' "$T/err" && ok "--json: one JSON document on stdout, the summary on stderr" || bad "--json ($st)" "$(cat "$T/out" "$T/err")"

st=$(run "$T/ab.csv" --prometheus "$T/cdn.prom")
python3 - "$T/cdn.prom" >"$T/prom" 2>&1 <<'PY'
import re, sys
text = open(sys.argv[1]).read()
helps = set(re.findall(r'^# HELP (\w+) ', text, re.M)); types = dict(re.findall(r'^# TYPE (\w+) (\w+)$', text, re.M))
samples = re.findall(r'^(\w+)(\{[^}]*\})? (-?[0-9.e+]+)$', text, re.M)
for line in text.splitlines():
    assert line.startswith('#') or re.match(r'^\w+(\{[^}]*\})? -?[0-9.e+]+$', line), 'bad line: ' + line
for name in ('cdnctl_shortpixel_host_status', 'cdnctl_shortpixel_credits_remaining', 'cdnctl_easyio_bandwidth_bytes', 'cdnctl_watch_success'):
    assert name in helps and types.get(name) == 'gauge', name
st = {re.search(r'host="([^"]+)"', l).group(1): float(v) for n, l, v in samples if n == 'cdnctl_shortpixel_host_status'}
assert st == {'a.example.com': 2, 'www.a.example.com': 2, 'b.example.com': 2, 'www.b.example.com': 2}, st
cr = [float(v) for n, l, v in samples if n == 'cdnctl_shortpixel_credits_remaining']
assert cr == [1000.0], cr  # the quota set above: 1000, nothing used
assert [float(v) for n, l, v in samples if n == 'cdnctl_watch_success'] == [1.0]
print('parsed')
PY
[ "$(cat "$T/prom")" = parsed ] && [ "$(stat -c %a "$T/cdn.prom")" = 644 ] \
  && ok "--prometheus: textfile collector format (HELP, TYPE, samples), mode 0644" || bad "prometheus" "$(cat "$T/prom" "$T/cdn.prom")"

# Easy IO sites of the CSV: pending, missing
"$BIN" -e 'assert(easyio.create_site("https://www.s.example.com/"))' >/dev/null 2>&1
printf 'domain,service,site_url\ns.example.com,easyio,https://www.S.example.com\nt.example.com,easyio,\n' >"$T/s.csv"
st=$(run "$T/s.csv")
[ "$st" = 1 ] && grep -q '^WARNING https://www.t.example.com/: not on the Easy IO account' "$T/out" \
  && ok "an Easy IO site of the CSV missing on the account: WARNING" || bad "missing site ($st)" "$(cat "$T/out")"

# --all-profiles: a profile column says whose each domain is
unset SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_SHORTPIXEL_URL CDNCTL_SHORTPIXEL_API_URL CDNCTL_EASYIO_URL
mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return { profiles = {
  agency = { shortpixel_key = "$AG", easyio_key = "ez-demo-account-0001", shortpixel_url = "$SURL", shortpixel_api_url = "$SURL", easyio_url = "$SURL" },
  other = { shortpixel_key = "$OT", easyio_key = "ez-demo-account-0001", shortpixel_url = "$SURL", shortpixel_api_url = "$SURL", easyio_url = "$SURL" },
} }
LUA
chmod 600 "$T/config/cdnctl/config.lua"
printf 'domain,profile,service\na.example.com,agency,shortpixel\n' >"$T/p.csv"
"$BIN" -e "assert(shortpixel.add_domain('c.example.com', { key = '$OT' })); assert(shortpixel.add_domain('www.c.example.com', { key = '$OT' }))" --profile other >/dev/null 2>&1
"$BIN" --profile other -e "assert(shortpixel.add_domain('c.example.com')); assert(shortpixel.add_domain('www.c.example.com'))" >/dev/null 2>&1
printf 'c.example.com,other,shortpixel\n' >>"$T/p.csv"
st=$(run "$T/p.csv" --all-profiles --prometheus "$T/p.prom")
[ "$st" = 0 ] && [ "$(first)" = "CDN OK - 4 hosts ok | ok=4 warn=0 crit=0 unknown=0" ] && grep -q 'profile="other"' "$T/p.prom" \
  && ok "--all-profiles: each domain checked with its profile's key" || bad "--all-profiles ($st)" "$(cat "$T/out" "$T/err")"
printf 'domain\na.example.com\n' >"$T/np.csv"
st=$(run "$T/np.csv" --all-profiles); [ "$st" = 3 ] && first | grep -q "needs a 'profile' column" && ok "--all-profiles without a profile column: UNKNOWN" || bad "no profile column ($st)" "$(cat "$T/out")"
grep -qE "$AG|$OT|ez-demo-account-0001" "$T"/out "$T"/err "$T"/*.prom && bad "no key in the output or the metrics" || ok "no key in the output or the metrics"

finish
