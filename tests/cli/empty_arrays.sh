#!/usr/bin/env bash
# An empty JSON array in an answer stays an array: `"sites":[]` as the
# server sent it comes out as [] in every output format of `cdnctl call`
# (json compact and indented, csv, table), from a script's json.encode, and
# in the HAR.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_HAR
start_sandbox sb --pending 0
use "$SURL"

"$BIN" --har "$T/calls.har" call easyio.show_sites --output json >"$T/json" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -qF '"sites":[]' "$T/json" && ok "call --output json: \"sites\":[] as sent" \
  || bad "--output json ($st)" "$(cat "$T/json" "$T/err")"
python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); t=h["log"]["entries"][0]["response"]["content"]["text"]; sys.exit(0 if json.loads(t)["sites"] == [] else 1)' "$T/calls.har" \
  && ok "the HAR holds the answer's array as an array" || bad "HAR" "$(cat "$T/calls.har")"
"$BIN" call easyio.show_sites --output csv >"$T/csv" 2>"$T/err"
grep -qx 'sites,\[\]' "$T/csv" && ok "call --output csv: the sites cell is []" || bad "--output csv" "$(cat "$T/csv" "$T/err")"
"$BIN" call easyio.show_sites --output table >"$T/table" 2>"$T/err"
grep -qE '^sites +\[\]$' "$T/table" && ok "call --output table: the sites cell is []" || bad "--output table" "$(cat "$T/table" "$T/err")"
# indented JSON: stdout a terminal (a pty), with a watchdog
timeout 60 python3 - "$BIN" >"$T/tty" 2>&1 <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "call", "easyio.show_sites", "--output", "json"])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk: break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
PY
grep -qF '"sites": []' "$T/tty" && ok "indented JSON on a terminal: \"sites\": []" || bad "indented JSON" "$(cat "$T/tty")"
"$BIN" -e 'print(cdnctl.json.encode(assert(easyio.show_sites())))' >"$T/script" 2>"$T/err"
grep -qF '"sites":[]' "$T/script" && ok "a script's json.encode of the answer writes []" || bad "script" "$(cat "$T/script" "$T/err")"
finish
