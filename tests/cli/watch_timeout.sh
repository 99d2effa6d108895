#!/usr/bin/env bash
# watch.lua --timeout SECONDS bounds the whole check (default 50, under
# Nagios' 60): against an API that never answers it reports UNKNOWN with
# what it could not read, exit 3, and its Prometheus file says
# cdnctl_watch_success 0. A watchdog (timeout -s KILL) ends a hang; no
# duration is asserted.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001
unset EASYIO_API_KEY CDNCTL_PROFILE
WATCH=$SRC/scripts/watch.lua
q() { curl -sf -X POST --data-binary "$1" "$URL/_fixture/queue" >/dev/null; }
printf 'domain,service\none.example.com,shortpixel\n' >"$T/d.csv"

start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL
q '[{"status":200,"body":"{\"Status\":2}","delay":120,"repeat_all":true}]'
echo "cdnctl_watch_success 1" >"$T/w.prom"
timeout -s KILL 40 "$BIN" "$WATCH" "$T/d.csv" --timeout 2 --prometheus "$T/w.prom" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "a hanging API: the check ends at its --timeout, UNKNOWN, exit 3" || bad "exit $st, want 3" "$(cat "$T/out" "$T/err")"
head -1 "$T/out" | grep -qE '^CDN UNKNOWN - .*2 of 2 hosts status not read: no answer within --timeout \(2 s\)' \
  && ok "the status line says which reads had no answer within --timeout" || bad "status line" "$(cat "$T/out")"
grep -q '^UNKNOWN credits not read: no answer within --timeout (2 s)' "$T/out" \
  && ok "the credits, read once the time is up, are said not read, not asked for" || bad "credits line" "$(cat "$T/out")"
grep -qx 'cdnctl_watch_success 0' "$T/w.prom" && ok "the Prometheus file says cdnctl_watch_success 0" || bad "prom" "$(cat "$T/w.prom")"
! grep -q 'stack traceback' "$T/err" && ok "no traceback" || bad "traceback" "$(cat "$T/err")"

# --timeout's value is checked; --help states it and its default
badv=""
for v in 0 -1 abc 1e9 nan; do
  "$BIN" "$WATCH" "$T/d.csv" --timeout "$v" >"$T/out" 2>"$T/err"; st=$?
  [ $st = 3 ] && grep -q "^CDN UNKNOWN - --timeout must be a number of seconds" "$T/out" || badv="$badv $v ($st: $(head -1 "$T/out"))"
done
[ -z "$badv" ] && ok "a bad --timeout is UNKNOWN (exit 3), saying what it must be" || bad "bad --timeout values" "$badv"
"$BIN" "$WATCH" --help >"$T/help"
grep -q -- '--timeout SECONDS' "$T/help" && grep -q 'default 50' "$T/help" \
  && ok "--help states --timeout and its default" || bad "--help" "$(cat "$T/help")"
finish
