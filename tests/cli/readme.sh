#!/usr/bin/env bash
# The README's own Lua examples run as written, against the embedded sandbox.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config
unset SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_PROFILE
awk -v dir="$T" '/^```lua$/ { n++; f = dir "/example" n ".lua"; inblock = 1; next }
  /^```$/ { inblock = 0; next } inblock { print > f }' "$SRC/README.md"
n=$(ls "$T"/example*.lua 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && ok "the README has $n Lua examples" || bad "no Lua example found in the README"
for f in "$T"/example*.lua; do
  "$BIN" --sandbox "$f" >"$f.out" 2>&1; st=$?
  [ $st = 0 ] && ! grep -qi "error\|attempt to\|bad argument" "$f.out" \
    && ok "README example $(basename "$f") runs as written" || bad "README example $(basename "$f") ($st)" "$(cat "$f" "$f.out")"
done
finish
