#!/usr/bin/env bash
# A create's check against what ends it early: a stop signal (Ctrl-C,
# SIGTERM) while the create is in flight, a stop signal during the settle
# wait, and a deadline that ends during the settle wait. Against a slow
# server (tests/lib/late_server.lua) that holds each create's answer and
# carries it out a minute later, so every check finds nothing: each case
# ends at once (a watchdog of 60 s while settle is 600 s), fails with
# unknown_outcome, says "may have been created" and how to look, and sends
# create.php once.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state EASYIO_API_KEY=EZKEYlate0000000000001
unset CDNCTL_HAR

# late_start SHOW_DELAY: a slow server (creates carried out after 60 s,
# answered after 60 s; show.php answered after SHOW_DELAY s); sets LURL
late_start() {
  rm -f "$T/late.url"
  "$BIN" -e "$LUAP" "$SRC/tests/lib/late_server.lua" 60 60 "$1" >"$T/late.url" 2>"$T/late.err" &
  LATE_PID=$!; cleanup_pid $LATE_PID
  wait_file "$T/late.url" || { echo "the slow server did not start: $(cat "$T/late.err")"; exit 1; }
  LURL=$(head -1 "$T/late.url")
  use "$LURL"
}
late_stop() { kill $LATE_PID 2>/dev/null; wait $LATE_PID 2>/dev/null; }
creates() { curl -sf "$LURL/_late/count" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["create_key"] + d["create_site"])'; }
# wait_until CMD...: until CMD succeeds (30 s at most)
wait_until() { local i; for i in $(seq 600); do "$@" && return 0; sleep 0.05; done; return 1; }
in_flight() { [ "$(creates)" -ge 1 ]; }
settling() { grep -q "not seen yet; looking again in" "$T/err"; }
# bg CMD...: cdnctl in the background with a watchdog of 60 s (that ends
# with the process); sets pid
bg() {
  CDNCTL_DEBUG=1 "$@" >"$T/out" 2>"$T/err" & pid=$!
  ( for _ in $(seq 600); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL $pid ) & cleanup_pid $!
}
# the failure line (without the debug trace)
failure() { grep -v '^cdnctl: \(GET\|POST\) ' "$T/err" | grep -v 'looking again in'; }

# --- Ctrl-C while create_key is in flight and not carried out: no settle wait, "may have been created"
late_start 0
bg "$BIN" call easyio.create_key settle=600
wait_until in_flight || bad "the create never reached the server"
kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && failure | grep -q "interrupted; the outcome is unknown (not seen yet): a sub-key may have been created" \
  && failure | grep -q "keys.lua list --show-keys" && ! settling && [ "$(creates)" = 1 ] \
  && ok "create_key, Ctrl-C in flight, not seen: unknown at once (no settle wait), the hint, one create, exit 130" \
  || bad "create_key Ctrl-C ($st)" "$(cat "$T/out" "$T/err")"

# --- SIGTERM while create_site is in flight: the same for a site, with its URL and remove_site
bg "$BIN" call easyio.create_site https://term.example.com settle=600
wait_until in_flight || bad "the create never reached the server"
kill -TERM $pid; wait $pid; st=$?
[ $st = 143 ] && failure | grep -q "the outcome is unknown" && failure | grep -q "https://term.example.com/* may have been created" \
  && failure | grep -q "remove_site" && ! settling && [ "$(creates)" = 2 ] \
  && ok "create_site, SIGTERM in flight, not seen: unknown at once, names the URL and remove_site, one create, exit 143" \
  || bad "create_site SIGTERM ($st)" "$(cat "$T/out" "$T/err")"
late_stop

# --- SIGTERM during the settle wait after a timeout: the wait ends, unknown, the hint
late_start 0
bg "$BIN" call easyio.create_key timeout=0.5 settle=600
wait_until settling || bad "the check never started to wait" "$(cat "$T/err")"
kill -TERM $pid; wait $pid; st=$?
[ $st = 143 ] && failure | grep -q "the outcome is unknown (not seen, and a stop signal ended the wait before it could settle)" \
  && failure | grep -q "a sub-key may have been created" && [ "$(creates)" = 1 ] \
  && ok "create_key, SIGTERM during the settle wait: it ends the wait, unknown with the hint, one create, exit 143" \
  || bad "SIGTERM in the settle wait ($st)" "$(cat "$T/out" "$T/err")"
late_stop

# --- a deadline that ends during the settle wait: the wait leaves the second look the time it needs
late_start 0.5
bg "$BIN" -e 'local r, err = easyio.create_key { timeout = 1, settle = 600, deadline = 4 }
print(r and "made" or err.code); io.stderr:write(tostring(err), "\n")'
wait $pid; st=$?
looks=$(grep -c 'api_key/show.php -> 200' "$T/err")
[ $st = 0 ] && [ "$(cat "$T/out")" = unknown_outcome ] && [ "$(creates)" = 1 ] && [ "$looks" = 3 ] \
  && failure | grep -q "the outcome is unknown (not seen after waiting [0-9.]* s, all the deadline of 4 s allows)" \
  && failure | grep -q "a sub-key may have been created" \
  && ok "create_key, a deadline that ends the settle wait: the read before and two looks answered, unknown, one create" \
  || bad "deadline in the settle wait ($st, $looks reads answered)" "$(cat "$T/out" "$T/err")"
late_stop
finish
