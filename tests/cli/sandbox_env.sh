#!/usr/bin/env bash
# cdnctl sandbox --env: stdout holds only shell lines (export, unset, #
# comments naming the pid), flushed before it serves; sourcing them points
# a shell at the sandbox.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config CDNCTL_PROFILE=someone
"$BIN" sandbox --env --pending 0 >"$T/sandbox.env" 2>"$T/sandbox.err" &
PID=$!
cleanup_pid $PID
for _ in $(seq 200); do grep -q '^unset CDNCTL_PROFILE' "$T/sandbox.env" 2>/dev/null && break; sleep 0.05; done
bad_lines=$(grep -vE '^(export [A-Z_]+=[^ ]+( [A-Z_]+=[^ ]+)*|unset [A-Z_ ]+|#.*)$' "$T/sandbox.env")
[ -s "$T/sandbox.env" ] && [ -z "$bad_lines" ] && sh -n "$T/sandbox.env" \
  && ok "stdout holds only shell lines (export, unset, comments)" || bad "shell lines" "$(cat "$T/sandbox.env")$bad_lines"
grep -q "^# .*pid $PID" "$T/sandbox.env" && grep -q "kill $PID" "$T/sandbox.env" && ok "a comment names its pid and how to stop it" || bad "pid comment" "$(cat "$T/sandbox.env")"
grep -q '^unset CDNCTL_PROFILE' "$T/sandbox.env" && ok "it unsets CDNCTL_PROFILE" || bad "unset profile"
grep -q "serving" "$T/sandbox.err" && ! grep -q serving "$T/sandbox.env" && ok "everything else goes to stderr" || bad "stderr" "$(cat "$T/sandbox.err")"
out=$(. "$T/sandbox.env"; "$BIN" -e 'print(assert(shortpixel.add_domain("env.example.com")).Status, assert(easyio.show_sites()).licensed)' 2>&1)
[ "$out" = "2	250" ] && ok "sourcing the file points cdnctl at the sandbox, with its demo keys" || bad "sourced" "$out"
kill $PID; wait $PID; st=$?
[ $st = 0 ] && ok "kill PID stops it cleanly" || bad "stop ($st)"
finish
