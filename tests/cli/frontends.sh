#!/usr/bin/env bash
# The command line as people meet it: cdnctl run NAME (installed and from a
# build), cdnctl profiles (URLs, the active profile, --json, --help),
# did-you-mean for a CLI flag and a config field; global options after a
# subcommand, unknown commands, cdnctl version, and call's own options.
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
start_sandbox sb --pending 0
SBX=$SURL
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
# --- global options after a built-in subcommand
cat >"$T/config/cdnctl/config.lua" <<LUA
return { default_profile = "bistro", profiles = {
  bistro = { shortpixel_key = "spDemoAgency00000001", easyio_key = "ez-demo-account-0001",
             shortpixel_url = "$SBX", shortpixel_api_url = "$SBX", easyio_url = "$SBX" },
  other = { shortpixel_key = "spDemoOther000000002", easyio_key = "ez-demo-account-0001",
            shortpixel_url = "$SBX", shortpixel_api_url = "$SBX", easyio_url = "$SBX" },
} }
LUA
"$BIN" call shortpixel.read_domain flags.example --profile other -v --har "$T/a.har" --quiet >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q '"HasAccount"' "$T/out" && grep -q "spDemoOther\|flags.example" "$T/a.har" && grep -q "GET " "$T/err" \
  && ok "call OP ARG --profile P -v --har F --quiet: the options after call are cdnctl's" || bad "flags after call ($st)" "$(cat "$T/out" "$T/err")"
"$BIN" whoami --profile other --offline >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "from profile 'other'" "$T/out" && ok "whoami --profile P" || bad "whoami --profile ($st)" "$(cat "$T/out")"
"$BIN" profiles --profile other >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -qE '^\* +other ' "$T/out" && ok "profiles --profile P marks P" || bad "profiles --profile ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain flags.example --profile=other --sandbox >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q '"HasAccount"' "$T/out" && ok "--opt=VALUE and --sandbox after call" || bad "--profile= after call ($st)" "$(cat "$T/out")"
"$BIN" --profile bistro call shortpixel.read_domain flags.example --profile other >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "profile is given twice, as 'bistro' and as 'other'" "$T/out" \
  && ok "--profile twice with two names: a usage error" || bad "profile twice ($st)" "$(cat "$T/out")"
"$BIN" --profile other call shortpixel.read_domain flags.example --profile other >"$T/out" 2>&1; st=$?
[ $st = 0 ] && ok "--profile twice with the same name is one" || bad "profile twice, same ($st)" "$(cat "$T/out")"
printf 'print(table.concat(arg, " "))\n' >"$T/args.lua"
"$BIN" "$T/args.lua" --profile other -v >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = "--profile other -v" ] && ok "after a script path the words are the script's" || bad "script args ($st)" "$(cat "$T/out")"
"$BIN" run report --profile nosuch --bogus >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--bogus'" "$T/out" && ! grep -q "nosuch" "$T/out" \
  && ok "after run NAME the words are the script's" || bad "run args ($st)" "$(cat "$T/out")"

# --- subcommands are not file names
for c in "cal call" "profile profiles" "versoin version" "hlep help" "whoamI whoami"; do
  set -- $c
  (cd "$T" && "$BIN" "$1" shortpixel.read_domain x.com) >"$T/out" 2>&1; st=$?
  [ $st = 2 ] && grep -q "unknown command '$1'; did you mean '$2'?" "$T/out" \
    && ok "cdnctl $1: an unknown command, did you mean '$2' (exit 2)" || bad "unknown command $1 ($st)" "$(cat "$T/out")"
done
printf 'print("the file cal ran")\n' >"$T/cal"
(cd "$T" && "$BIN" cal) >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "the file cal ran" "$T/out" && ok "a word naming a file is a script" || bad "file cal ($st)" "$(cat "$T/out")"
printf 'print("the file version ran")\n' >"$T/version"
(cd "$T" && "$BIN" version) >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "^cdnctl [0-9]" "$T/out" && ! grep -q "file version ran" "$T/out" \
  && ok "a subcommand wins over a file of the same name" || bad "subcommand vs file ($st)" "$(cat "$T/out")"
(cd "$T" && "$BIN" ./version) >"$T/out" 2>&1
grep -q "the file version ran" "$T/out" && ok "./version is the file" || bad "./version" "$(cat "$T/out")"
"$BIN" --output json call shortpixel.read_domain x.com >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--output is an option of call" "$T/out" && ok "an option of call before call names call" || bad "--output before call ($st)" "$(cat "$T/out")"
"$BIN" -V >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean '-v'" "$T/out" && ok "-V: did you mean -v" || bad "-V ($st)" "$(cat "$T/out")"

# --- did-you-mean everywhere: each command's own options and names
"$BIN" run report --htm x.html >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--htm' (did you mean '--html'?)" "$T/out" && ok "a script's option: --htm, did you mean --html" || bad "--htm ($st)" "$(cat "$T/out")"
"$BIN" run keys lst >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown command 'lst'; did you mean 'list'?" "$T/out" && ok "a script's subcommand: keys lst, did you mean list" || bad "keys lst ($st)" "$(cat "$T/out")"
"$BIN" run purge -V >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '-V'" "$T/out" && ! grep -q "did you mean '-[ev]'" "$T/out" && ! grep -q "has no dot" "$T/out" \
  && ok "a script's -V: an unknown option, never a domain, no suggestion from cdnctl's options" || bad "purge -V ($st)" "$(cat "$T/out")"
"$BIN" run report -- --odd.csv >"$T/out" 2>&1; st=$?
grep -q "cannot read --odd.csv" "$T/out" && ok "a script's -- ends its options" || bad "report -- ($st)" "$(cat "$T/out")"
"$BIN" whoami -V >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '-V' (did you mean '-v'?)" "$T/out" && ok "whoami -V: did you mean -v" || bad "whoami -V ($st)" "$(cat "$T/out")"
"$BIN" whoami --oflfine >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--oflfine' (did you mean '--offline'?)" "$T/out" && ok "whoami --oflfine: did you mean --offline" || bad "whoami --oflfine ($st)" "$(cat "$T/out")"
"$BIN" profiles --jsno >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--jsno' (did you mean '--json'?)" "$T/out" && ok "profiles --jsno: did you mean --json" || bad "profiles --jsno ($st)" "$(cat "$T/out")"
echo 'shortpxel.add_domain("x.com")' | "$BIN" >"$T/out" 2>&1; st=$?
[ $st = 1 ] && grep -q "global 'shortpxel') (did you mean shortpixel?)" "$T/out" && ok "a misspelt global: did you mean shortpixel" || bad "shortpxel ($st)" "$(cat "$T/out")"
# --- version
for v in version --version; do
  "$BIN" $v >"$T/out" 2>&1; st=$?
  commit=$(sed -n 's/^cdnctl [0-9][^ ]* (commit \([0-9a-f]*\)\(-dirty\)\{0,1\}, Lua 5\.4)$/\1/p' "$T/out")
  if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    [ $st = 0 ] && [ -n "$commit" ] && git -C "$SRC" cat-file -e "$commit^{commit}" 2>/dev/null \
      && ok "cdnctl $v: the version and a commit of this tree" || bad "$v ($st)" "$(cat "$T/out")"
  else
    [ $st = 0 ] && grep -q "unknown commit" "$T/out" && ok "cdnctl $v: unknown commit without git" || bad "$v ($st)" "$(cat "$T/out")"
  fi
done
mkdir -p "$T/nogit"
cmake -DSRC="$T/nogit" -DOUT="$T/nogit/commit.h" -P "$SRC/cmake/commit.cmake" >"$T/out" 2>&1
grep -q '#define CDNCTL_COMMIT ""' "$T/nogit/commit.h" && ok "a source tree without git: no commit (cdnctl says unknown commit)" \
  || bad "commit without git" "$(cat "$T/out" "$T/nogit/commit.h")"
# --- call's own options and fields
export CDNCTL_PROFILE=bistro
"$BIN" call easyio.show_sites --json >"$T/out" 2>&1; st=$?
[ $st = 0 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" && ok "call OP --json is --output json" || bad "--json ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --json --output table >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--json and --output table" "$T/out" && ok "call --json with --output table: refused" || bad "--json vs table ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --bogus >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--bogus'" "$T/out" && ! grep -q "site_url" "$T/out" \
  && ok "an argument starting with -- is never a positional value" || bad "--bogus ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain x.com --outptu json >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '--outptu' (did you mean '--output'?)" "$T/out" && ok "call --outptu: did you mean --output" || bad "--outptu ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain x.com --profle other >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean '--profile'" "$T/out" && ok "call --profle: did you mean --profile (cdnctl's options count after call)" || bad "--profle ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain x.com -V >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown option '-V' (did you mean '-v'?)" "$T/out" && ok "call -V: did you mean -v, never -e" || bad "call -V ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain x.com refersh=true >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "has no field or option 'refersh' (did you mean 'refresh'?)" "$T/out" && ok "call refersh=true: did you mean refresh" || bad "refersh ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain -- flags.example >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q '"HasAccount"' "$T/out" && ok "call OP -- ARG: -- ends call's options" || bad "call -- ($st)" "$(cat "$T/out")"
# --- booleans read the same in call and in the bindings
"$BIN" call easyio.update_site_config 17 webp=yes avif=OFF --dry-run >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "webp=1" "$T/out" && grep -q "avif=0" "$T/out" && ok "call webp=yes avif=OFF: sent as 1 and 0" || bad "webp=yes ($st)" "$(cat "$T/out")"
"$BIN" -e 'local c = require("cdnctl.check"); print(c.flag("on", "webp"), c.flag("No", "webp"))' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = "$(printf '1\t0')" ] && ok "the bindings' flags read on and No" || bad "binding flags ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain flags.example refresh=On >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q '"HasAccount"' "$T/out" && ok "call refresh=On: a boolean option" || bad "refresh=On ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain flags.example refresh=maybe >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "refresh: must be true/false, 1/0, yes/no or on/off, got 'maybe'" "$T/out" \
  && ok "call refresh=maybe: refused, naming what a boolean may be" || bad "refresh=maybe ($st)" "$(cat "$T/out")"
"$BIN" call easyio.update_site_config 17 webp=maybe --dry-run >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "webp: must be true/false, 1/0, yes/no or on/off, got 'maybe'" "$T/out" \
  && ok "call webp=maybe: refused alike" || bad "webp=maybe ($st)" "$(cat "$T/out")"
finish
