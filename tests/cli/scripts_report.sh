#!/usr/bin/env bash
# scripts/report.lua against a standalone sandbox with traffic on several
# days, every ShortPixel status, a domain of another user, a bad row and two
# Easy IO sites: the terminal table, exact figures in --json and --csv
# (checked against the sandbox's state), the --html page rendered in
# headless Chromium (not blank, charts with data), the same figures under
# faults, exit statuses, usage errors, and no key in any output.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
REPORT=$SRC/scripts/report.lua

export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
SANDBOX_OPTS=(--pending 0 --account shortpixel:sp-client-c-0003:c@example.com --account shortpixel:sp-client-d-0004:d@example.com)
unset NO_COLOR CDNCTL_DEBUG
KEYS_RE='spDemoAgency00000001|spDemoOther000000002|sp-client-c-0003|sp-client-d-0004|ez-demo-account-0001|ez-demo-subkey-0001'
post() { curl -sf -X POST -d "$2" "$SURL/_sandbox/$1" >/dev/null || echo "admin $1 $2 failed"; }

# --- the data
start_sandbox main "${SANDBOX_OPTS[@]}" --state "$T/state.json"
use "$SURL"
"$BIN" -e '
local function add(d, key) for _, h in ipairs(shortpixel.hosts(d)) do assert(shortpixel.add_domain(h, { key = key })) end end
add("alpha.example.com"); add("beta.example.com")
add("gamma.example.com", "sp-client-c-0003"); add("delta.example.com", "sp-client-d-0004")
add("epsilon.example.com", "spDemoOther000000002")
for _, u in ipairs({ "https://www.alpha.example.com/", "https://shop.beta.example.com/" }) do
  print(assert(easyio.create_site(u)).alias)
end' >"$T/aliases" 2>"$T/setup.err" || { echo "setup failed: $(cat "$T/aliases" "$T/setup.err")"; exit 1; }
A1=$(sed -n 1p "$T/aliases"); A2=$(sed -n 2p "$T/aliases")
# CDN fetches on six days (the sandbox's clock moved back, then forward)
for back in 9 6 4 2 1 0; do
  post clock "{\"advance\": $((-back * 86400))}"
  for i in $(seq 1 $((10 - back))); do
    curl -sf "$SURL/_sandbox/cdn/alpha.example.com/img/$back-$i.jpg" >/dev/null
    curl -sf "$SURL/_sandbox/cdn/www.alpha.example.com/img/$back-$i.png" >/dev/null
    [ $((i % 2)) = 0 ] && curl -sf "$SURL/_sandbox/cdn/www.beta.example.com/p/$back-$i.jpg" >/dev/null
    [ $((i % 3)) = 0 ] && curl -sf "$SURL/_sandbox/cdn/gamma.example.com/x/$back-$i.webp" >/dev/null
    curl -sf "$SURL/_sandbox/cdn/$A1/wp-content/$back-$i.jpg" >/dev/null
    [ $((i % 2)) = 0 ] && curl -sf "$SURL/_sandbox/cdn/$A2/media/$back-$i.jpg" >/dev/null
  done
  post clock "{\"advance\": $((back * 86400))}"
done
post domain '{"domain": "beta.example.com", "reachable": false}'
post domain '{"domain": "gamma.example.com", "credits_quota": 1000, "credits_used": 950}'
post domain '{"domain": "delta.example.com", "credits_quota": 100, "credits_used": 100, "exhausted_days": 40}'
cat >"$T/domains.csv" <<'CSV'
domain,service,shortpixel_key
alpha.example.com,both,
Beta.Example.com,,
gamma.example.com,shortpixel,sp-client-c-0003
delta.example.com,both,sp-client-d-0004
epsilon.example.com,both,
bad dom.com,both,
zeta.example.com,easyio,
CSV

# --- the report
"$BIN" "$REPORT" "$T/domains.csv" --all-sites --csv "$T/r.csv" --json "$T/r.json" --html "$T/r.html" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "some domains cannot be read: exit status 3" || bad "exit status $st, want 3" "$(cat "$T/out" "$T/err")"
grep -qE '^alpha.example.com +alpha.example.com +ok +[0-9.]+ [kM]B +[0-9]+ +0 *$' "$T/out" && ok "terminal: a row per host with its status and traffic in human units" || bad "alpha row" "$(cat "$T/out")"
for w in "domain not reachable" "credits almost exhausted" "credits exhausted some time ago"; do
  grep -q "$w" "$T/out" && ok "terminal: the status '$w' in words" || bad "status '$w'" "$(cat "$T/out")"
done
grep -qE 'epsilon.example.com +ok +usage: .*not associated with this API key' "$T/out" \
  && ok "a domain of another user appears with the reason, not as a crash" || bad "epsilon" "$(cat "$T/out")"
grep -q "line 7: domain: contains a space" "$T/out" && grep -q "line 7: domain: contains a space" "$T/err" \
  && ok "a bad row appears with its line number" || bad "bad row" "$(cat "$T/out" "$T/err")"
! grep -q zeta "$T/out" && ok "rows for Easy IO only have no ShortPixel part" || bad "zeta" "$(cat "$T/out")"
grep -qE "^ *[0-9]+ +https://www.alpha.example.com/ +$A1 +[0-9.]+ [kM]B +[0-9.]+ [kM]B +[0-9.]+ [kM]B +[0-9.]+ %" "$T/out" \
  && ok "terminal: each Easy IO site with bandwidth, original, saved and saved %" || bad "site row" "$(cat "$T/out")"
! grep -q $'\e' "$T/out" && ok "no colour when stdout is not a terminal" || bad "escape codes in a pipe"
ls "$T" | grep -q '\.tmp' && bad "a temporary file is left behind" || ok "files written atomically, nothing left behind"

# exact figures: the JSON and the CSV against the sandbox's own state
curl -sf "$SURL/_sandbox/state" >"$T/state.now"
python3 - "$T/r.json" "$T/r.csv" "$T/state.now" >"$T/check" 2>&1 <<'PY'
import csv, json, sys, time
rep, st = json.load(open(sys.argv[1])), json.load(open(sys.argv[3]))
month = time.strftime("%Y-%m", time.gmtime())
doms, problems, checked = st["shortpixel"]["domains"], [], 0
for d in rep["domains"]:
    for h in d.get("hosts", []):
        if "days" not in h: continue
        s = doms[h["host"]]
        traf, cred = s.get("traffic") or {}, s.get("credits") or {}
        for day in h["days"]:
            checked += 1
            if day["traffic_bytes"] != traf.get(day["date"], 0): problems.append(("traffic", h["host"], day))
            if day["credits_paid"] != cred.get(day["date"], {}).get("Paid", 0): problems.append(("paid", h["host"], day))
        want = sum(v for k, v in traf.items() if k.startswith(month))
        if h["traffic_month_bytes"] != want or type(h["traffic_month_bytes"]) is not int: problems.append(("month", h["host"], want))
sites = {s["alias"]: s for s in st["easyio"]["sites"].values()}
for s in rep["easyio"]["sites"]:
    z = sites[s["alias"]]
    if (s["bandwidth_bytes"], s["original_bytes"], s["savings_bytes"]) != (z["bandwidth"], z["original"], z["savings"]):
        problems.append(("site", s["alias"]))
rows = list(csv.DictReader(open(sys.argv[2])))
days = [r for r in rows if r["record"] == "day"]
if len(days) != checked: problems.append(("csv day rows", len(days), checked))
for r in days:
    if int(r["traffic_bytes"]) != doms[r["host"]]["traffic"].get(r["date"], 0): problems.append(("csv", r))
if sum(1 for r in rows if r["record"] == "site" and r["original_bytes"]) != 2: problems.append("csv sites")
print("checked", checked, "days;", "problems:", problems)
PY
grep -q "problems: \[\]" "$T/check" && grep -qE "checked ([2-9][0-9]) days" "$T/check" \
  && ok "JSON and CSV figures equal the sandbox's, exactly ($(grep -oE 'checked [0-9]+' "$T/check") days)" || bad "figures" "$(cat "$T/check")"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
st = {h["host"]: h.get("status") for d in r["domains"] for h in d.get("hosts", [])}
want = {"alpha.example.com": 2, "beta.example.com": -3, "www.beta.example.com": 2, "gamma.example.com": 1, "delta.example.com": -2}
sys.exit(0 if all(st.get(k) == v for k, v in want.items()) and r["failed"]["rows"] == 1 else 1)' "$T/r.json" \
  && ok "JSON: the statuses (2, -3, 1, -2) and the failed row count" || bad "JSON statuses" "$(head -c 600 "$T/r.json")"
L=$(grep -lE "$KEYS_RE" "$T/r.csv" "$T/r.json" "$T/r.html" "$T/out" "$T/err")
[ -z "$L" ] && ok "no API key (not even a per-client one) in any file or output" || bad "keys leaked into: $L"

# --- the page: self-contained, charts with data, and it renders
grep -qiE '<script|<link|@import|src="http|url\(http' "$T/r.html" && bad "the page loads something or has a script" \
  || ok "the page has no script and loads nothing from the network"
[ "$(grep -c '<svg class="chart"' "$T/r.html")" -ge 7 ] && ok "the page has a traffic chart per domain, credits and savings charts" \
  || bad "charts: $(grep -c '<svg class="chart"' "$T/r.html")"
if command -v chromium >/dev/null 2>&1; then
  chrome() { timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$(mktemp -d -p "$T")" "$@" 2>/dev/null; }
  printf '<!DOCTYPE html><html><body></body></html>\n' >"$T/blank.html"
  chrome --screenshot="$T/page.png" --window-size=1200,2000 "file://$T/r.html" >/dev/null
  chrome --screenshot="$T/blank.png" --window-size=1200,2000 "file://$T/blank.html" >/dev/null
  chrome --dump-dom "file://$T/r.html" >"$T/dom.html"
  ps=$(stat -c %s "$T/page.png" 2>/dev/null || echo 0); bs=$(stat -c %s "$T/blank.png" 2>/dev/null || echo 0)
  [ "$bs" -gt 0 ] && [ "$ps" -gt $((bs * 10)) ] && ok "Chromium renders the page: not blank ($ps bytes of PNG, a blank page $bs)" \
    || bad "screenshot sizes: page $ps, blank $bs"
  colours=$(python3 -c '
import sys, zlib
b = open(sys.argv[1], "rb").read()
i, idat = 8, b""
while i < len(b):
    n = int.from_bytes(b[i:i+4], "big"); t = b[i+4:i+8]
    if t == b"IDAT": idat += b[i+8:i+8+n]
    i += 12 + n
print(len(set(zlib.decompress(idat))))' "$T/page.png" 2>&1)
  [ "${colours:-0}" -gt 64 ] 2>/dev/null && ok "the screenshot is not a single colour ($colours distinct byte values)" || bad "screenshot colours: $colours"
  bars=$(grep -o '<rect class="bar[^>]*data-value="[1-9][0-9]*"' "$T/dom.html" | wc -l)
  svgs=$(grep -o '<svg class="chart"' "$T/dom.html" | wc -l)
  [ "$svgs" -ge 7 ] && [ "$bars" -ge 20 ] && ok "the DOM has $svgs SVG charts with $bars data bars" || bad "DOM charts: $svgs svgs, $bars bars"
  grep -q 'data-chart="credits"' "$T/dom.html" && grep -q 'data-chart="savings"' "$T/dom.html" && grep -q 'data-chart="traffic:alpha.example.com"' "$T/dom.html" \
    && ok "the DOM has the daily traffic, credits per day and savings per site charts" || bad "named charts missing"
  grep -q '>credits almost exhausted</span>' "$T/dom.html" && grep -q '>domain not reachable</span>' "$T/dom.html" \
    && ok "the DOM has the statuses in words" || bad "statuses in the DOM"
elif [ "${CDNCTL_CI_EXTRA:-}" = 1 ]; then
  bad "chromium is missing: CI's extra stage needs it to render the page"
else
  ok "chromium is not installed: rendering the page skipped (CI's extra stage requires it)"
fi

# --- faults: the same figures, thanks to retries (one request at a time, so
# the seeded faults fall on the same requests each run)
"$BIN" "$REPORT" "$T/domains.csv" --json "$T/clean.json" >/dev/null 2>&1
cp "$T/state.json" "$T/state-copy.json"; cp "$T/state.json.journal" "$T/state-copy.json.journal" # the running sandbox's state: snapshot and journal
start_sandbox faulty "${SANDBOX_OPTS[@]}" --state "$T/state-copy.json" --faults 500:0.1,429:0.05,reset:0.02,lost:0.02 --seed 4
use "$SURL"
CDNCTL_DEBUG=1 "$BIN" "$REPORT" "$T/domains.csv" --concurrency 1 --json "$T/faulty.json" >"$T/fout" 2>"$T/ferr"; st=$?
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("generated"); print(json.dumps(d, sort_keys=True))' "$1"; }
[ $st = 3 ] && [ "$(strip "$T/clean.json")" = "$(strip "$T/faulty.json")" ] \
  && ok "faults (500, 429, reset, lost; seed 4): the same report, figure for figure" || bad "faulty report ($st)" "$(diff <(strip "$T/clean.json") <(strip "$T/faulty.json") | head -5)"
n=$(grep -c 'retrying in' "$T/ferr")
[ "$n" -ge 3 ] && ok "the faults were met and retried ($n retries)" || bad "retries: $n"
L=$(grep -lE "$KEYS_RE" "$T/fout" "$T/ferr" "$T/faulty.json")
[ -z "$L" ] && ok "faults: no key in the traces" || bad "keys leaked into: $L"

# --- all well: exit 0; usage errors: exit 2
use "$(head -1 "$T/main.url")"; SURL=$(head -1 "$T/main.url")
printf 'domain\nalpha.example.com\n' >"$T/one.csv"
"$BIN" "$REPORT" "$T/one.csv" --json "$T/one.json" >"$T/out" 2>&1; st=$?
[ $st = 0 ] && ok "every domain read: exit status 0" || bad "exit status $st, want 0" "$(cat "$T/out")"
"$BIN" "$REPORT" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "a DOMAINS.csv file is needed" "$T/out" && ok "no CSV: usage error 2" || bad "no csv" "$(cat "$T/out")"
"$BIN" "$REPORT" "$T/missing.csv" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "cannot read" "$T/out" && ok "a missing CSV: usage error 2" || bad "missing" "$(cat "$T/out")"
printf 'name\nx.com\n' >"$T/nodomain.csv"
"$BIN" "$REPORT" "$T/nodomain.csv" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "no 'domain' column" "$T/out" && ok "no domain column: usage error 2" || bad "no domain column" "$(cat "$T/out")"
"$BIN" "$REPORT" "$T/one.csv" --pdf x >"$T/out" 2>&1; [ $? = 2 ] && grep -q "unknown option '--pdf'" "$T/out" && ok "an unknown option: usage error 2" || bad "unknown option" "$(cat "$T/out")"
"$BIN" "$REPORT" "$T/one.csv" --json "$T/no/such/dir/r.json" >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "cannot write $T/no/such/dir/r.json" "$T/out" && ok "an unwritable output file: a clear error, exit 2 before any work (tests/cli/files.sh)" || bad "unwritable ($st)" "$(cat "$T/out")"
finish
