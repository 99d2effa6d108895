#!/usr/bin/env bash
# The sandbox keeps exactly what it acknowledged (docs/sandbox.md, "The
# state file"): a change that cannot be saved is answered 503 and undone, so
# that its retry meets the state as it was before it.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

has() { sed 's#\\/#/#g' <<<"$1" | grep -q -- "$2"; }
SPK=spDemoAgency00000001 EZK=ez-demo-account-0001

# --- a change that cannot be saved is undone before its 503 goes
# (ulimit -f: writes past 12 KiB fail with EFBIG, as on a full disk; SIGXFSZ
# ignored; stderr through a pipe, which the limit does not apply to)
(trap '' XFSZ; ulimit -f 12; exec "$BIN" sandbox --state "$T/full.json") >"$T/full.url" 2> >(cat >"$T/full.err") &
FULL=$!; cleanup_pid $FULL
wait_file "$T/full.url" || { bad "the sandbox with a small file limit did not start" "$(cat "$T/full.err")"; finish; }
URL=$(head -1 "$T/full.url")
long=$(printf 'x%.0s' $(seq 60))
for i in $(seq 400); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/add-domain/$long$i.example.com/$SPK")
  [ "$code" = 503 ] && break
done
for j in $(seq 400); do # then shorter ones, so that no change of the tests below fits
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/add-domain/s$j.example.com/$SPK")
  [ "$code" = 503 ] && break
done
[ "$code" = 503 ] && ok "the journal is full after $i + $j changes (503)" || bad "no 503 after $i + $j changes ($code)"
code=$(curl -s -o "$T/out" -w '%{http_code}' -A t --data "api_key=$EZK&site_url=https://undo.example.com/" "$URL/exactdn/create.php")
first=$(cat "$T/out")
code2=$(curl -s -o "$T/out" -w '%{http_code}' -A t --data "api_key=$EZK&site_url=https://undo.example.com/" "$URL/exactdn/create.php")
again=$(cat "$T/out")
[ "$code" = 503 ] && [ "$code2" = 503 ] && has "$again" "could not be saved" && ! has "$again" duplicate \
  && ok "a create that cannot be saved is undone: its retry is 503 again, not 'duplicate site url'" \
  || bad "the refused create was kept ($code, $code2)" "$first / $again"
state=$(curl -s "$URL/_sandbox/state")
! has "$state" "undo.example.com" && ! has "$state" "${long}$i.example.com" \
  && ok "/_sandbox/state holds none of the changes answered 503" || bad "a change answered 503 is in the state" "$(sed 's#\\/#/#g' <<<"$state" | grep -o 'undo.example.com' | head -1)"
has "$first" "not done" && ok "the 503 says the change was not done" || bad "the 503's words" "$first"
# a group: 8 creates in flight at once against the full journal, none kept
seq 8 | sed "s#.*#url = \"$URL/exactdn/create.php\"\ndata = \"api_key=$EZK\&site_url=https://g&.example.com/\"\nuser-agent = t\nwrite-out = \"%{http_code}\\\\n\"\noutput = /dev/null#" >"$T/group.cfg"
curl -s --parallel --parallel-max 8 -K "$T/group.cfg" >"$T/group.codes" 2>/dev/null
state=$(curl -s "$URL/_sandbox/state")
[ "$(grep -c '^503$' "$T/group.codes")" = 8 ] && ! has "$state" "g[1-8].example.com" \
  && ok "8 creates in flight against a full journal: 8 × 503, none in the state" \
  || bad "a group that could not be saved" "$(sort "$T/group.codes" | uniq -c) / $(sed 's#\\/#/#g' <<<"$state" | grep -o 'g[1-8].example.com' | head -3)"
kill -TERM $FULL; wait $FULL

# --- two sandboxes on one state file: the second exits 2 at once, naming
# the file and the holder's pid; the first goes on and keeps what it had
start_sandbox one --state "$T/one.json"
curl -s -o /dev/null "$SURL/add-domain/one.example.com/$SPK"
timeout 10 "$BIN" sandbox --state "$T/one.json" >"$T/two.out" 2>"$T/two.err"; st=$?
[ $st = 2 ] && [ ! -s "$T/two.out" ] && grep -q "$T/one.json" "$T/two.err" && grep -q "pid $one_PID" "$T/two.err" \
  && ok "a second sandbox on the same --state exits 2 at once, naming the file and the holder's pid" \
  || bad "a second sandbox on one state file ($st)" "$(cat "$T/two.out" "$T/two.err")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/add-domain/one2.example.com/$SPK")
kill -TERM $one_PID; wait $one_PID; st=$?
start_sandbox three --state "$T/one.json"
state=$(curl -s "$SURL/_sandbox/state")
[ "$code" = 200 ] && [ $st = 0 ] && has "$state" one.example.com && has "$state" one2.example.com \
  && ok "the holder goes on; once it stops, the next sandbox takes the file with both changes" \
  || bad "after a refused second sandbox ($code, $st)" "$state"
kill -TERM $three_PID; wait $three_PID

# --- faults that carry the request out and then fail, through the server
start_sandbox lt --faults late:1 --late-ms 1500 --state "$T/lt.json" --log "$T/lt.log"
curl -s -o /dev/null --max-time 0.3 -A t --data "api_key=$EZK&site_url=https://late.example.com/" "$SURL/exactdn/create.php"; st=$?
for _ in $(seq 600); do has "$(curl -s "$SURL/_sandbox/state")" late.example.com && break; sleep 0.05; done
state=$(curl -s "$SURL/_sandbox/state")
[ $st = 28 ] && has "$state" late.example.com \
  && ok "late: the client gave up (curl 28), the site is created afterwards" || bad "late after a timeout ($st)" "$state"
out=$(curl -s --max-time 30 -A t --data "api_key=$EZK&site_url=https://late2.example.com/" "$SURL/exactdn/create.php")
has "$out" '"status":"success"' && grep -q '"fault":"late"' "$T/lt.log" \
  && ok "late: a client that waits gets the answer, logged with its fault" || bad "late answer" "$out"
curl -s -o /dev/null -A t --data "api_key=$EZK&site_url=https://never.example.com/" "$SURL/exactdn/create.php" &
CURL=$!
for _ in $(seq 600); do grep -q 'never' "$T/lt.log" 2>/dev/null && break; [ "$(grep -c '"fault":"late"' "$T/lt.log")" -ge 2 ] && break; sleep 0.05; done
kill -9 $lt_PID; wait $lt_PID 2>/dev/null; wait $CURL
start_sandbox lt2 --state "$T/lt.json" --late-ms 600000 --faults late:1
state=$(curl -s "$SURL/_sandbox/state")
has "$state" late.example.com && has "$state" late2.example.com \
  && ok "late: what was carried out is journaled (there after kill -9)" || bad "late changes lost" "$state"
curl -s -o /dev/null -A t --data "api_key=$EZK&site_url=https://stopped.example.com/" "$SURL/exactdn/create.php" &
CURL=$!
port=${SURL##*:}
for _ in $(seq 600); do [ -n "$(ss -Htn state established "( sport = :$port )")" ] && break; sleep 0.05; done # until it has arrived
kill -TERM $lt2_PID; wait $lt2_PID; st=$?
wait $CURL; cst=$?
start_sandbox lt3 --state "$T/lt.json"
state=$(curl -s "$SURL/_sandbox/state")
[ $st = 0 ] && [ $cst != 0 ] && ! has "$state" stopped.example.com \
  && ok "late: a stop closes what waits to be carried out, carries nothing out, and does not wait" \
  || bad "late at stop ($st, curl $cst)" "$state"
kill -TERM $lt3_PID; wait $lt3_PID

start_sandbox d5 --faults done500:1
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/add-domain/d5.example.com/$SPK")
state=$(curl -s "$SURL/_sandbox/state")
[ "$code" = 500 ] && has "$state" d5.example.com && ok "done500: answered 500, carried out" || bad "done500 ($code)" "$state"
kill -TERM $d5_PID; wait $d5_PID
finish
