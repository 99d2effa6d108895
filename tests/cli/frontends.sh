#!/usr/bin/env bash
# The command line as people meet it: cdnctl run NAME (installed and from a
# build), cdnctl profiles (URLs, the active profile, --json, --help), and
# did-you-mean for a CLI flag and a config field.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
BUILD=$(dirname "$BIN")
export HOME=$T XDG_CONFIG_HOME=$T/config
unset SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_PROFILE CDNCTL_SHORTPIXEL_URL CDNCTL_SHORTPIXEL_API_URL CDNCTL_EASYIO_URL

# --- cdnctl run
"$BIN" run purge --help >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "usage: cdnctl scripts/purge.lua" "$T/out" && ok "cdnctl run purge: the ready script from the source tree, from a build" || bad "run purge ($st)" "$(cat "$T/out")"
"$BIN" run watch.lua --help >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "usage: cdnctl scripts/watch.lua" "$T/out" && ok "cdnctl run NAME.lua works too" || bad "run watch.lua ($st)" "$(cat "$T/out")"
"$BIN" run purg >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "no ready script 'purg'" "$T/out" && grep -q "did you mean 'purge'" "$T/out" \
  && ok "a missing ready script is a usage error (2), with did-you-mean" || bad "run missing ($st)" "$(cat "$T/out")"
"$BIN" run >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "onboard" "$T/out" && grep -q "watch" "$T/out" && ok "cdnctl run alone lists the ready scripts (exit 2)" || bad "run alone ($st)" "$(cat "$T/out")"
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1
mkdir -p "$T/elsewhere" && (cd "$T/elsewhere" && "$P/bin/cdnctl" run keys --help) >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "cdnctl scripts/keys.lua" "$T/out" && ok "an installed cdnctl runs <prefix>/share/cdnctl/scripts/keys.lua" || bad "installed run ($st)" "$(cat "$T/out")"
mv "$T/prefix/share/cdnctl/scripts/keys.lua" "$T/keys.moved"
(cd "$T/elsewhere" && "$P/bin/cdnctl" run keys --help) >"$T/out" 2>&1; st=$?
mv "$T/keys.moved" "$T/prefix/share/cdnctl/scripts/keys.lua"
[ $st = 2 ] && grep -q "share/cdnctl/scripts" "$T/out" && ok "an installed cdnctl does not fall back on another tree's scripts; the message names where it looked" || bad "installed missing ($st)" "$(cat "$T/out")"

# --- cdnctl profiles
mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<'LUA'
return { default_profile = "bistro", profiles = {
  bistro = { shortpixel_key = "BISTROkey00000000001", easyio_key = "bistro-ez-0001" },
  garage = { shortpixel_key_cmd = "pass show sp/garage", easyio_url = "https://api.exactlywww.net" },
} }
LUA
chmod 600 "$T/config/cdnctl/config.lua"
"$BIN" profiles >"$T/out" 2>&1; st=$?
grep -qE '^\* +bistro ' "$T/out" && grep -qE '^  +garage ' "$T/out" && grep -q "https://api.exactlywww.net" "$T/out" \
  && grep -q "https://no-cdn.shortpixel.ai" "$T/out" && ! grep -q "BISTROkey00000000001" "$T/out" \
  && ok "cdnctl profiles: each profile's URLs, the active one marked (default_profile), keys masked" || bad "profiles ($st)" "$(cat "$T/out")"
"$BIN" --profile garage profiles >"$T/out" 2>&1
grep -qE '^\* +garage ' "$T/out" && grep -qE '^  +bistro ' "$T/out" && ok "cdnctl --profile garage profiles marks garage" || bad "profiles --profile" "$(cat "$T/out")"
CDNCTL_PROFILE=garage "$BIN" profiles --json >"$T/out" 2>"$T/err"; st=$?
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["profiles"]}
assert d["active"] == "garage" and p["garage"]["active"] and not p["bistro"]["active"], d
assert p["garage"]["urls"]["easyio"] == "https://api.exactlywww.net" and p["bistro"]["shortpixel_key"].startswith("****"), p
assert p["garage"]["shortpixel_key"] == "(from command)", p
print("ok")
PY
[ $st = 0 ] && [ "$(cat "$T/check")" = ok ] && ok "cdnctl profiles --json: one JSON document" || bad "profiles --json ($st)" "$(cat "$T/check" "$T/out" "$T/err")"
"$BIN" profiles --help >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "usage: cdnctl \[--profile NAME\] profiles" "$T/out" && ok "cdnctl profiles --help" || bad "profiles --help ($st)" "$(cat "$T/out")"

# --- did you mean
"$BIN" --profle bistro -e 'print(1)' >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--profle' (did you mean '--profile'?)" "$T/out" && ok "an unknown CLI flag: did you mean" || bad "flag hint ($st)" "$(cat "$T/out")"
cat >"$T/config/cdnctl/config.lua" <<'LUA'
return { profiles = { bistro = { shortpixel_kye = "BISTROkey00000000001" } } }
LUA
"$BIN" profiles >"$T/out" 2>&1
grep -q "unknown field 'shortpixel_kye' (did you mean 'shortpixel_key'?)" "$T/out" && ok "an unknown config field: did you mean" || bad "config field hint" "$(cat "$T/out")"
finish
