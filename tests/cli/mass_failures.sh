#!/usr/bin/env bash
# Mass failures: onboard groups its failures by reason (the first rows named,
# the rest in the results file) and prints the summary last; after 5
# refusals in a row with the same message for one operation and one key it
# stops sending that operation for that key and says so once, unless
# --keep-going, which sends them all.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_PROFILE SHORTPIXEL_API_KEY
start_sandbox sb --pending 0 --account easyio:ez-small-account-01:2
use "$SURL"
export EASYIO_API_KEY=ez-small-account-01
{ echo "domain,service,site_url"; for i in $(seq -w 1 30); do echo "client$i-demo.com,easyio,https://client$i-demo.com/"; done; } >"$T/clients.csv"

# creates FILE: how many create_site requests the HAR holds
creates() { python3 -c 'import json,sys; print(sum("/exactdn/create.php" in e["request"]["url"] for e in json.load(open(sys.argv[1]))["log"]["entries"]))' "$1"; }

(cd "$T" && "$BIN" --har "$T/a.har" "$SRC/scripts/onboard.lua" clients.csv --concurrency 1) >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && [ "$(creates "$T/a.har")" = 7 ] \
  && ok "after 5 refusals in a row of create_site for one key, the run stops sending it (2 made, 5 refused, 7 sent)" \
  || bad "the brake ($st, $(creates "$T/a.har") sent)" "$(cat "$T/out" "$T/err" | head -20)"
[ "$(grep -c "refused 5 times in a row" "$T/err")" = 1 ] && grep -q -- "--keep-going" "$T/err" \
  && ok "the stop is said once, on stderr, naming --keep-going" || bad "the stop said" "$(cat "$T/err")"
tail -1 "$T/out" | grep -q "^30 clients: 2 ok, 28 failed; results in clients.results.csv" \
  && ok "the summary comes last" || bad "summary last" "$(cat "$T/out")"
grep -qE "^  23 x not sent: easyio.create_site was refused 5 times in a row .*: client08-demo.com, client09-demo.com, .*\.\.\. \(all in clients.results.csv\)$" "$T/out" \
  && grep -qE "^  5 x .*site limit reached.*: client03-demo.com, client04-demo.com, client05-demo.com, client06-demo.com, client07-demo.com$" "$T/out" \
  && [ "$(grep -c "failed client" "$T/out")" = 0 ] && [ "$(wc -l <"$T/out")" -le 4 ] \
  && ok "failures grouped by reason, the most frequent first, a few rows named" || bad "grouped" "$(cat "$T/out")"
[ "$(grep -c ',failed,' "$T/clients.results.csv")" = 28 ] && ok "every failed row is in the results file" \
  || bad "results" "$(head -5 "$T/clients.results.csv")"

rm -f "$T"/clients.results.*
(cd "$T" && "$BIN" --har "$T/b.har" "$SRC/scripts/onboard.lua" clients.csv --keep-going --concurrency 4 --fresh) >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && [ "$(creates "$T/b.har")" = 28 ] && ! grep -q "in a row" "$T/err" \
  && ok "--keep-going sends them all" || bad "--keep-going ($st, $(creates "$T/b.har") sent)" "$(cat "$T/out" "$T/err" | head)"
"$BIN" "$SRC/scripts/onboard.lua" --help >"$T/out" 2>&1
grep -q -- "--keep-going" "$T/out" && ok "onboard --help names --keep-going" || bad "help" "$(cat "$T/out")"
finish
