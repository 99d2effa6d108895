#!/usr/bin/env bash
# cdnctl.parallel and the process: cdnctl.exit inside a worker ends the
# process with its status and sends nothing more; exit statuses are checked;
# a worker yielding what the scheduler does not know fails its item instead
# of spinning. Every run is bounded by a generous watchdog (timeout 60).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
run() { # name want_status lua-code
  local name=$1 want=$2
  timeout 60 "$BIN" -e "$3" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "exit $got, want $want; stderr: $(head -c 600 "$T/err")"; fi
}
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL SHORTPIXEL_API_KEY=spDemoAgency00000001

run "cdnctl.exit(3) inside a worker ends the process with status 3" 3 '
local items = {}
for i = 1, 40 do items[i] = "d" .. i .. ".example.com" end
cdnctl.parallel(items, function(d, i)
  if i == 5 then cdnctl.exit(3) end
  return shortpixel.read_domain(d)
end, { concurrency = 1 })
print("after parallel")'
grep -q "after parallel" "$T/out" && bad "nothing runs after the exit" "$(cat "$T/out")" || ok "nothing runs after the exit"
seen=$(curl -sf "$URL/_fixture/count")
[ "$seen" = 4 ] && ok "the remaining items are not sent (the server saw $seen requests)" || bad "the server saw $seen requests, want 4"

run "cdnctl.exit inside on_result ends the process too" 4 '
cdnctl.parallel({ 1, 2, 3 }, function(x) return x end, { on_result = function(i) if i == 2 then cdnctl.exit(4) end end })'
run "cdnctl.exit inside the items iterator ends the process too" 5 '
local k = 0
cdnctl.parallel(function() k = k + 1; if k == 3 then cdnctl.exit(5) end; return k end, function(x) return x end)'

run "cdnctl.exit(256) is an argument error (status 1), not exit 0" 1 'cdnctl.exit(256)'
grep -q "bad argument #1 to 'exit' (integer in \[0, 255\] expected, got 256)" "$T/err" && ok "the message names the range" || bad "exit(256) message" "$(cat "$T/err")"
run "cdnctl.exit(-1) is an argument error" 1 'cdnctl.exit(-1)'
run "cdnctl.exit(\"3\") is an argument error" 1 'cdnctl.exit("3")'
run "cdnctl.exit(255) ends with status 255" 255 'cdnctl.exit(255)'

run "a worker that keeps yielding what the scheduler does not know fails its item" 0 '
local _, errors, summary = cdnctl.parallel({ 1, 2 }, function(x)
  if x == 1 then while true do coroutine.yield(io.stdout) end end
  return x
end)
print(summary.failed, summary.done, errors[1])'
grep -q "^1	2	fn yielded a value cdnctl.parallel does not know (userdata)" "$T/out" && ok "errors[1] says what happened" || bad "unknown yield" "$(cat "$T/out" "$T/err")"

# last: from here on every answer takes 100 s
curl -sf -X POST --data '[{"status":200,"body":"{\"Status\":2}","delay":100,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null
run "cdnctl.exit does not wait for the requests in flight" 6 '
cdnctl.parallel({ "a.example.com", "b.example.com", "c.example.com" }, function(d, i)
  if i == 3 then cdnctl.sleep(0.2); cdnctl.exit(6) end
  return shortpixel.read_domain(d)
end, { concurrency = 3 })'

finish
