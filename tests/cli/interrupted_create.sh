#!/usr/bin/env bash
# An interrupted create (create_site, create_key, keys.lua create) is handled
# like a lost answer: on the first signal cdnctl checks whether it took effect
# and prints the key or the site; after a second signal it does not check and
# says what may have been created and how to remove it. When standard output
# closes mid-create (SIGPIPE), the sub-key still gets its label and limits.
# The sandbox carries a request out, then holds its answer (--latency), so a
# signal sent once the state shows the change lands while the answer is on
# its way. Hangs are bounded by watchdogs, never by asserting a duration.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
KEYS=$SRC/scripts/keys.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_DEBUG

start_sandbox main --latency 3000 --pending 0
use "$SURL"

# The sandbox's sub-keys, "MASKED|label|allowed|site_limit" a line; its sites' URLs.
subkeys() {
  curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
for k, v in sorted(json.load(sys.stdin)["easyio"]["sub_keys"].items()):
    print("%s|%s|%s|%s" % (v["key"], v["label"], v["allowed"], v["site_limit"]))'
}
sites() {
  curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["easyio"]["sites"].values(): print(s["site_url"])'
}
# wait_for CMD PATTERN: until CMD's output matches PATTERN (20 s at most)
wait_for() { local i; for i in $(seq 400); do "$1" | grep -q "$2" && return 0; sleep 0.05; done; return 1; }
nkeys() { subkeys | wc -l; }
wait_more_keys() { local n=$1 i; for i in $(seq 400); do [ "$(nkeys)" -gt "$n" ] && return 0; sleep 0.05; done; return 1; }
# bg CMD...: cdnctl in the background, signalled directly (timeout(1) in
# front would swallow a second signal), with a watchdog of 60 s; sets pid
bg() { "$@" & pid=$!; ( sleep 60; kill -KILL $pid 2>/dev/null ) & cleanup_pid $!; }

# --- keys.lua create, Ctrl-C once the sub-key exists and its answer is on the way
n=$(nkeys)
bg "$BIN" "$KEYS" create --label "bistro" --allowed 500 >"$T/out" 2>"$T/err"
wait_more_keys "$n" || bad "the create never reached the sandbox"
kill -INT $pid; wait $pid; st=$?
new=$(subkeys | grep -v '^\*\*\*\*0001' | tail -1)
key=$(head -1 "$T/out")
[ $st = 130 ] && [ "$(wc -l <"$T/out")" = 1 ] && [ "${key: -4}" = "${new:4:4}" ] \
  && ok "keys.lua create, Ctrl-C in flight: it checks, finds the new sub-key and prints it; exit 130" \
  || bad "keys.lua create interrupted ($st)" "$(cat "$T/out" "$T/err"; subkeys)"
echo "$new" | grep -q '|bistro|500|' \
  && ok "keys.lua create, Ctrl-C in flight: the sub-key still gets its label and limits" || bad "label after Ctrl-C" "$(subkeys; cat "$T/err")"
grep -q "interrupted" "$T/err" && ! grep -q "traceback" "$T/err" \
  && ok "keys.lua create, Ctrl-C: stderr says it was interrupted, without a traceback" || bad "stderr" "$(cat "$T/err")"

# --- a second Ctrl-C during the check: no check, a message that says what may exist and how to remove it
n=$(nkeys)
bg "$BIN" "$KEYS" create --label "second" >"$T/out" 2>"$T/err"
wait_more_keys "$n" || bad "the create never reached the sandbox"
kill -INT $pid; sleep 0.5; kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && grep -q "a sub-key may have been created" "$T/err" && grep -q "keys.lua remove" "$T/err" \
  && grep -q "list --show-keys" "$T/err" && ! grep -q "traceback" "$T/err" \
  && ok "keys.lua create, a second Ctrl-C: no check, it says a sub-key may have been created and how to remove it; exit 130" \
  || bad "second Ctrl-C ($st)" "$(cat "$T/out" "$T/err")"
! grep -q "ez-demo-account-0001" "$T/out" "$T/err" && ok "no account key in its output" || bad "key leaked"

# --- SIGPIPE: standard output closes before the key is printed; label and limits are still set
n=$(nkeys)
( timeout -s KILL 60 "$BIN" "$KEYS" create --label "piped" --allowed 70 --site-limit 3 2>"$T/err"; echo $? >"$T/st" ) | true
new=$(subkeys | grep '|piped|' | tail -1)
[ "$(nkeys)" -gt "$n" ] && echo "$new" | grep -q '|piped|70|3$' \
  && ok "keys.lua create | (closed pipe): the sub-key still gets its label and limits" \
  || bad "SIGPIPE ($(cat "$T/st"))" "$(subkeys; cat "$T/err")"
[ "$(cat "$T/st")" = 1 ] && grep -q "could not print it" "$T/err" && grep -q "keys.lua remove" "$T/err" \
  && ok "keys.lua create | (closed pipe): it says the key could not be printed and how to see or remove it; exit 1" \
  || bad "SIGPIPE message ($(cat "$T/st"))" "$(cat "$T/err")"

# --- cdnctl call easyio.create_site, Ctrl-C once the site exists: it checks and prints the site
bg "$BIN" call easyio.create_site https://interrupted.example.com >"$T/out" 2>"$T/err"
wait_for sites "interrupted.example.com" || bad "the create never reached the sandbox"
kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && grep -q "interrupted.example.com" "$T/out" && grep -q "\"id\"" "$T/out" \
  && ok "call easyio.create_site, Ctrl-C in flight: it checks, finds the site and prints it; exit 130" \
  || bad "create_site interrupted ($st)" "$(cat "$T/out" "$T/err")"

# --- and a second Ctrl-C: the site's URL and how to find and remove it
bg "$BIN" call easyio.create_site https://twice.example.com >"$T/out" 2>"$T/err"
wait_for sites "twice.example.com" || bad "the create never reached the sandbox"
kill -INT $pid; sleep 0.5; kill -INT $pid; wait $pid; st=$?
[ $st = 130 ] && grep -q "https://twice.example.com/* may have been created" "$T/err" && grep -q "remove_site" "$T/err" \
  && ok "call easyio.create_site, a second Ctrl-C: it names the site that may exist and how to remove it; exit 130" \
  || bad "create_site second Ctrl-C ($st)" "$(cat "$T/out" "$T/err")"

# --- cdnctl call easyio.create_key, SIGTERM in flight: the same as a first Ctrl-C, exit 143
n=$(nkeys)
bg "$BIN" call easyio.create_key >"$T/out" 2>"$T/err"
wait_more_keys "$n" || bad "the create never reached the sandbox"
kill -TERM $pid; wait $pid; st=$?
[ $st = 143 ] && grep -q "sub_key" "$T/out" \
  && ok "call easyio.create_key, SIGTERM in flight: it checks and prints the new sub-key; exit 143" \
  || bad "create_key SIGTERM ($st)" "$(cat "$T/out" "$T/err")"
finish
