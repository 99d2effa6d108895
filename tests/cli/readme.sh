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
  if head -1 "$f" | grep -q '^-- ~/.config/cdnctl/config.lua'; then # a config file: cdnctl must read it as one
    mkdir -p "$T/config/cdnctl" && cp "$f" "$T/config/cdnctl/config.lua" && chmod 600 "$T/config/cdnctl/config.lua"
    "$BIN" profiles --json >"$f.out" 2>&1; st=$?
    n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["profiles"]))' "$f.out" 2>/dev/null)
    [ $st = 0 ] && [ "${n:-0}" -ge 3 ] && ok "README's config example is a valid config file ($n profiles)" || bad "README config example ($st)" "$(cat "$f.out")"
    continue
  fi
  "$BIN" --sandbox "$f" >"$f.out" 2>&1; st=$?
  [ $st = 0 ] && ! grep -qi "error\|attempt to\|bad argument" "$f.out" \
    && ok "README example $(basename "$f") runs as written" || bad "README example $(basename "$f") ($st)" "$(cat "$f" "$f.out")"
done
# The README's sandbox --env pattern, run as written with this build's cdnctl first in PATH.
awk '/^cdnctl sandbox --env --state rehearsal.json/,/^kill /' "$SRC/README.md" >"$T/env-snippet.sh"
(cd "$T" && PATH="$(dirname "$BIN"):$PATH" timeout 60 bash -e "$T/env-snippet.sh") >"$T/env-snippet.out" 2>&1; st=$?
[ $st = 0 ] && [ "$(grep -c 'check ok' "$T/env-snippet.out")" = 2 ] && grep -q "state saved" "$T/env-snippet.out" \
  && ok "README's sandbox --env pattern runs as written (whoami sees the sandbox, kill saves the state)" || bad "README --env pattern ($st)" "$(cat "$T/env-snippet.sh" "$T/env-snippet.out")"
finish
