#!/usr/bin/env bash
# The sandbox's limits (1 MiB of body, 8 KiB of request head) are answered
# by the rules in the shape of the service the path belongs to: server.c
# hands the violation to Lua and writes no answer body of its own. A
# ShortPixel path gets {"Status": -413, "Message"}, api-status its
# {"Status": {"Code", "Message"}}, an Easy IO path {"error"}, /_sandbox/
# its own {"error"}; and the request is logged.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox lim --pending 0 --log "$T/lim.log"
head -c 1100000 /dev/zero | tr '\0' a >"$T/big"

# req NAME CURL-ARGS...: the answer's status in $code, its body in $T/NAME
req() { local n=$1; shift; code=$(curl -s -o "$T/$n" -w '%{http_code}' "$@"); body=$(cat "$T/$n"); }
# json FILE EXPR: EXPR of the decoded body, printed by cdnctl itself
json() { "$BIN" -e "local j=require('cdnctl.json').decode(io.open('$T/$1'):read('a')); print($2)" 2>&1; }

req sp_cl -H 'Content-Length: 2000000' --data x "$SURL/add-domain/example.com"
[ "$code" = 413 ] && [ "$(json sp_cl 'j.Status, j.Message ~= nil, j.error')" = "-413	true	nil" ] \
  && ok "a Content-Length over 1 MiB on a ShortPixel path: 413 in ShortPixel's shape" || bad "sp content-length ($code)" "$body"
req sp_up -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$T/big" "$SURL/read-domain/example.com"
[ "$code" = 413 ] && [ "$(json sp_up 'j.Status')" = "-413" ] \
  && ok "a body over 1 MiB on a ShortPixel path: 413 in ShortPixel's shape" || bad "sp body ($code)" "$body"
req sp_chunk -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$SURL/add-domain/example.com"
[ "$code" = 413 ] && [ "$(json sp_chunk 'j.Status')" = "-413" ] \
  && ok "a chunked body growing past 1 MiB: 413 in ShortPixel's shape" || bad "sp chunked ($code)" "$body"
req st_cl -H 'Content-Length: 2000000' --data x "$SURL/v2/api-status.php"
[ "$code" = 413 ] && [ "$(json st_cl 'j.Status.Code, type(j.Status.Message)')" = "-413	string" ] \
  && ok "over 1 MiB to api-status: its own shape, Status an object" || bad "api-status limit ($code)" "$body"
req ez_cl -H 'Content-Length: 2000000' --data x "$SURL/exactdn/show.php"
[ "$code" = 413 ] && [ "$(json ez_cl 'type(j.error), j.Status')" = "string	nil" ] \
  && ok "over 1 MiB on an Easy IO path: 413 in Easy IO's shape" || bad "ez limit ($code)" "$body"
req ad_cl -H 'Content-Length: 2000000' --data x "$SURL/_sandbox/clock"
[ "$code" = 413 ] && [ "$(json ad_cl 'type(j.error)')" = "string" ] \
  && ok "over 1 MiB on /_sandbox/: 413 in its own shape" || bad "admin limit ($code)" "$body"

long=$(head -c 9000 /dev/zero | tr '\0' b)
req sp_head -H "X-Long: $long" "$SURL/read-domain/example.com"
[ "$code" = 431 ] && [ "$(json sp_head 'j.Status')" = "-431" ] \
  && ok "a request head over 8 KiB on a ShortPixel path: 431 in ShortPixel's shape" || bad "sp head ($code)" "$body"
req ez_head -H "X-Long: $long" --data api_key=x "$SURL/exactdn/show.php"
[ "$code" = 431 ] && [ "$(json ez_head 'type(j.error)')" = "string" ] \
  && ok "a request head over 8 KiB on an Easy IO path: 431 in Easy IO's shape" || bad "ez head ($code)" "$body"
req sp_path "$SURL/read-domain/$(head -c 9000 /dev/zero | tr '\0' a).com"
[ "$code" = 431 ] || [ "$code" = 414 ] && [ "$(json sp_path 'j.Status')" = "-$code" ] \
  && ok "a 9 KB path on a ShortPixel route: $code in ShortPixel's shape" || bad "sp long path ($code)" "$body"

req ok_after "$SURL/read-domain/example.com"
[ "$code" = 200 ] && ok "still serving after the limits" || bad "after limits ($code)" "$body"
grep -q '"status":413' "$T/lim.log" && grep -q '"status":431' "$T/lim.log" \
  && ok "limit violations are logged with their status" || bad "log" "$(tail -5 "$T/lim.log")"
finish
