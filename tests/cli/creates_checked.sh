#!/usr/bin/env bash
# Creates that cannot be checked, or whose outcome stays unknown, say so at
# every front end: keys.lua create does not send a create whose read before
# fails (exit 1); `cdnctl call` exits 1 on unknown_outcome; a Ctrl-C during
# a slow create says "may have been created" with the hint, since the server
# may still carry it out (it does, after cdnctl has given up); onboard counts
# such a row failed (exit 3) and its journal records the step as unknown, so
# that the next run says so and checks first. The slow server is
# tests/lib/late_server.lua as a process: it carries a create out LATE
# seconds after it arrives and holds the answer HOLD seconds. Hangs are
# bounded by watchdogs, never by asserting a duration.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
KEYS=$SRC/scripts/keys.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_DEBUG

# start_late NAME LATE HOLD: a slow Easy IO; sets LURL
start_late() {
  "$BIN" -e "$LUAP" "$SRC/tests/lib/late_server.lua" "$2" "$3" >"$T/$1.url" 2>"$T/$1.err" &
  cleanup_pid $!
  wait_file "$T/$1.url" || { echo "the late server did not start: $(cat "$T/$1.err")"; exit 1; }
  LURL=$(head -1 "$T/$1.url")
}
late_count() { curl -sf "$LURL/_late/count"; }
# wait_for CMD PATTERN: until CMD's output matches PATTERN (20 s at most)
wait_for() { local i; for i in $(seq 400); do "$1" | grep -q "$2" && return 0; sleep 0.05; done; return 1; }
# bg CMD...: in the background, signalled directly, with a watchdog of 60 s; sets pid
bg() { "$@" & pid=$!; ( sleep 60; kill -KILL $pid 2>/dev/null ) & cleanup_pid $!; }

# --- keys.lua create whose read before fails: nothing sent, exit 1, saying why
start_sandbox down --pending 0 --faults 500:1 --seed 3 --log "$T/down.log"
use "$SURL"
"$BIN" -e 'cdnctl.retry { base = 0.01, cap = 0.02 }' "$KEYS" create --label "unchecked" >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && [ ! -s "$T/out" ] && grep -q "not sent: easyio.show_keys, the read that tells afterwards whether it took effect, failed" "$T/err" \
  && ok "keys.lua create, its read before failing: not sent, it says why; exit 1" || bad "keys.lua create, read fails ($st)" "$(cat "$T/out" "$T/err")"
[ "$(curl -sf "$SURL/_sandbox/state" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["easyio"]["sub_keys"]))')" = 1 ] \
  && [ "$(grep -c '"fault":"500"' "$T/down.log")" = 3 ] \
  && ok "keys.lua create, its read before failing: three reads refused, no sub-key made" || bad "a create was sent" "$(cat "$T/down.log")"

# --- cdnctl call easyio.create_key whose answer never comes and whose key is not seen: unknown_outcome, exit 1
start_late never 600 600
export CDNCTL_EASYIO_URL=$LURL
timeout -s KILL 60 "$BIN" call easyio.create_key timeout=0.3 settle=0.2 >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q "the outcome is unknown" "$T/err" && grep -q "scripts/keys.lua list" "$T/err" \
  && grep -q '"create_key":1' <<<"$(late_count)" \
  && ok "cdnctl call easyio.create_key, the outcome unknown: one create, it says so with how to look; exit 1" \
  || bad "call create_key unknown ($st)" "$(cat "$T/out" "$T/err"; late_count)"

# --- Ctrl-C during a slow create_site: not seen yet, so "may have been created", with the hint; exit 130
start_late slow 3 600
export CDNCTL_EASYIO_URL=$LURL
bg "$BIN" call easyio.create_site https://slow.example.com >"$T/out" 2>"$T/err"
wait_for late_count '"create_site":1' || bad "the create never reached the late server"
kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && grep -q "https://slow.example.com/* may have been created" "$T/err" && grep -q "remove_site" "$T/err" \
  && ! grep -q "before it took effect" "$T/err" \
  && ok "call easyio.create_site, Ctrl-C while the server still holds it: it may have been created, and how to see and remove it; exit 130" \
  || bad "slow create_site interrupted ($st)" "$(cat "$T/out" "$T/err")"
site_listed() { curl -sf -d "api_key=x&site_url=https://slow.example.com/" "$LURL/exactdn/show.php"; }
wait_for site_listed "slow.example.com" && ok "... and the server carries it out after all" || bad "the slow site never appeared"

# --- the same for keys.lua create: a sub-key may have been created, see it with list
bg "$BIN" "$KEYS" create --label "slow" >"$T/out" 2>"$T/err"
wait_for late_count '"create_key":1' || bad "the create never reached the late server"
kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && [ ! -s "$T/out" ] && grep -q "a sub-key may have been created" "$T/err" && grep -q "keys.lua list" "$T/err" \
  && ok "keys.lua create, Ctrl-C while the server still holds it: a sub-key may have been created, and how to see it; exit 130" \
  || bad "slow keys.lua create interrupted ($st)" "$(cat "$T/out" "$T/err")"

# --- onboard: a site whose outcome is unknown is a failed row (exit 3); the journal records it; the next run checks first
start_late onboard 600 600
export CDNCTL_EASYIO_URL=$LURL
printf 'domain,service\nunsure.example.com,easyio\n' >"$T/clients.csv"
RUN=("$BIN" -e 'cdnctl.retry { timeout = 0.3, settle = 0.2, base = 0.01, cap = 0.02 }' "$SRC/scripts/onboard.lua" "$T/clients.csv")
(cd "$T" && timeout -s KILL 60 "${RUN[@]}" >"$T/out" 2>"$T/err"); st=$?
[ $st = 3 ] && grep -q "unsure.example.com,failed" "$T/clients.results.csv" && grep -q "the outcome is unknown" "$T/clients.results.csv" \
  && ok "onboard: a site whose outcome is unknown is a failed row; exit 3" || bad "onboard unknown ($st)" "$(cat "$T/out" "$T/err" "$T/clients.results.csv")"
grep '"unknown":true' "$T/clients.results.journal" | grep -q '"step":"easyio:https://www.unsure.example.com/"' \
  && ok "onboard: the journal records the step as unknown" || bad "journal" "$(cat "$T/clients.results.journal")"
(cd "$T" && timeout -s KILL 60 "${RUN[@]}" >"$T/out" 2>"$T/err"); st=$?
grep -q "unsure.example.com (line 2): the outcome of easyio:https://www.unsure.example.com/ was unknown on an earlier run; checking first" "$T/err" \
  && ok "onboard, run again: it says the step was unknown and checks first" || bad "second run ($st)" "$(cat "$T/out" "$T/err")"
finish
