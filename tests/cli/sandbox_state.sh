#!/usr/bin/env bash
# The sandbox keeps what it acknowledges (issues 13 and 15): --state refuses
# a file it cannot write; a change that cannot be saved is answered 503 and
# logged, never 200; the stop message and the exit status say whether the
# state was saved; admin input is checked before it changes anything; every
# change acknowledged before a kill -9 is there after a restart; and a full
# sandbox closes idle connections so that a client still gets answers.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

has() { sed 's#\\/#/#g' <<<"$1" | grep -q -- "$2"; }
SPK=spDemoAgency00000001

# --- a state file that cannot be written: refused at start, in one line
timeout 10 "$BIN" sandbox --state "$T/no/such/folder/state.json" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ ! -s "$T/out" ] && grep -q "no/such/folder/state.json" "$T/err" \
  && ok "an unwritable --state: refused at start, exit 2 (a refused path), no URL printed" || bad "unwritable state ($st)" "$(cat "$T/out" "$T/err")"
mkdir "$T/adir"
timeout 10 "$BIN" sandbox --state "$T/adir" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "is a directory" "$T/err" && ! grep -q traceback "$T/err" \
  && ok "a --state that is a directory: one line, no traceback" || bad "directory state ($st)" "$(cat "$T/err")"

# --- a change that cannot be saved: 503, never 200; a stop that cannot save says so
# (ulimit -f: writes past 12 KiB fail with EFBIG; SIGXFSZ ignored; stderr
# through a pipe, which the limit does not apply to)
(trap '' XFSZ; ulimit -f 12; exec "$BIN" sandbox --state "$T/small.json" --log /dev/stderr) >"$T/small.url" 2> >(cat >"$T/small.err") &
SMALL=$!; cleanup_pid $SMALL
wait_file "$T/small.url" || { bad "the sandbox with a small file limit did not start" "$(cat "$T/small.err")"; finish; }
URL=$(head -1 "$T/small.url")
long=$(printf 'x%.0s' $(seq 60))
: >"$T/codes"
for i in $(seq 300); do # sites: the snapshot grows faster than the journal, so the stop cannot save either
  curl -s -o /dev/null -w '%{http_code} '"$i"'\n' -A t --data "api_key=ez-demo-account-0001&site_url=https://$long$i.example.com/" \
    "$URL/exactdn/create.php" >>"$T/codes"
  grep -q '^503' "$T/codes" && [ $i -ge 250 ] && break
done
n503=$(grep -c '^503' "$T/codes") n200=$(grep -c '^200' "$T/codes")
[ "$n503" -gt 0 ] && [ "$n200" -gt 0 ] && ok "a change that cannot be saved is answered 503 ($n200 × 200 then $n503 × 503)" \
  || bad "no 503 when saving fails" "$(sort "$T/codes" | awk '{print $1}' | uniq -c)"
out=$(curl -s "$URL/add-domain/${long}z.$long.$long.example.com/$SPK") # longer than any entry written
has "$out" '"Status":-503' && has "$out" '"Message":"sandbox: the change could not be saved' \
  && ok "a change that cannot be saved to a ShortPixel path: 503 in ShortPixel's shape" || bad "503 shape" "$out"
n503=$((n503 + 1))
grep -q "cannot save" "$T/small.err" && ok "the failure to save is logged" || bad "failure not logged" "$(cat "$T/small.err")"
[ "$(grep -c '"status":503' "$T/small.err")" = "$n503" ] && [ "$(grep -c '"status":200' "$T/small.err")" = "$n200" ] \
  && ok "--log shows each change with the status the client got (200 or 503)" || bad "--log statuses" "$(grep -c '"status":503' "$T/small.err") 503 lines"
kill -TERM $SMALL; wait $SMALL; st=$?
[ $st != 0 ] && ! grep -q "state saved" "$T/small.err" && grep -qi "not saved" "$T/small.err" \
  && ok "a stop that cannot save says 'not saved' and exits $st" || bad "stop after failed save ($st)" "$(tail -3 "$T/small.err")"

# --- admin input is checked before it changes anything
start_sandbox adm --state "$T/adm.json"
code=$(curl -s -o "$T/out" -w '%{http_code}' -d '{"advance": -1e18}' "$SURL/_sandbox/clock")
[ "$code" = 400 ] && ok "a clock advance of -1e18: 400" || bad "clock -1e18: $code" "$(cat "$T/out")"
code=$(curl -s -o "$T/out" -w '%{http_code}' -d '{"advance": 9000000000000000000}' "$SURL/_sandbox/clock")
[ "$code" = 400 ] && ok "a clock advance past the year 9999: 400" || bad "clock 9e18: $code" "$(cat "$T/out")"
curl -s -o /dev/null "$SURL/add-domain/adm.example.com/$SPK"
code=$(curl -s -o "$T/out" -w '%{http_code}' -d '{"domain": "adm.example.com", "reachable": false, "credits_used": -5}' "$SURL/_sandbox/domain")
out=$(curl -s "$SURL/read-domain/adm.example.com")
[ "$code" = 400 ] && has "$out" '"Status":2' && ok "a refused admin change changes nothing (reachable kept)" || bad "partial admin change: $code" "$out"
code=$(curl -s -o "$T/out" -w '%{http_code}' -d '{"domain": "adm.example.com", "credits_used": 5, "exhausted_days": 1e15}' "$SURL/_sandbox/domain")
[ "$code" = 400 ] && ok "exhausted_days out of range: 400" || bad "exhausted_days: $code" "$(cat "$T/out")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/read-domain/adm.example.com")
[ "$code" = 200 ] && ok "the sandbox still answers 200 after refused admin input" || bad "after admin input: $code"
kill -TERM $adm_PID; wait $adm_PID
start_sandbox adm2 --state "$T/adm.json"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/read-domain-cdn-usage/adm.example.com/$SPK")
[ "$code" = 200 ] && ok "and after a restart" || bad "after restart: $code"
kill -TERM $adm2_PID; wait $adm2_PID
python3 - "$T/adm.json" <<'PY'
import json, sys
st = json.load(open(sys.argv[1])); st["clock_offset"] = -10**18
json.dump(st, open(sys.argv[1], "w"))
PY
timeout 10 "$BIN" sandbox --state "$T/adm.json" >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "clock" "$T/err" && ok "a state file with a clock out of range is refused in one line" || bad "bad clock in file ($st)" "$(cat "$T/err")"

# --- kill -9 mid-run: every acknowledged change is there after a restart
start_sandbox k9 --pending 0 --state "$T/k9.json"
use "$SURL"
SHORTPIXEL_API_KEY=$SPK EASYIO_API_KEY=ez-demo-account-0001 "$BIN" -e '
  io.stdout:setvbuf("line")
  cdnctl.parallel((function() local i = 0 return function() i = i + 1 if i <= 20000 then return i end end end)(),
    function(i)
      local r = shortpixel.add_domain("k" .. i .. ".example.com", { attempts = 1 })
      if r then print("k" .. i .. ".example.com") end
    end, { concurrency = 16 })' >"$T/acked" 2>/dev/null &
W=$!; cleanup_pid $W
for _ in $(seq 200); do [ "$(wc -l <"$T/acked")" -ge 1500 ] && break; sleep 0.05; done
kill -9 $k9_PID; wait $k9_PID 2>/dev/null; wait $W 2>/dev/null
sort -u "$T/acked" >"$T/acked.sorted"
start_sandbox k9b --state "$T/k9.json"
curl -s "$SURL/_sandbox/state" | python3 -c '
import json, sys
st = json.load(sys.stdin)
for d in st["shortpixel"]["domains"]:
    if d.startswith("k"): print(d)' | sort -u >"$T/kept"
acked=$(wc -l <"$T/acked.sorted") kept=$(wc -l <"$T/kept")
missing=$(comm -23 "$T/acked.sorted" "$T/kept" | wc -l)
[ "$acked" -gt 0 ] && [ "$missing" = 0 ] && ok "kill -9 mid-run: all $acked acknowledged add_domain calls are in the state after a restart ($kept domains)" \
  || bad "kill -9: $missing of $acked acknowledged changes lost" "$(comm -23 "$T/acked.sorted" "$T/kept" | head -3)"
kill -TERM $k9b_PID; wait $k9b_PID; st=$?
[ $st = 0 ] && grep -q "state saved" "$T/k9b.err" && ok "a stop that saves says so and exits 0" || bad "stop ($st)" "$(cat "$T/k9b.err")"

# --- replay is exact: names drawn and the clock, after kill -9
start_sandbox rp --pending 0 --state "$T/rp.json"
out=$(curl -s -A t --data api_key=ez-demo-account-0001 --data site_url=https://rp.example.com/ "$SURL/exactdn/create.php")
alias=$(sed 's/.*"alias":"\([^"]*\)".*/\1/' <<<"$out")
sub=$(curl -s -A t --data api_key=ez-demo-account-0001 "$SURL/api_key/create.php" | sed 's/.*"sub_key":"\([^"]*\)".*/\1/')
now=$(curl -s -d '{"advance": 86400}' "$SURL/_sandbox/clock")
curl -s -o /dev/null "$SURL/_sandbox/cdn/$alias/img/a.jpg"
kill -9 $rp_PID; wait $rp_PID 2>/dev/null
start_sandbox rp2 --pending 0 --state "$T/rp.json"
out=$(curl -s -A t --data alias="$alias" "$SURL/exactdn/savings.php")
keys=$(curl -s -A t --data api_key=ez-demo-account-0001 "$SURL/api_key/show.php")
now2=$(curl -s -d '{"advance": 0}' "$SURL/_sandbox/clock")
has "$out" '"original":[1-9]' && has "$keys" "\"$sub\"" && [ "${now:0:20}" = "${now2:0:20}" ] \
  && ok "after kill -9 and a restart: the same alias, the same sub-key, the clock advanced once, the CDN fetch counted" \
  || bad "replay not exact" "$out / $keys / $now / $now2"
kill -TERM $rp2_PID; wait $rp2_PID
[ ! -e "$T/rp.json.journal" ] && ok "a clean stop leaves the state file alone, no journal" || bad "journal left after a clean stop"

# --- a full sandbox: 1,500 idle keep-alive connections, a client still answered
start_sandbox full
python3 - "$SURL" "$T/held" <<'PY' &
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
socks = []
for i in range(1500):
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"GET /read-domain/example.com HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    except OSError:
        pass
open(sys.argv[2], "w").write("%d\n" % len(socks))
time.sleep(120)  # held open, idle, until killed
PY
HOLD=$!; cleanup_pid $HOLD
for _ in $(seq 600); do [ -s "$T/held" ] && break; sleep 0.05; done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$SURL/read-domain/example.com")
[ "$code" = 200 ] && ok "with $(cat "$T/held") idle connections held open, a client still gets answers" || bad "a full sandbox: $code (held $(cat "$T/held" 2>/dev/null))"
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null
finish
