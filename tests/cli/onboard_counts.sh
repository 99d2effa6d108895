#!/usr/bin/env bash
# onboard.lua accounts for every row of its input, however the run stops:
# the summary counts done, failed, skipped and not tried, summing to the
# rows of the CSV, and the results file has one row per input row (a row
# never started is "not tried"). SIGTERM mid-run, a step abandoned after
# the drain (it must not hold back the rows after it) and a journal that
# cannot be written are each run for real; each run has a watchdog.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
ONBOARD=$SRC/scripts/onboard.lua
export HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_PROFILE CDNCTL_HAR
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
mkdir -p "$T/work" && cd "$T/work" || exit 1
# lines FILE: its lines (0 when it does not exist)
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# wait_lines FILE N: until FILE has N lines at least (a watchdog of 60 s)
wait_lines() { local i; for i in $(seq 1200); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
# reap PID: its exit status once it ends (a watchdog of 60 s, then SIGKILL)
reap() { local i; for i in $(seq 1200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done; kill -KILL "$1" 2>/dev/null; wait "$1"; }
# rows_cover CSV RESULTS: every domain of CSV has exactly one row in RESULTS, in order
rows_cover() { [ "$(tail -n +2 "$1" | cut -d, -f1)" = "$(tail -n +2 "$2" | cut -d, -f1)" ]; }
# summary_sums OUT N: "N clients: A ok, B failed[, C skipped][, D not tried]" with A+B+C+D = N
summary_sums() {
  local line; line=$(grep -m1 " clients: " "$1") || return 1
  python3 - "$line" "$2" <<'PY'
import re, sys
line, n = sys.argv[1], int(sys.argv[2])
m = re.match(r"^(\d+) clients: (\d+) ok, (\d+) failed(?:, (\d+) skipped)?(?:, (\d+) not tried)?", line)
assert m, line
total = int(m.group(1)); parts = sum(int(g or 0) for g in m.groups()[1:])
assert total == n and parts == n, (line, n)
PY
}

# --- SIGTERM mid-run: every row counted, the ones never started "not tried"
start_sandbox slow --pending 0 --latency 100
use "$SURL"
{ echo domain; for i in $(seq 1 60); do echo "term$i.example.com"; done; } >term.csv
"$BIN" "$ONBOARD" term.csv --concurrency 4 >out 2>err &
P=$!; cleanup_pid $P
wait_lines term.results.journal 10 || bad "the run journals nothing" "$(cat out err)"
kill -TERM $P
reap $P; st=$?
[ $st = 143 ] && summary_sums out 60 && grep -q " not tried" out \
  && ok "SIGTERM: exit 143; the summary counts all 60 rows, the unstarted as not tried" || bad "SIGTERM counts ($st)" "$(cat out err)"
rows_cover term.csv term.results.csv && grep -q "^term60.example.com,not tried," term.results.csv \
  && ok "SIGTERM: the results have one row per input row, in order; an unstarted row is 'not tried'" \
  || bad "SIGTERM results" "$(cat term.results.csv)"
"$BIN" "$ONBOARD" term.csv --concurrency 4 >out 2>err; st=$?
[ $st = 0 ] && grep -q "^60 clients: 60 ok, 0 failed; " out && [ "$(grep -c ',ok,' term.results.csv)" = 60 ] \
  && ok "the same command again finishes every row" || bad "rerun after SIGTERM ($st)" "$(cat out err)"

# --- a step still in flight after the drain is abandoned; the rows after it are written
start_fixture
use "$URL"
curl -sf -X POST --data-binary '[{"status":200,"body":"{\"Status\":2,\"Message\":\"Done\"}","delay":120}]' "$URL/_fixture/queue" >/dev/null
{ echo domain,service; for i in $(seq 1 8); do echo "drain$i.example.com,shortpixel"; done; } >drain.csv
"$BIN" "$ONBOARD" drain.csv --concurrency 2 >out 2>err &
P=$!; cleanup_pid $P
wait_lines drain.results.journal 15 || bad "the other worker journals nothing" "$(cat out err)"
kill -TERM $P
reap $P; st=$?
[ $st = 143 ] && summary_sums out 8 && rows_cover drain.csv drain.results.csv \
  && ok "a step abandoned after the drain: every row written, in order, and counted" || bad "drain ($st)" "$(cat out err drain.results.csv)"
grep -q ",failed,.*abandoned" drain.results.csv && [ "$(grep -c ',ok,' drain.results.csv)" = 7 ] \
  && ok "the abandoned row is failed, saying its step was abandoned; the rows done after it are ok" \
  || bad "drain rows" "$(cat drain.results.csv)"

# --- a journal that cannot be written: no new work, every row still counted
mkdir -p "$T/full"
if mount -t tmpfs -o size=8k tmpfs "$T/full" 2>/dev/null; then
  trap 'umount "$T/full" 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
  use "$SURL"
  { echo domain; for i in $(seq 1 300); do echo "full$i.example.com"; done; } >full.csv
  timeout 120 "$BIN" "$ONBOARD" full.csv --journal "$T/full/j.journal" --concurrency 4 >out 2>err; st=$?
  [ $st = 1 ] && summary_sums out 300 && grep -q " not tried" out && rows_cover full.csv full.results.csv \
    && ok "a journal that cannot be written: exit 1; all 300 rows counted and written, the rest not tried" \
    || bad "disk full counts ($st)" "$(cat out err; head -5 full.results.csv; tail -3 full.results.csv)"
else
  echo "# skipped: the disk-full case needs to mount a tmpfs (not permitted here)"
fi
finish
