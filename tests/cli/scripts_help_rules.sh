#!/usr/bin/env bash
# Every ready script's --help states the key precedence as cdnctl.config
# applies it (one source for every service, the run's profile before the
# environment) and the output rules (checked before any request, against
# the inputs and each other; `-` is standard output, which carries one
# output; a regular file replaced atomically, keeping its mode).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
for s in onboard purge report keys watch; do
  timeout 20 "$BIN" "$SRC/scripts/$s.lua" --help >"$T/h" 2>&1; st=$?
  flat=$(tr '\n' ' ' <"$T/h" | tr -s ' ')
  [ $st = 0 ] && grep -q "come from one source" <<<"$flat" && grep -q "the run's profile (--profile NAME" <<<"$flat" \
    && ! grep -qi "environment wins\|environment first" <<<"$flat" \
    && ok "$s.lua --help states the one-source key rule" || bad "$s.lua --help keys ($st)" "$(cat "$T/h")"
  grep -q "Outputs: every output is checked before any request" <<<"$flat" \
    && grep -q "against every input and every other output" <<<"$flat" \
    && grep -q "'-' is standard output" <<<"$flat" && grep -q "replaced atomically and keeps its mode" <<<"$flat" \
    && ok "$s.lua --help states the output rules" || bad "$s.lua --help outputs" "$(cat "$T/h")"
done
finish
