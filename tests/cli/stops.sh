#!/usr/bin/env bash
# Every stop accounted for: a SIGTERM, SIGHUP or first Ctrl-C while
# watch.lua reads gives one status line (CDN UNKNOWN - stopped ...), its
# Prometheus file written atomically with cdnctl_watch_success 0, and exit
# 143, 129 or 130, whether the signal comes while the hosts are read (in
# cdnctl.parallel) or during a plain read (the credits); report.lua and
# `keys.lua list` stopped by SIGTERM in a read: one stopping line, exit 143,
# no traceback. The fixture never answers (a hanging API); the signal is
# sent once the fixture saw the request, and a watchdog (timeout -s KILL)
# ends a hang: no duration is asserted.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_PROFILE
q() { curl -sf -X POST --data-binary "$1" "$URL/_fixture/queue" >/dev/null; }
count() { curl -sf "$URL/_fixture/count"; }
HANG='[{"status":200,"body":"{\"Status\":2}","delay":120,"repeat_all":true}]'
FINE='{"status":200,"body":"{\"Status\":2,\"Email\":\"a@example.com\",\"UsedCDN\":{}}"}'
printf 'domain,service\none.example.com,shortpixel\n' >"$T/d.csv"

# run_stopped SIG N CMD...: CMD in the background against a fresh fixture
# (set up by $SETUP), SIG once the fixture saw N requests; -> $st, $T/out, $T/err
run_stopped() {
  local sig=$1 n=$2; shift 2
  start_fixture
  export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL
  eval "$SETUP"
  timeout -s KILL 40 "$@" >"$T/out" 2>"$T/err" &
  local pid=$! i
  for i in $(seq 600); do [ "$(count)" -ge "$n" ] || ! kill -0 $pid 2>/dev/null && break; sleep 0.05; done
  kill -s "$sig" $pid
  wait $pid; st=$?
}

# watch_stopped SIG STATUS N WHERE
watch_stopped() {
  echo "cdnctl_watch_success 1" >"$T/w.prom"
  run_stopped "$1" "$3" "$BIN" "$SRC/scripts/watch.lua" "$T/d.csv" --timeout 100 --prometheus "$T/w.prom"
  [ "$st" = "$2" ] && ok "watch.lua, SIG$1 $4: exit $2" || bad "watch.lua SIG$1 $4: exit $st, want $2" "$(cat "$T/out" "$T/err")"
  [ "$(wc -l <"$T/out")" = 1 ] && grep -qE "^CDN UNKNOWN - stopped \(SIG$1\) before the check ended" "$T/out" \
    && ok "watch.lua, SIG$1 $4: one status line, UNKNOWN, saying it was stopped" || bad "watch.lua SIG$1 $4: status line" "$(cat "$T/out")"
  grep -qx 'cdnctl_watch_success 0' "$T/w.prom" && ! ls "$T" | grep -q 'w\.prom\.' \
    && ok "watch.lua, SIG$1 $4: the Prometheus file says cdnctl_watch_success 0 (written atomically)" \
    || bad "watch.lua SIG$1 $4: prom" "$(cat "$T/w.prom"; ls "$T")"
  ! grep -q 'stack traceback' "$T/err" && ok "watch.lua, SIG$1 $4: no traceback" || bad "watch.lua SIG$1 $4: traceback" "$(cat "$T/err")"
}
SETUP="q '$HANG'"
watch_stopped TERM 143 1 "while the hosts are read"
watch_stopped HUP 129 1 "while the hosts are read"
watch_stopped INT 130 1 "while the hosts are read"
# the four host reads answer, the credits' read hangs
SETUP="q '[$FINE,$FINE,$FINE,$FINE]'; q '$HANG'"
watch_stopped TERM 143 5 "during the credits' read"
watch_stopped INT 130 5 "during the credits' read"

# report.lua: SIGTERM while the hosts are read, and during the Easy IO read
SETUP="q '$HANG'"
run_stopped TERM 1 "$BIN" "$SRC/scripts/report.lua" "$T/d.csv" --json "$T/r.json"
[ $st = 143 ] && [ "$(grep -c '^stopping' "$T/err")" = 1 ] && ! grep -q 'stack traceback' "$T/err" \
  && ok "report.lua, SIGTERM while the hosts are read: one stopping line, exit 143, no traceback" \
  || bad "report.lua SIGTERM in parallel ($st)" "$(cat "$T/err")"
SETUP="q '[$FINE,$FINE,$FINE,$FINE]'; q '$HANG'"
run_stopped TERM 5 "$BIN" "$SRC/scripts/report.lua" "$T/d.csv" --json "$T/r.json"
[ $st = 143 ] && [ "$(grep -c '^stopping' "$T/err")" = 1 ] && ! grep -q 'stack traceback' "$T/err" \
  && ok "report.lua, SIGTERM during its Easy IO read: one stopping line, exit 143, no traceback" \
  || bad "report.lua SIGTERM in a plain read ($st)" "$(cat "$T/err")"

# keys.lua list
SETUP="q '$HANG'"
run_stopped TERM 1 "$BIN" "$SRC/scripts/keys.lua" list
[ $st = 143 ] && [ "$(grep -c . "$T/err")" = 1 ] && grep -q '^stopping (SIGTERM)' "$T/err" \
  && ok "keys.lua list, SIGTERM during its read: one stopping line, exit 143, no traceback" \
  || bad "keys.lua list SIGTERM ($st)" "$(cat "$T/err")"
finish
