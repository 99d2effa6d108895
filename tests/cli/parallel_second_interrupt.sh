#!/usr/bin/env bash
# The first Ctrl-C during cdnctl.parallel says on stderr how many requests
# are in flight and for how long at most; the second one ends the process at
# once (status 130) instead of waiting for their timeout. A generous
# watchdog (30 s, under the 50 s timeout of the requests) bounds the wait.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL SHORTPIXEL_API_KEY=spDemoAgency00000001
curl -sf -X POST --data '[{"status":200,"body":"{\"Status\":2}","delay":100,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null

cat >"$T/run.lua" <<'LUA'
cdnctl.retry { timeout = 50 }
local items = {}
for i = 1, 60 do items[i] = "d" .. i .. ".example.com" end
cdnctl.parallel(items, function(d) return shortpixel.read_domain(d) end, { concurrency = 5 })
print("parallel returned")
LUA
"$BIN" "$T/run.lua" >"$T/out" 2>"$T/err" &
RUN_PID=$!
cleanup_pid $RUN_PID
for _ in $(seq 200); do [ "$(curl -sf "$URL/_fixture/count")" = 5 ] && break; sleep 0.05; done
kill -INT $RUN_PID
for _ in $(seq 100); do grep -q '^stopping' "$T/err" && break; sleep 0.05; done
line=$(grep '^stopping' "$T/err")
[[ "$line" =~ ^stopping:\ waiting\ for\ 5\ requests\ in\ flight\ \(up\ to\ (4[0-9]|50)\ s\)\;\ Ctrl-C\ again\ to\ quit\ now$ ]] \
  && ok "the first Ctrl-C says what it waits for: $line" || bad "first Ctrl-C line" "$(cat "$T/err")"
kill -0 $RUN_PID 2>/dev/null && ok "the first Ctrl-C lets the requests in flight go on" || bad "the process ended on the first Ctrl-C"
sleep 0.3 # a second press, as a person makes it (the same signal twice within 100 ms is one delivery)
kill -INT $RUN_PID
for _ in $(seq 600); do kill -0 $RUN_PID 2>/dev/null || break; sleep 0.05; done
if kill -0 $RUN_PID 2>/dev/null; then
  bad "the second Ctrl-C ends the process at once" "still running 30 s later"
  kill -KILL $RUN_PID
  wait $RUN_PID
else
  ok "the second Ctrl-C ends the process at once"
  wait $RUN_PID; st=$?
  [ $st = 130 ] && ok "its exit status is 130" || bad "exit status $st, want 130"
fi
grep -q "parallel returned" "$T/out" && bad "the script went on after the second Ctrl-C" || ok "the script does not go on"

finish
