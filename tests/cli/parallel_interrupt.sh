#!/usr/bin/env bash
# Ctrl-C during cdnctl.parallel stops starting new work, lets the requests
# in flight finish, and returns what is done: nothing half-recorded.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL SHORTPIXEL_API_KEY=spDemoAgency00000001
curl -sf -X POST --data '[{"status":200,"body":"{\"Status\":2}","delay":0.4,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null

cat >"$T/run.lua" <<'LUA'
local items = {}
for i = 1, 60 do items[i] = "d" .. i .. ".example.com" end
local recorded = 0
io.stdout:write("started\n"); io.stdout:flush()
local results, errors, summary = cdnctl.parallel(items, function(d) return shortpixel.read_domain(d) end, {
  concurrency = 5,
  on_result = function(i, r, err) if r then recorded = recorded + 1 end end,
})
print("done", summary.done, "recorded", recorded, "interrupted", summary.interrupted, "failed", summary.failed)
LUA
"$BIN" "$T/run.lua" >"$T/out" 2>"$T/err" &
RUN_PID=$!
cleanup_pid $RUN_PID
# Ctrl-C once the first round of 5 has ended: the server has seen 10 requests
# (the sixth goes only when one of the first five is answered); 30 s watchdog
for _ in $(seq 600); do [ "$(curl -sf "$URL/_fixture/count")" -ge 10 ] 2>/dev/null && break; sleep 0.05; done
kill -INT $RUN_PID
for _ in $(seq 100); do kill -0 $RUN_PID 2>/dev/null || break; sleep 0.05; done
wait $RUN_PID; st=$?
[ $st = 130 ] && ok "the script ends after Ctrl-C, having written its summary: exit 130 (interrupted)" || bad "exit status $st" "$(cat "$T/err")"
line=$(grep '^done' "$T/out")
read -r _ done _ recorded _ interrupted _ failed <<<"$line"
[ "$interrupted" = true ] && ok "the summary says it was interrupted" || bad "interrupted flag" "$line"
[ -n "$done" ] && [ "$done" -lt 60 ] && [ "$done" -ge 5 ] && ok "new work stopped: $done of 60 done" || bad "done count" "$line"
[ "$done" = "$recorded" ] && [ "$failed" = 0 ] && ok "every request in flight finished and was recorded" || bad "in-flight finished" "$line"
seen=$(curl -sf "$URL/_fixture/count")
[ "$seen" = "$done" ] && ok "the server saw exactly the requests that were recorded ($seen)" || bad "server saw $seen, recorded $done"

# Ctrl-C while a worker waits to retry: no further attempt is sent.
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL
curl -sf -X POST --data '[{"status":503,"body":"{\"error\":\"busy\"}","headers":{"Retry-After":"3","Content-Type":"application/json"},"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null
cat >"$T/retry.lua" <<'LUA'
local items = {}
for i = 1, 4 do items[i] = "r" .. i .. ".example.com" end
io.stdout:write("started\n"); io.stdout:flush()
local _, _, summary = cdnctl.parallel(items, function(d) return shortpixel.read_domain(d) end, { concurrency = 4 })
print("done", summary.done, "interrupted", summary.interrupted)
LUA
"$BIN" "$T/retry.lua" >"$T/out2" 2>"$T/err2" &
RUN_PID=$!
cleanup_pid $RUN_PID
for _ in $(seq 100); do [ "$(curl -sf "$URL/_fixture/count")" = 4 ] && break; sleep 0.05; done
kill -INT $RUN_PID
for _ in $(seq 200); do kill -0 $RUN_PID 2>/dev/null || break; sleep 0.05; done
wait $RUN_PID
seen=$(curl -sf "$URL/_fixture/count")
[ "$seen" = 4 ] && grep -q "interrupted	true" "$T/out2" && ok "Ctrl-C during the wait before a retry: no further attempt is sent ($seen requests)" \
  || bad "attempts after Ctrl-C: $seen" "$(cat "$T/out2" "$T/err2")"

finish
