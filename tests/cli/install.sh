#!/usr/bin/env bash
# `cmake --install` into a prefix: the binary, the man page (no warnings
# under man -l), bash completion (run in bash), the Lua module for the stock
# lua5.4, the ready scripts; and profiles through `cdnctl --profile X call`.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
BUILD=$(dirname "$BIN")

P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 && ok "cmake --install succeeds" || bad "cmake --install" "$(tail -5 "$T/install.log")"
[ -x "$P/bin/cdnctl" ] && ok "bin/cdnctl is installed" || bad "bin/cdnctl"
mkdir -p "$T/alone" && cp "$P/bin/cdnctl" "$T/alone/" && (cd "$T/alone" && ./cdnctl -e 'assert(shortpixel.add_domain and easyio.create_site); print("alone")') 2>&1 | grep -q '^alone$' \
  && ok "the binary copied alone into another folder still works (Lua library compiled in)" || bad "binary alone"
M=$P/share/man/man1/cdnctl.1
[ -f "$M" ] && ok "the man page is installed" || bad "man page installed"
warn=$(MANWIDTH=80 man --warnings -l "$M" 2>&1 >/dev/null)
[ -z "$warn" ] && ok "man -l --warnings renders the page without warnings" || bad "man warnings" "$warn"
text=$(MANWIDTH=200 man -l "$M" 2>/dev/null)
for s in SYNOPSIS OPTIONS OPERATIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES; do
  grep -q "^$s" <<<"$text" && ok "the man page has $s" || bad "man section $s"
done
grep -q "shortpixel.purge_cdn_cache_bulk(domain, \[opts\])" <<<"$text" && grep -q "easyio.change_key(sub_key, fields, \[opts\])" <<<"$text" \
  && ok "OPERATIONS lists the bindings from the table" || bad "operations in man"

C=$P/share/bash-completion/completions/cdnctl
[ -f "$C" ] && ok "bash completion is installed" || bad "completion installed"
comp() { # words... -> COMPREPLY, one per line
  PATH="$P/bin:$PATH" HOME=$T XDG_CONFIG_HOME=$T/config bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _cdnctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@"
}
[ "$(comp cdnctl ca)" = "call" ] && ok "completion: subcommands" || bad "complete subcommand" "$(comp cdnctl ca)"
comp cdnctl --sa | grep -qx -- "--sandbox" && ok "completion: options" || bad "complete options"
[ "$(comp cdnctl call shortpixel.purge_s)" = "shortpixel.purge_storage_bulk" ] && ok "completion: operation names after call" || bad "complete ops" "$(comp cdnctl call shortpixel.purge_s)"

mkdir -p "$T/config/cdnctl"
start_fixture # a profile's key goes to the profile's own URLs: here, the fixture's
cat >"$T/config/cdnctl/config.lua" <<LUA
return {
  default_profile = "clientA",
  profiles = {
    clientA = { shortpixel_key = "PROFILEkeyAAAA00001111", shortpixel_url = "$URL" },
    clientB = { shortpixel_key_cmd = "echo PROFILEkeyBBBB00002222; echo second-line", shortpixel_url = "$URL" },
    broken = { shortpixel_key_cmd = "exit 3", shortpixel_url = "$URL" },
  },
}
LUA
chmod 600 "$T/config/cdnctl/config.lua"
[ "$(comp cdnctl --profile cli)" = "$(printf 'clientA\nclientB')" ] && ok "completion: profile names after --profile" || bad "complete profiles" "$(comp cdnctl --profile cli)"

PRELOAD= LSAN=${ASAN_OPTIONS:-}
if [ "${CDNCTL_SANITIZE:-OFF}" = ON ]; then # a sanitized module needs its runtimes loaded first
  PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
  # No leak check in the stock lua5.4 process: LeakSanitizer's tracer crashes
  # there now and then ("Tracer caught signal 11", depending on the module's
  # layout: a tool bug, not a leak); cdnctl's own binaries are leak-checked
  # by every other test. Memory errors are still caught.
  LSAN="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
LUAOUT=$(cd "$T" && ASAN_OPTIONS=$LSAN LD_PRELOAD=$PRELOAD lua5.4 -e "package.cpath='$P/lib/lua/5.4/?.so;'..package.cpath; local c = require 'cdnctl'; print(type(c.shortpixel.add_domain), type(c.easyio.create_site), type(c.parallel))" 2>&1)
[ "$LUAOUT" = "$(printf 'function\tfunction\tfunction')" ] && ok "lua5.4 -e 'require \"cdnctl\"' gives shortpixel, easyio and parallel" || bad "lua module" "$LUAOUT"
LUAOUT=$(cd "$T" && ASAN_OPTIONS=$LSAN LD_PRELOAD=$PRELOAD lua5.4 -e "package.cpath='$P/lib/lua/5.4/?.so;'..package.cpath; local w, p = getmetatable(io.stdout).__index.write, print; require 'cdnctl'; require 'cdnctl.client'; print(getmetatable(io.stdout).__index.write == w, print == p, require('cdnctl.masking').installed())" 2>&1)
[ "$LUAOUT" = "$(printf 'true\ttrue\tfalse')" ] && ok "requiring the library masks nothing: only the front end installs the masking of writes" || bad "masking installed by require" "$LUAOUT"
[ -f "$P/share/cdnctl/scripts/onboard.lua" ] && ok "the ready scripts are installed under share/cdnctl/scripts" || bad "scripts installed"

# profiles against a fixture server
run() { env -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL -u CDNCTL_SHORTPIXEL_API_URL -u CDNCTL_EASYIO_URL HOME=$T XDG_CONFIG_HOME=$T/config CDNCTL_DEBUG=1 "$P/bin/cdnctl" "$@"; }
run call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"
grep -q "set-domain/example.com/\*\*\*\*1111 -> 200" "$T/err" && ok "the default profile's key is used" || bad "default profile" "$(cat "$T/err")"
run --profile clientB call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"
grep -q "set-domain/example.com/\*\*\*\*2222 -> 200" "$T/err" && ok "--profile X call uses the first line of X's key command" || bad "profile key cmd" "$(cat "$T/err")"
CDNCTL_PROFILE=clientB run call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"
grep -q "\*\*\*\*2222 -> 200" "$T/err" && ok "CDNCTL_PROFILE selects a profile" || bad "CDNCTL_PROFILE"
SHORTPIXEL_API_KEY=env-test-key-00003333 HOME=$T XDG_CONFIG_HOME=$T/config CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_DEBUG=1 "$P/bin/cdnctl" call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"
grep -q "\*\*\*\*3333 -> 200" "$T/err" && ok "the environment wins over the profile" || bad "env over profile" "$(cat "$T/err")"
run --profile broken call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "profile 'broken': shortpixel_key_cmd failed" "$T/err" && ok "a failing key command is a clear error naming the profile" || bad "broken key cmd ($st)" "$(cat "$T/err")"
run --profile nosuch call shortpixel.read_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "no profile 'nosuch'.*(profiles: broken, clientA, clientB)" "$T/err" && ok "an unknown profile is a usage error listing the profiles" || bad "unknown profile ($st)" "$(cat "$T/err")"
run profiles >"$T/out" 2>"$T/err"
grep -q "clientA.*\*\*\*\*1111.*(default)" "$T/out" && grep -q "clientB.*(from command)" "$T/out" && ! grep -q "PROFILEkey" "$T/out" \
  && ok "cdnctl profiles lists profiles with masked keys" || bad "profiles list" "$(cat "$T/out")"
chmod 644 "$T/config/cdnctl/config.lua"
run profiles >"$T/out" 2>"$T/err"
grep -q "warning: $T/config/cdnctl/config.lua holds API keys and others can read it" "$T/err" && ok "a readable config file holding keys gets a warning" || bad "mode warning" "$(cat "$T/err")"
echo 'return { profiles = { x = { shortpixel_key = os.getenv("HOME") } } }' >"$T/config/cdnctl/config.lua"
run profiles >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "attempt to index a nil value (global 'os')" "$T/err" && ok "the config file runs without os, io or require" || bad "sandboxed config ($st)" "$(cat "$T/err")"

finish
