#!/usr/bin/env bash
# `cdnctl sandbox` as a server of its own: the API pages' own curl examples
# (host swapped), options and usage errors, the state file (SIGTERM saves,
# kill -9 during writes never leaves a half-written file), the log with keys
# masked, faults and latency, malformed traffic, 256 concurrent connections
# and slowloris clients.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

has() { sed 's#\\/#/#g' <<<"$1" | grep -q -- "$2"; } # JSON text, "\/" read as "/" (PHP and cjson escape it)

# --- options and usage
"$BIN" sandbox --help >"$T/help" 2>&1; st=$?
[ $st = 0 ] && grep -q 'spDemoAgency00000001' "$T/help" && grep -q 'ez-demo-subkey-0001' "$T/help" \
  && ok "--help lists the demo accounts" || bad "--help" "$(cat "$T/help")"
"$BIN" sandbox --faults 500:2 >"$T/out" 2>&1; [ $? = 2 ] && grep -q "between 0 and 1" "$T/out" && ok "a bad --faults is a usage error" || bad "faults usage" "$(cat "$T/out")"
"$BIN" sandbox --faults teleport:0.1 >"$T/out" 2>&1; [ $? = 2 ] && grep -q "unknown fault 'teleport'" "$T/out" && ok "an unknown fault is named" || bad "unknown fault" "$(cat "$T/out")"
"$BIN" sandbox --latency 5-2 >"$T/out" 2>&1; [ $? = 2 ] && ok "a bad --latency is a usage error" || bad "latency usage"
"$BIN" sandbox --account nope >"$T/out" 2>&1; [ $? = 2 ] && grep -q "shortpixel:KEY" "$T/out" && ok "a bad --account is a usage error" || bad "account usage" "$(cat "$T/out")"
"$BIN" sandbox --bogus >"$T/out" 2>&1; [ $? = 2 ] && grep -q "unknown option '--bogus'" "$T/out" && ok "an unknown option is a usage error" || bad "unknown option"
echo '{"not": "a state"}' >"$T/wrong.json"
"$BIN" sandbox --state "$T/wrong.json" >"$T/out" 2>&1; [ $? = 1 ] && grep -q "is not a sandbox state" "$T/out" && ok "a state file of another shape is refused, not overwritten" || bad "wrong state" "$(cat "$T/out")"
grep -q '"not"' "$T/wrong.json" && ok "the refused file is left as it was" || bad "wrong state file changed"

# --- the pages' own curl examples, the host swapped, keys given as accounts
start_sandbox doc --pending 0 --account easyio:abc123 --account shortpixel:APIkey:test@shortpixel.com --log "$T/doc.log"
EZ=$SURL SP=$SURL
out=$(curl -s --data api_key=abc123 --data token=abc123 $EZ/exactdn/show.php)
has "$out" '"live_sites":0' && has "$out" '"sites":\[\]' && has "$out" '"licensed":"250"' && has "$out" '"interval":"month"' && ok "show.php example: the documented members" || bad "show.php" "$out"
out=$(curl -s --data api_key=abc123 --data token=abc123 --data site_url='https://www.example.com/' $EZ/exactdn/create.php)
has "$out" '"id":16' && has "$out" '"site_url":"https://www.example.com/"' && has "$out" '"dev":0' && has "$out" '"status":"success"' && has "$out" '"alias":"[a-z0-9]*.exactdn.com"' \
  && ok "create.php example: id, site_url, dev, alias, status" || bad "create.php" "$out"
alias=$(sed 's/.*"alias":"\([^"]*\)".*/\1/' <<<"$out")
curl -s --data api_key=abc123 --data site_url=https://www.example.net/ $EZ/exactdn/create.php >/dev/null
curl -s --data api_key=abc123 --data site_url=https://www.example.org/ $EZ/exactdn/create.php >/dev/null
out=$(curl -s --data api_key=abc123 --data site_id=16 --data webp=1 --data avif=1 $EZ/exactdn/config-update.php)
has "$out" '"success":1' && has "$out" '"webp":1' && has "$out" '"avif":1' && has "$out" '"watermark_min_size":300' && has "$out" '"asset_domains":""' && ok "config-update.php example" || bad "config-update.php" "$out"
out=$(curl -s --data api_key=abc123 --data site_id=16 --data custom_cname='cdn.example.net' $EZ/exactdn/cname.php)
[ "$out" = '{"success":"Custom hostname successfully added.","alias":"cdn.example.net"}' ] || [ "$out" = '{"alias":"cdn.example.net","success":"Custom hostname successfully added."}' ] \
  && ok "cname.php example: exactly the documented answer" || bad "cname.php" "$out"
out=$(curl -s --data api_key=abc123 --data site_id=16 $EZ/exactdn/cname-revert.php)
has "$out" "\"success\":\"Default hostname successfully restored: $alias\"" && has "$out" "\"alias\":\"$alias\"" && ok "cname-revert.php example" || bad "cname-revert.php" "$out"
out=$(curl -s --data api_key=abc123 --data token=abc123 --data site_id=18 $EZ/exactdn/remove.php)
[ "$out" = '{"success":true}' ] && ok "remove.php example: {\"success\": true}" || bad "remove.php" "$out"
# The page's savings example has an unbalanced quote; this is it, balanced.
out=$(curl -s --data alias='example.exactdn.com' $EZ/exactdn/savings.php)
[ "$out" = '{"error":"invalid alias"}' ] && ok "savings.php example: an unknown alias is an error in the documented form" || bad "savings.php error" "$out"
out=$(curl -s --data alias="$alias" $EZ/exactdn/savings.php)
has "$out" '"original":0' && has "$out" '"savings":0' && has "$out" '"quota":2000000000000' && has "$out" '"bandwidth":0' && ok "savings.php: original, savings, quota, bandwidth as integers" || bad "savings.php" "$out"
out=$(curl -s --data api_key=abc123 $EZ/api_key/create.php)
has "$out" '"success":1' && has "$out" '"sub_key":"' && ok "api_key/create.php example" || bad "api_key/create.php" "$out"
sub=$(sed 's/.*"sub_key":"\([^"]*\)".*/\1/' <<<"$out")
out=$(curl -s --data api_key=abc123 $EZ/api_key/show.php)
has "$out" "\"keys\":\[\"$sub\"\]" && has "$out" "\"limits\":{\"$sub\":\"0\"}" && has "$out" "\"labels\":{\"$sub\":\"\"}" && has "$out" '"stats":{' && has "$out" '"bill":{' \
  && ok "api_key/show.php example: maps indexed by the keys" || bad "api_key/show.php" "$out"
out=$(curl -s --data api_key=abc123 --data sub_key=$sub --data label='forfun' --data allowed=5000 --data site_limit=10 $EZ/api_key/change.php)
has "$out" '"success":1' && has "$out" '"label":"forfun"' && has "$out" '"allowed":5000' && has "$out" '"site_limit":10' && ok "api_key/change.php example" || bad "change.php" "$out"
out=$(curl -s --data api_key=abc123 --data sub_key=$sub $EZ/api_key/change.php)
has "$out" '"label":""' && has "$out" '"allowed":0' && has "$out" '"site_limit":0' && ok "change.php: omitted fields set to empty values" || bad "change.php blanking" "$out"
out=$(curl -s --data api_key=abc123 --data sub_key=$sub $EZ/api_key/remove.php)
has "$out" "\"sub_key\":\"$sub\"" && has "$out" '"success":1' && ok "api_key/remove.php example" || bad "api_key/remove.php" "$out"
out=$(curl -s --data api_key=wrong $EZ/api_key/create.php)
[ "$out" = '{"error":"API key not found"}' ] && ok "an unknown key: {\"error\": \"API key not found\"}" || bad "unknown key" "$out"
out=$(curl -s -A '' --data api_key=abc123 $EZ/exactdn/show.php)
has "$out" '"error":"a user-agent is required"' && ok "no user-agent: an error" || bad "user-agent" "$out"
out=$(curl -s -X PUT --data api_key=abc123 $EZ/exactdn/show.php)
[ "$out" = '{"error":"requests must use the POST method"}' ] && ok "PUT on an Easy IO path: Easy IO's error shape" || bad "PUT easyio" "$out"
out=$(curl -s -X DELETE $SP/read-domain/example.com)
has "$out" '"Status":-405' && ok "DELETE on a ShortPixel path: ShortPixel's shape" || bad "DELETE shortpixel" "$out"
out=$(curl -s "$SP/v2/api-status.php?key=%zz")
has "$out" '"Code":"-400"' && ok "a malformed query: 400 in ShortPixel's shape (and logged)" || bad "bad query" "$out"
out=$(curl -s $SP/add-domain/example.com/APIkey)
has "$out" '"Status":2' && ok "add-domain example" || bad "add-domain" "$out"
out=$(curl -s $SP/read-domain/example.com)
has "$out" '"Status":2' && ok "read-domain example" || bad "read-domain" "$out"
out=$(curl -s $SP/set-domain/example.com/APIkey)
has "$out" '"Status":2' && ok "set-domain example" || bad "set-domain" "$out"
out=$(curl -s "$SP/v2/api-status.php?key=APIkey")
has "$out" '"Status":{' && has "$out" '"Code":"2"' && has "$out" '"APICallsQuota":10000' && has "$out" '"APICallsMade":"0.00000000000"' && has "$out" '"Unlimited":"false"' && has "$out" '"DomainCheck":"Accessible"' \
  && ok "api-status.php example: counters as decimal strings with 11 decimals, as production sends them" || bad "api-status" "$out"
# ShortPixel's own PHP SDK (short-pixel-optimizer/shortpixel-php) asks for the key's
# status with a multipart POST of key, DomainCheck, ImagesCount and ThumbsCount.
out=$(curl -s -A "ShortPixel/1.8.1 PHP/8.2.7 curl/7.88.1" -F key=APIkey -F DomainCheck=example.com \
  -F ImagesCount=0 -F ThumbsCount=0 "$SP/v2/api-status.php")
has "$out" '"Code":"2"' && has "$out" '"Message":"Success"' && has "$out" '"APICallsQuota":10000' \
  && ok "the PHP SDK's exact request (multipart POST of key, DomainCheck, ImagesCount, ThumbsCount) is answered" || bad "SDK request" "$out"
out=$(curl -s -A "ShortPixel/1.8.1 PHP/8.2.7 curl/7.88.1" -F key=NoSuchKey -F DomainCheck=example.com "$SP/v2/api-status.php")
has "$out" '"Code":"-401"' && ok "the SDK's request with an unknown key is refused in the same shape" || bad "SDK refusal" "$out"
out=$(curl -s -d key=APIkey "$SP/v2/api-status.php")
has "$out" '"Code":"2"' && ok "api-status: the key in a form body, as the WordPress plugin sends it" || bad "api-status form" "$out"
out=$(curl -s $SP/read-domain-cdn-usage/example.com/APIkey)
has "$out" '"Email":"test@shortpixel.com"' && has "$out" '"UsedCDN":\[\]' && has "$out" '"APIQuotaOneTime":"5000.00000000000"' && ok "read-domain-cdn-usage example" || bad "usage" "$out"
out=$(curl -s $SP/purge-storage-bulk/APIkey/example.com)
has "$out" '"Status":2' && ok "purge-storage-bulk example" || bad "purge-storage" "$out"
out=$(curl -s $SP/purge-cdn-cache-bulk/APIkey/www.example.com)
has "$out" '"Status":-10' && ok "purge-cdn-cache-bulk of www when only the apex was added: refused" || bad "purge www" "$out"
out=$(curl -s $SP/revoke-domain/example.com/APIkey)
has "$out" '"Status":2' && ok "revoke-domain example" || bad "revoke" "$out"
grep -q 'abc123\|APIkey\|spDemo\|ez-demo' "$T/doc.log" && bad "the log never holds a key" "$(grep -m3 'abc123\|APIkey' "$T/doc.log")" || ok "the log never holds a key"
grep -q '"path":"/add-domain/example.com/\*\*\*\*"' "$T/doc.log" && grep -q '"api_key":"\*\*\*\*"' "$T/doc.log" && ok "the log shows keys masked, one JSON line per request" || bad "log masking" "$(head -3 "$T/doc.log")"
[ "$(wc -l <"$T/doc.log")" -ge 25 ] && ok "every request is logged" || bad "log lines: $(wc -l <"$T/doc.log")"

# --- malformed traffic: 4xx or a closed connection, and the server stays up
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/read-domain/$(head -c 100000 /dev/zero | tr '\0' a).com")
[ "$code" = 414 ] || [ "$code" = 431 ] || [ "$code" = 400 ] || [ "$code" = 000 ] && ok "a 100 KB path: $code" || bad "100 KB path: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SURL/read-domain/ex%ample.com")
[ "$code" = 400 ] && ok "bad percent-encoding: 400" || bad "bad escape: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Length: 1000000000' --data x "$SURL/exactdn/show.php")
[ "$code" = 413 ] && ok "a Content-Length of a gigabyte: 413 before reading" || bad "huge content-length: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$BIN" "$SURL/exactdn/show.php")
[ "$code" = 413 ] || [ "$code" = 415 ] && ok "a binary body that is not form data: $code" || bad "binary body: $code"
head -c 4096 /dev/urandom >"$T/junk"
python3 - "$SURL" "$T/junk" <<'PY' && ok "random bytes on the socket: answered or closed" || bad "random bytes"
import socket, sys
host, port = sys.argv[1].split("//")[1].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(open(sys.argv[2], "rb").read() + b"\r\n\r\n")
try:
    data = s.recv(100)
    sys.exit(0 if data == b"" or data.startswith(b"HTTP/1.1 4") else 1)
except (ConnectionResetError, socket.timeout):
    sys.exit(0)
PY
out=$(curl -s "$SURL/read-domain/example.com")
has "$out" '"Status":' && ok "still serving after malformed traffic" || bad "sandbox died" "$(cat "$T/doc.err")"

# --- 256 concurrent connections, with 64 slowloris clients holding sockets
python3 - "$SURL" >"$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
socks = []
for i in range(64):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /read-domain/example.com HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
print("connected", flush=True)
for _ in range(20):  # one header line per socket every 0.2 s, never finishing
    for s in socks:
        try: s.sendall(b"X-a: b\r\n")
        except OSError: pass
    time.sleep(0.2)
PY
SLOW=$!
cleanup_pid $SLOW
for _ in $(seq 600); do grep -q '^connected' "$T/slow.out" && break; sleep 0.05; done # the 64 hold their sockets
for i in $(seq 1 1024); do echo "url = \"$SURL/read-domain/example.com\""; echo 'output = "/dev/null"'; echo 'write-out = "%{http_code}\n"'; done >"$T/many.cfg"
curl -s --parallel --parallel-max 256 --parallel-immediate -K "$T/many.cfg" >"$T/codes" 2>&1
[ "$(grep -c '^200$' "$T/codes")" = 1024 ] && ok "1024 requests over 256 concurrent connections, all 200, while 64 slowloris clients wait" || bad "concurrency: $(sort "$T/codes" | uniq -c)"
rss=$(awk '/VmRSS/ {print $2}' /proc/$doc_PID/status)
if [ "${CDNCTL_SANITIZE:-OFF}" = ON ]; then ok "memory after load (not measured under sanitizers)"
else [ "$rss" -lt 65536 ] && ok "memory bounded after load: RSS ${rss} kB" || bad "RSS ${rss} kB after load"; fi
kill $SLOW 2>/dev/null; wait $SLOW 2>/dev/null

# --- the state file: SIGTERM saves; kill -9 during writes leaves a whole file
start_sandbox st --pending 0 --state "$T/state.json"
export CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL \
  SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
"$BIN" -e 'assert(shortpixel.add_domain("kept.example.com")); assert(easyio.create_site("https://kept.example.com/"))' >"$T/out" 2>&1 \
  && ok "changes through the bindings" || bad "bindings against the sandbox" "$(cat "$T/out")"
[ "$(stat -c %a "$T/state.json")" = 600 ] && ok "the state file is private (0600)" || bad "state mode $(stat -c %a "$T/state.json")"
kill -TERM $st_PID; wait $st_PID; st=$?
[ $st = 0 ] && grep -q "state saved" "$T/st.err" && ok "SIGTERM stops it cleanly, saying the state is saved" || bad "SIGTERM ($st)" "$(cat "$T/st.err")"
start_sandbox st2 --pending 0 --state "$T/state.json"
export CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL
out=$("$BIN" -e 'print(shortpixel.read_domain("kept.example.com").HasAccount, #easyio.show_sites("https://kept.example.com/").sites)' 2>&1)
[ "$out" = "true	1" ] && ok "a restart with --state finds the domain and the site" || bad "state reload" "$out"
"$BIN" -e 'cdnctl.parallel((function() local i = 0 return function() i = i + 1 if i <= 3000 then return i end end end)(),
  function(i) shortpixel.add_domain("w" .. i .. ".example.com") end, { concurrency = 16 })' >/dev/null 2>&1 &
W=$!
cleanup_pid $W
for _ in $(seq 100); do [ "$(grep -o '"w[0-9]*.example.com"' "$T/state.json" 2>/dev/null | wc -l)" -ge 50 ] && break; sleep 0.05; done
kill -9 $st2_PID; wait $st2_PID 2>/dev/null; kill $W 2>/dev/null; wait $W 2>/dev/null
n=$(grep -o '"w[0-9]*.example.com"' "$T/state.json" | wc -l)
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/state.json" && ok "kill -9 while writing: the state file is whole JSON ($n domains in it)" || bad "half-written state"
ls "$T" | grep -q 'state.json.tmp' && ok "(a temporary file may remain after kill -9; it is never read)" || ok "no temporary file left"
start_sandbox st3 --pending 0 --state "$T/state.json"
out=$(curl -s "$SURL/read-domain/kept.example.com")
has "$out" '"Status":2' && ok "the state written before kill -9 loads" || bad "load after kill -9" "$out $(cat "$T/st3.err")"

# --- faults and latency, repeatable under --seed
start_sandbox f1 --faults 500:0.3,429:0.2,reset:0.1 --seed 7 --log "$T/f1.log"
for i in $(seq 30); do curl -s -o /dev/null "$SURL/read-domain/example.com"; done
start_sandbox f2 --faults 500:0.3,429:0.2,reset:0.1 --seed 7 --log "$T/f2.log"
for i in $(seq 30); do curl -s -o /dev/null "$SURL/read-domain/example.com"; done
f1=$(grep -o '"fault":"[a-z0-9]*"' "$T/f1.log" | tr '\n' ' ') f2=$(grep -o '"fault":"[a-z0-9]*"' "$T/f2.log" | tr '\n' ' ')
[ -n "$f1" ] && [ "$f1" = "$f2" ] && ok "the same --seed gives the same faults" || bad "faults not repeatable" "$f1 / $f2"
grep -q '"fault":"500"' "$T/f1.log" && grep -q '"fault":"429"' "$T/f1.log" && grep -q '"fault":"reset"' "$T/f1.log" && ok "each kind of fault happens" || bad "fault kinds" "$f1"
hdr=$(for i in $(seq 40); do curl -s -D - -o /dev/null "$SURL/read-domain/example.com"; done | grep -i '^retry-after' | head -1)
has "$hdr" "Retry-After: 1" && ok "429 answers carry Retry-After" || bad "no Retry-After" "$hdr"
# --latency holds an answer after the request is handled: with ten minutes
# of it, the request is in the log while its answer has not come
start_sandbox lat --latency 600000 --log "$T/lat.log"
curl -s -o /dev/null "$SURL/read-domain/example.com" &
LAT=$!
cleanup_pid $LAT
for _ in $(seq 600); do grep -q 'read-domain' "$T/lat.log" 2>/dev/null && break; sleep 0.05; done
grep -q 'read-domain' "$T/lat.log" && kill -0 $LAT 2>/dev/null && ok "--latency delays an answer: handled, not yet answered" \
  || bad "latency" "$(cat "$T/lat.log" "$T/lat.err")"
kill $LAT 2>/dev/null; wait $LAT 2>/dev/null
finish
