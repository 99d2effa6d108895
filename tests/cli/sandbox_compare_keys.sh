#!/usr/bin/env bash
# `cdnctl sandbox --compare` masks every position the operation table marks
# as a key ({key} in a path template; key, api_key, sub_key in a query or a
# form), whether or not the key is one cdnctl knows: a recording made by a
# browser's developer tools, or any tool that masked nothing, prints no key.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
unset CDNCTL_HAR SHORTPIXEL_API_KEY EASYIO_API_KEY

# A HAR of exchanges with keys in clear, as a tool that masks nothing writes it.
python3 - "$T/leaky.har" <<'PY'
import json, sys
def entry(method, url, status, answer, form=None):
    req = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
           "queryString": [], "headersSize": -1, "bodySize": -1}
    if form is not None:
        req["headers"] = [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}]
        req["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": form}
    return {"startedDateTime": "2026-12-01T00:00:00Z", "time": 1, "request": req,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                         "content": {"size": len(answer), "mimeType": "application/json", "text": answer},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}
sp, api, ez = "https://no-cdn.shortpixel.ai", "https://api.shortpixel.com", "https://optimize.exactlywww.com"
E = [
    entry("GET", sp + "/add-domain/har.example.org/LeakedProdKey1234567", 200, '{"Status": 2, "Message": "OK"}'),
    entry("GET", sp + "/purge-cdn-cache-bulk/LeakedPurgeKey7654321/har.example.org", 200, '{"Status": 2, "Message": "OK"}'),
    entry("GET", sp + "/purge-cdn-cache/LeakedPurgeOneKey11111/https%3A%2F%2Fhar.example.org%2Fa.png", 200, '{"Status": 2}'),
    entry("GET", api + "/v2/api-status.php?key=LeakedQueryKey9998887", 200, '{"Status": {"Code": 2}}'),
    entry("POST", ez + "/exactdn/show.php?api_key=LeakedEzQueryKey55555&x=1", 200, '{"sites": []}', "api_key=LeakedEzFormKey44444"),
    entry("POST", ez + "/api_key/remove.php?sub_key=LeakedSubKeyInQuery333", 200, '{"removed": true}', "api_key=LeakedEzFormKey44444"),
]
json.dump({"log": {"version": "1.2", "creator": {"name": "devtools", "version": "1"}, "entries": E, "pages": []}},
          open(sys.argv[1], "w"))
PY
"$BIN" sandbox --compare "$T/leaky.har" >"$T/out" 2>"$T/err"; st=$?
[ "$st" -le 1 ] && [ "$(grep -c '^#' "$T/out")" = 6 ] && ok "the recording is replayed, one line per exchange ($st)" \
  || bad "compare ($st)" "$(cat "$T/out" "$T/err")"
leaks=$(grep -o 'Leaked[A-Za-z]*Key[A-Za-z]*[0-9]*' "$T/out" "$T/err" | sort -u)
[ -z "$leaks" ] && ok "no key of the recording is printed" || bad "keys printed in clear" "$leaks"
grep -q '^#1 GET /add-domain/har.example.org/\*\*\*\*4567: ' "$T/out" \
  && ok "a {key} path segment is shown masked, in its place" || bad "path key" "$(cat "$T/out")"
grep -q '^#2 GET /purge-cdn-cache-bulk/\*\*\*\*4321/har.example.org: ' "$T/out" \
  && grep -q '^#3 GET /purge-cdn-cache/\*\*\*\*1111/https%3A%2F%2Fhar.example.org%2Fa.png: ' "$T/out" \
  && ok "a key first in the path is masked, what follows it is not" || bad "purge paths" "$(cat "$T/out")"
grep -q '^#4 GET /v2/api-status.php?key=\*\*\*\*8887: ' "$T/out" \
  && grep -q '^#5 POST /exactdn/show.php?api_key=\*\*\*\*5555&x=1: ' "$T/out" \
  && grep -q '^#6 POST /api_key/remove.php?sub_key=\*\*\*\*y333: ' "$T/out" \
  && ok "key, api_key and sub_key in a query are masked" || bad "query keys" "$(cat "$T/out")"
finish
