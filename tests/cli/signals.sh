#!/usr/bin/env bash
# SIGTERM and SIGHUP do what the first Ctrl-C does: stop starting work, let
# what is in flight finish for at most 8 s, write the results and the
# summary, and exit 143 (SIGTERM) or 129 (SIGHUP); a run interrupted by
# Ctrl-C exits 130, distinct from 3 ("some failed"). Hangs are bounded by
# watchdogs, never by asserting a duration.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL
q() { curl -sf -X POST --data-binary "$1" "$URL/_fixture/queue" >/dev/null; }
count() { curl -sf "$URL/_fixture/count"; }

# purge.lua DOMAINS... in the background; signal SIG once N requests were seen
run_purge() { # SIG N DELAY
  q "[{\"status\":200,\"body\":\"{\\\"Status\\\":2,\\\"Message\\\":\\\"ok\\\"}\",\"delay\":$3,\"repeat_all\":true}]"
  local before; before=$(count)
  local doms=(); for i in $(seq 1 30); do doms+=("s$i.example.com"); done
  timeout -s KILL 25 "$BIN" "$SRC/scripts/purge.lua" --yes --concurrency 4 "${doms[@]}" >"$T/out" 2>"$T/err" &
  local pid=$!
  for _ in $(seq 400); do [ "$(( $(count) - before ))" -ge "$2" ] && break; sleep 0.05; done
  kill -s "$1" $pid 2>/dev/null
  wait $pid
}

run_purge TERM 4 0.3; st=$?
[ $st = 143 ] && grep -q "^60 hosts: .* not tried (interrupted)" "$T/out" \
  && ok "SIGTERM: new work stops, the summary is written, exit 143" || bad "SIGTERM ($st)" "$(cat "$T/out" "$T/err" | tail -8)"
grep -q "^stopping" "$T/err" && ok "SIGTERM: one line on stderr says it is stopping" || bad "stopping line" "$(cat "$T/err")"
run_purge HUP 4 0.3; st=$?
[ $st = 129 ] && grep -q "^60 hosts: " "$T/out" && ok "SIGHUP (a closed SSH session): the same, exit 129" || bad "SIGHUP ($st)" "$(tail -5 "$T/out" "$T/err")"
run_purge INT 4 0.3; st=$?
[ $st = 130 ] && grep -q "^60 hosts: " "$T/out" && ok "Ctrl-C: the same, exit 130 (not 3)" || bad "SIGINT ($st)" "$(tail -5 "$T/out" "$T/err")"

# in flight for longer than 8 s: abandoned after 8 s (the watchdog of 25 s would kill a 40 s wait)
run_purge TERM 4 40; st=$?
[ $st = 143 ] && grep -q "^60 hosts: " "$T/out" && grep -q "up to 8 s" "$T/err" \
  && ok "SIGTERM: requests in flight get 8 s at most, then the summary and exit 143" || bad "SIGTERM drain ($st)" "$(tail -5 "$T/out" "$T/err")"

# a plain script blocked in one call
q '[{"status":200,"body":"{\"Status\":2}","delay":40,"repeat_all":true}]'
timeout -s KILL 25 "$BIN" -e 'shortpixel.read_domain("one.example.com")' >"$T/out" 2>&1 &
pid=$!
before=$(count); for _ in $(seq 200); do [ "$(count)" -gt "$before" ] && break; sleep 0.05; done
kill -TERM $pid; wait $pid; st=$?
[ $st = 143 ] && ok "SIGTERM during a plain script's call: exit 143" || bad "plain script SIGTERM ($st)" "$(cat "$T/out")"
# the standalone sandbox, a server: a signal is how it stops (state saved, exit 0), SIGHUP too
start_sandbox hup --state "$T/hup.json"
kill -HUP $hup_PID; wait $hup_PID; st=$?
[ $st = 0 ] && grep -q "stopped (SIGHUP), state saved" "$T/hup.err" && ok "cdnctl sandbox: SIGHUP stops it cleanly, the state saved, exit 0" || bad "sandbox SIGHUP ($st)" "$(cat "$T/hup.err")"
# onboard.lua stopped by SIGTERM: the results of what was done are written (not an older file), exit 143
q '[{"status":200,"body":"{\"Status\":2,\"Message\":\"ok\"}","delay":0.3,"repeat_all":true}]'
{ echo "domain,service"; for i in $(seq 1 40); do echo "c$i.example.com,shortpixel"; done; } >"$T/clients.csv"
echo "domain,status" >"$T/clients.results.csv"; echo "stale.example.com,ok" >>"$T/clients.results.csv"
before=$(count)
(cd "$T" && timeout -s KILL 25 "$BIN" "$SRC/scripts/onboard.lua" clients.csv --concurrency 4) >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 400); do [ "$(( $(count) - before ))" -ge 6 ] && break; sleep 0.05; done
kill -TERM $pid; wait $pid; st=$?
[ $st = 143 ] && ! grep -q stale "$T/clients.results.csv" && grep -q "^c1.example.com,ok" "$T/clients.results.csv" \
  && grep -q "interrupted" "$T/out" && ok "onboard.lua on SIGTERM: the results of what was done replace the old file, exit 143" \
  || bad "onboard SIGTERM ($st)" "$(cat "$T/out" "$T/err"; head -5 "$T/clients.results.csv")"
finish
