#!/usr/bin/env bash
# --har FILE / CDNCTL_HAR: every HTTP exchange of a run, each attempt, as
# HAR 1.2 with keys and sub-keys masked, mode 0600, valid after every
# exchange (kill -9 included); and `cdnctl sandbox --compare FILE.har`, which
# replays a recording against a fresh sandbox and reports where the answers
# differ in shape (exit 0 none, 1 some, 2 not a HAR file).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
unset CDNCTL_HAR

# har_check FILE: python's verdict on FILE as HAR 1.2: "ok N" (N entries) or why not
har_check() {
  python3 - "$1" <<'PY'
import json, sys
try:
    h = json.load(open(sys.argv[1]))
except Exception as e:
    print("not JSON:", e); sys.exit(0)
log = h.get("log") if isinstance(h, dict) else None
def need(obj, keys, where):
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            print("missing", where + "." + k); sys.exit(0)
need(h, ["log"], "")
need(log, ["version", "creator", "entries"], "log")
need(log["creator"], ["name", "version"], "log.creator")
if log["version"] != "1.2": print("version", log["version"]); sys.exit(0)
for i, e in enumerate(log["entries"]):
    w = "entries[%d]" % i
    need(e, ["startedDateTime", "time", "request", "response", "cache", "timings"], w)
    need(e["request"], ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"], w + ".request")
    need(e["response"], ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"], w + ".response")
    need(e["response"]["content"], ["size", "mimeType"], w + ".response.content")
    need(e["timings"], ["send", "wait", "receive"], w + ".timings")
print("ok", len(log["entries"]))
PY
}
# har_q FILE EXPR: evaluate a python expression over h (the HAR) and print it
har_q() { python3 -c "import json,sys; h=json.load(open(sys.argv[1])); E=h['log']['entries']; print($2)" "$1"; }

start_sandbox sb --pending 0 --log "$T/sblog"
use "$SURL"
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001

cat >"$T/job.lua" <<'LUA'
assert(shortpixel.add_domain("example.com"))
assert(shortpixel.read_domain("example.com"))
assert(shortpixel.read_domain_cdn_usage("example.com"))
assert(shortpixel.api_status())
local site = assert(easyio.create_site("https://www.example.com/"))
assert(easyio.show_sites())
assert(easyio.update_site_config(site.id, { webp = true }))
assert(easyio.savings(site.alias))
local k = assert(easyio.create_key())
-- a sub-key is masked in every output: the test needs it in clear
local f = assert(io.open(arg[1], "w")); cdnctl.write_unmasked(f, k.sub_key, "\n"); f:close()
assert(easyio.show_keys())
assert(easyio.change_key(k.sub_key, { label = "client one" }))
assert(easyio.show_sites({ key = k.sub_key }))
assert(easyio.remove_key(k.sub_key))
assert(easyio.remove_site(site.id))
LUA

# --- recording ------------------------------------------------------------
printf 'old content, longer than nothing\n' >"$T/job.har"; chmod 644 "$T/job.har"
"$BIN" --har "$T/job.har" "$T/job.lua" "$T/subkey" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "a script runs with --har" || bad "script with --har ($st)" "$(cat "$T/err")"
v=$(har_check "$T/job.har")
[ "$v" = "ok $(wc -l <"$T/sblog")" ] && ok "the HAR is valid 1.2 with one entry per exchange ($v)" || bad "HAR check" "$v; log: $(wc -l <"$T/sblog")"
[ "$(stat -c %a "$T/job.har")" = 600 ] && ok "an existing file is truncated to mode 0600" || bad "mode $(stat -c %a "$T/job.har")"
grep -q "old content" "$T/job.har" && bad "the old content survived" || ok "the old content is gone"
SUB=$(cat "$T/subkey")
if grep -q -e spDemoAgency00000001 -e ez-demo-account-0001 -e "$SUB" "$T/job.har"; then
  bad "a key or sub-key is in the HAR" "$(grep -o -e spDemoAgency00000001 -e ez-demo-account-0001 -e "$SUB" "$T/job.har" | sort | uniq -c)"
else ok "no key and no sub-key in the HAR"; fi
grep -q '\*\*\*\*0001' "$T/job.har" && grep -q "\*\*\*\*${SUB: -4}" "$T/job.har" \
  && ok "keys and sub-keys show as **** and their last 4" || bad "masked forms missing"
[ "$(har_q "$T/job.har" "sorted(set(e['request']['method'] for e in E))")" = "['GET', 'POST']" ] \
  && ok "methods recorded" || bad "methods" "$(har_q "$T/job.har" "[e['request']['method'] for e in E]")"
har_q "$T/job.har" "[h['value'] for e in E for h in e['request']['headers'] if h['name'].lower()=='user-agent'][0]" | grep -q '^cdnctl/' \
  && ok "the User-Agent libcurl sends is recorded" || bad "no User-Agent"
[ "$(har_q "$T/job.har" "all(e['response']['status']==200 and e['response']['content'].get('text','').startswith('{') for e in E)")" = True ] \
  && ok "statuses and answer bodies recorded" || bad "statuses/bodies"
[ "$(har_q "$T/job.har" "all(p['value'].startswith('****') for e in E if 'postData' in e['request'] for p in e['request']['postData'].get('params',[]) if p['name'] in ('api_key','sub_key'))")" = True ] \
  && ok "api_key and sub_key form fields masked" || bad "form fields"

CDNCTL_HAR=$T/call.har "$BIN" call read_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(har_check "$T/call.har")" = "ok 1" ] && ok "CDNCTL_HAR records 'cdnctl call'" || bad "call ($st)" "$(cat "$T/err"; har_check "$T/call.har")"
[ "$(stat -c %a "$T/call.har")" = 600 ] && ok "a new file is created with mode 0600" || bad "new file mode $(stat -c %a "$T/call.har")"

"$BIN" --har /dev/null -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ -c /dev/null ] && ok "/dev/null is written in place" || bad "/dev/null ($st)" "$(cat "$T/err")"
"$BIN" --har /dev/stdout -e 'assert(shortpixel.read_domain("example.com"))' >"$T/stdout.har" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(har_check "$T/stdout.har")" = "ok 1" ] && ok "/dev/stdout gets a whole HAR" || bad "stdout ($st)" "$(cat "$T/err"; head -c 300 "$T/stdout.har")"

mkfifo "$T/fifo"; cat "$T/fifo" >"$T/fifo.har" & catpid=$!
"$BIN" --har "$T/fifo" -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
wait $catpid
[ $st = 0 ] && [ -p "$T/fifo" ] && [ "$(har_check "$T/fifo.har")" = "ok 1" ] && ok "a FIFO is written in place, a whole HAR at the end" || bad "fifo ($st)" "$(cat "$T/err")"

n0=$(wc -l <"$T/sblog")
"$BIN" --har "$T" -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ "$(wc -l <"$T/sblog")" = "$n0" ] \
  && ok "a directory is refused before any request (exit 2, one line)" || bad "directory ($st)" "$(cat "$T/err")"
"$BIN" --har 2>"$T/err" >/dev/null; st=$?
[ $st = 2 ] && ok "--har without a file is a usage error" || bad "--har alone ($st)"
"$BIN" --help >"$T/help.txt" 2>&1; grep -q -- '--har FILE' "$T/help.txt" && ok "--help documents --har" || bad "--help lacks --har" "$(cat "$T/help.txt")"

# a retried attempt is recorded as often as it was sent
start_sandbox faulty --faults 500:0.5 --seed 3 --log "$T/faultlog"
cat >"$T/retry.lua" <<'LUA'
cdnctl.retry { base = 0.001, cap = 0.002, attempts = 20 }
for i = 1, 8 do assert(shortpixel.add_domain("retry" .. i .. ".example.com")) end
LUA
CDNCTL_SHORTPIXEL_URL=$SURL "$BIN" --har "$T/retry.har" "$T/retry.lua" >"$T/out" 2>"$T/err"; st=$?
fails=$(har_q "$T/retry.har" "sum(1 for e in E if e['response']['status']==500)")
[ $st = 0 ] && [ "$(har_check "$T/retry.har")" = "ok $(wc -l <"$T/faultlog")" ] && [ "$fails" -ge 1 ] \
  && [ "$(har_q "$T/retry.har" "len(E)")" = $((8 + fails)) ] \
  && ok "every attempt is an entry: 8 calls, $fails answered 500 and retried" || bad "retries ($st)" "$(cat "$T/err"; har_check "$T/retry.har")"

# kill -9 mid-run: the file is a whole HAR up to the last exchange
cat >"$T/slow.lua" <<'LUA'
for i = 1, 3 do assert(shortpixel.read_domain("example.com")) end
local f = assert(io.open(arg[1], "w")); f:write("3\n"); f:close()
cdnctl.sleep(60)
LUA
"$BIN" --har "$T/killed.har" "$T/slow.lua" "$T/ready" >/dev/null 2>&1 &
kpid=$!; cleanup_pid $kpid
wait_file "$T/ready"; kill -9 $kpid; wait $kpid 2>/dev/null
[ "$(har_check "$T/killed.har")" = "ok 3" ] && ok "after kill -9 the HAR is valid with every exchange so far" || bad "kill -9" "$(har_check "$T/killed.har")"

# --- comparing ------------------------------------------------------------
cmp_run() { "$BIN" sandbox --compare "$1" >"$T/cmp.out" 2>"$T/cmp.err"; echo $?; }
st=$(cmp_run "$T/job.har")
[ "$st" = 0 ] && ok "--compare of an unaltered recording exits 0" || bad "unaltered ($st)" "$(cat "$T/cmp.out" "$T/cmp.err")"
grep -q '^#1 GET /add-domain/example.com/\*\*\*\*0001: same shape$' "$T/cmp.out" && tail -1 "$T/cmp.out" | grep -q "0 differ" \
  && ok "one line per exchange and a count" || bad "compare output" "$(cat "$T/cmp.out")"
grep -q -e spDemoAgency00000001 -e ez-demo-account-0001 "$T/cmp.out" && bad "a key in --compare's output" || ok "no key in --compare's output"
st=$(cmp_run "$T/retry.har")
[ "$st" = 0 ] && grep -q "skipped (recorded 500)" "$T/cmp.out" && ok "recorded 500s are skipped" || bad "500s ($st)" "$(cat "$T/cmp.out" "$T/cmp.err")"

# alter: python edits of the recorded answers (names taken from the recording itself)
alter() { # OUT PYTHON-STATEMENTS (h, E, J = decoded body of entry 2 (read-domain), put(J))
  python3 - "$T/job.har" "$1" "$2" <<'PY'
import json, sys
h = json.load(open(sys.argv[1])); E = h['log']['entries']
J = json.loads(E[1]['response']['content']['text'])
def put(j): E[1]['response']['content']['text'] = json.dumps(j)
exec(sys.argv[3])
json.dump(h, open(sys.argv[2], 'w'))
PY
}
member=$(python3 -c "import json,sys; h=json.load(open(sys.argv[1])); print(sorted(json.loads(h['log']['entries'][1]['response']['content']['text']))[0])" "$T/job.har")
alter "$T/removed.har" "del J['$member']; put(J)"
st=$(cmp_run "$T/removed.har")
[ "$st" = 1 ] && grep -q "^  $member: extra member" "$T/cmp.out" && grep -q '^#2 .*1 difference' "$T/cmp.out" \
  && ok "a member removed from a recorded answer is reported ($member)" || bad "removed ($st)" "$(cat "$T/cmp.out" "$T/cmp.err")"
alter "$T/added.har" "J['RecordedOnly'] = 'x'; put(J)"
st=$(cmp_run "$T/added.har")
[ "$st" = 1 ] && grep -q "^  RecordedOnly: missing (string expected)" "$T/cmp.out" \
  && ok "a member the sandbox lacks is reported" || bad "added ($st)" "$(cat "$T/cmp.out")"
alter "$T/typed.har" "J['$member'] = [1] if not isinstance(J['$member'], list) else 'x'; put(J)"
st=$(cmp_run "$T/typed.har")
[ "$st" = 1 ] && grep -q "^  $member: .* where list is expected\|^  $member: .* where string is expected" "$T/cmp.out" \
  && ok "a member of another JSON type is reported" || bad "type ($st)" "$(cat "$T/cmp.out")"
alter "$T/status.har" "E[1]['response']['status'] = 202"
st=$(cmp_run "$T/status.har")
[ "$st" = 1 ] && grep -q "^  status: 202 recorded, 200 from the sandbox" "$T/cmp.out" \
  && ok "a different status code is reported" || bad "status ($st)" "$(cat "$T/cmp.out")"
# a map keyed by sub-keys: the differences name them as the recording does, masked
mapname=$(python3 - "$T/job.har" "$T/keymap.har" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
for e in h['log']['entries']:
    if not e['request']['url'].endswith('/api_key/show.php'): continue
    J = json.loads(e['response']['content']['text'])
    for name, v in sorted(J.items()):
        if isinstance(v, dict) and len(v) > 1 and all(k.startswith('****') and isinstance(x, (str, int)) for k, x in v.items()):
            J[name] = {k: [1] for k in v}
            e['response']['content']['text'] = json.dumps(J)
            json.dump(h, open(sys.argv[2], 'w')); print(name); sys.exit(0)
PY
)
st=$(cmp_run "$T/keymap.har")
[ "$st" = 1 ] && [ -n "$mapname" ] && grep -q "^  $mapname\.\*\*\*\*[^ ]*: .* where list is expected" "$T/cmp.out" \
  && ! grep -q -e ez-demo -e "$SUB" "$T/cmp.out" && ok "differences inside a map keyed by sub-keys name them masked ($mapname)" \
  || bad "key map ($st, '$mapname')" "$(cat "$T/cmp.out")"
# state: drop the recorded create_site; what used the site is then unknown to the fresh sandbox
alter "$T/state.har" "h['log']['entries'] = [e for e in E if not e['request']['url'].endswith('/exactdn/create.php')]"
st=$(cmp_run "$T/state.har")
[ "$st" = 0 ] && grep -q "state, not comparable" "$T/cmp.out" \
  && ok "a success the fresh sandbox refuses for lack of state does not count" || bad "state ($st)" "$(cat "$T/cmp.out")"

"$BIN" --har "$T/empty.har" -e '' && [ "$(cmp_run "$T/empty.har")" = 0 ] && tail -1 "$T/cmp.out" | grep -q '^0 exchanges' \
  && ok "a recording of no exchange compares clean" || bad "empty recording" "$(cat "$T/empty.har" "$T/cmp.out" "$T/cmp.err")"
printf '{"a": 1}\n' >"$T/nothar.json"; printf 'hello\n' >"$T/text"
[ "$(cmp_run "$T/nothar.json")" = 2 ] && [ "$(cmp_run "$T/text")" = 2 ] && [ "$(cmp_run "$T/missing.har")" = 2 ] \
  && ok "a file that is not HAR, or is missing, exits 2" || bad "not HAR" "$(cat "$T/cmp.err")"
finish
