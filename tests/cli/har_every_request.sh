#!/usr/bin/env bash
# The HAR (--har) and the -v trace hold every request the server received,
# the checks of creates included: under lost answers libcurl sends a request
# again on its own when its reused connection died before an answer, and
# that send is recorded and traced too. The sandbox's --log counts what it
# received.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_sandbox sb --pending 0 --faults lost:0.3,500:0.2 --seed 4 --log "$T/log"
use "$SURL"
export EASYIO_API_KEY=ez-demo-account-0001 SHORTPIXEL_API_KEY=spDemoAgency00000001
cat >"$T/run.lua" <<'LUA'
cdnctl.retry { settle = 0.05, base = 0.01, cap = 0.02 }
for i = 1, 10 do easyio.create_site("https://h" .. i .. ".example.com/") end
for _ = 1, 5 do easyio.create_key() end
LUA
"$BIN" -v --har "$T/run.har" "$T/run.lua" >"$T/out" 2>"$T/trace"; st=$?
served=$(wc -l <"$T/log")
recorded=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' "$T/run.har")
traced=$(grep -c '^cdnctl: \(POST\|GET\) ' "$T/trace")
[ $st = 0 ] && [ "$served" = "$recorded" ] && ok "the HAR holds every request the sandbox served ($served)" \
  || bad "HAR: $recorded entries, $served served ($st)" "$(tail -3 "$T/trace")"
[ "$served" = "$traced" ] && ok "the -v trace has a line for every request the sandbox served" || bad "trace: $traced lines, $served served"
grep -q 'libcurl sent it again' "$T/trace" && ok "libcurl's own resends are named in the trace" || bad "no resend traced (the seed no longer makes one)"
grep -q 'ez-demo-account-0001' "$T/trace" "$T/run.har" && bad "a key leaked" || ok "no key in the trace or the HAR"
finish
