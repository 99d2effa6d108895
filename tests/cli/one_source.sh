#!/usr/bin/env bash
# One source per call for every service: --sandbox, else the profile the
# call runs under (--profile, CDNCTL_PROFILE, a ready script's --profile),
# else the environment when it sets any of its variables, else the config's
# default_profile. A service that source does not configure has no key:
# nothing comes from a lower source (a migration note says once what the
# old rule would have mixed); one line says which lower sources were set
# and ignored. A profile with a key and a key command for one service, and
# two run profiles, are refused (exit 2). A key that cannot be had stops
# onboard's rows before any step and keeps the old results. whoami and
# profiles say what a profile lacks; every script's --help states the rule.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox prof --log "$T/prof.log"; PROF_URL=$SURL
start_sandbox envsb --log "$T/env.log"; ENV_URL=$SURL
SP=spDemoAgency00000001 EZ=ez-demo-account-0001
mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return {
  profiles = {
    shoponly = { shortpixel_key = "$SP", shortpixel_url = "$PROF_URL", shortpixel_api_url = "$PROF_URL" },
    both = { shortpixel_key = "$SP", easyio_key = "$EZ",
             shortpixel_url = "$PROF_URL", shortpixel_api_url = "$PROF_URL", easyio_url = "$PROF_URL" },
    cmd = { shortpixel_key = "$SP", easyio_key_cmd = "cat '$T/ezkey'",
            shortpixel_url = "$PROF_URL", shortpixel_api_url = "$PROF_URL", easyio_url = "$PROF_URL" },
  },
}
LUA
chmod 600 "$T/config/cdnctl/config.lua"
# go [VAR=value...] args...: cdnctl with the leftover environment of
# `. ./sandbox.env` pointing at the other sandbox, unless unset
go() {
  local vars=() unset=()
  while [[ ${1:-} == [A-Z]*=* || ${1:-} == -u ]]; do
    if [ "$1" = -u ]; then unset+=(-u "$2"); shift 2; else vars+=("$1"); shift; fi
  done
  env -u CDNCTL_PROFILE -u CDNCTL_HAR -u CDNCTL_DEBUG HOME=$T XDG_CONFIG_HOME=$T/config \
    SHORTPIXEL_API_KEY=$SP EASYIO_API_KEY=$EZ CDNCTL_SHORTPIXEL_URL=$ENV_URL \
    CDNCTL_SHORTPIXEL_API_URL=$ENV_URL CDNCTL_EASYIO_URL=$ENV_URL "${vars[@]}" env "${unset[@]}" "$BIN" "$@"
}
envreqs() { wc -l <"$T/env.log"; }

# --- a profile that names one service takes nothing from the environment
cd "$T" || exit 1
printf 'domain\nshop-a.example\nshop-b.example\n' >"$T/clients.csv"
n0=$(envreqs)
go --profile shoponly run onboard clients.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(envreqs)" = "$n0" ] && grep -q "profile 'shoponly' has no Easy IO key" "$T/err" \
  && ok "onboard under a ShortPixel-only profile: exit 2 naming the profile, nothing sent to the environment's account" \
  || bad "shoponly onboard ($st, $(($(envreqs) - n0)) requests to the environment's URLs)" "$(cat "$T/out" "$T/err")"
[ ! -e "$T/clients.results.csv" ] && ok "no results written for a run that could not start" || bad "results written" "$(cat "$T/clients.results.csv")"
grep -q "^prof.*add_domain\|add-domain" "$T/prof.log" && bad "a ShortPixel step ran before the missing Easy IO key stopped the rows" \
  || ok "the rows that need the missing key stop before any step"
go --profile shoponly -e 'print(easyio.show_sites())' >"$T/out" 2>"$T/err"; st=$?
[ "$(envreqs)" = "$n0" ] && grep -q "no Easy IO API key: profile 'shoponly' has no Easy IO key" "$T/out" \
  && ok "an Easy IO call under a ShortPixel-only profile fails naming the profile" || bad "shoponly call" "$(cat "$T/out" "$T/err")"
[ "$(grep -c 'note:.*EASYIO_API_KEY' "$T/err")" = 1 ] \
  && ok "the migration note says once what the old rule would have taken from the environment" || bad "migration note" "$(cat "$T/err")"
go --profile shoponly call easyio.show_sites >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "profile 'shoponly' has no Easy IO key" "$T/err" && ok "cdnctl call of a service the profile lacks: exit 2" \
  || bad "call shoponly ($st)" "$(cat "$T/out" "$T/err")"

# --- one line for the lower sources set and ignored
go --sandbox -e 'assert(shortpixel.api_status()); assert(easyio.show_keys())' >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(grep -c 'ignored' "$T/err")" = 1 ] && grep -q "the environment (SHORTPIXEL_API_KEY" "$T/err" \
  && ok "--sandbox over the environment: one line names what was set and ignored" || bad "one line ($st)" "$(cat "$T/err")"
go --profile both -e 'assert(shortpixel.api_status()); assert(easyio.show_keys())' >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(grep -c 'ignored' "$T/err")" = 1 ] && [ "$(envreqs)" = "$n0" ] \
  && ok "--profile over the environment: one line, every call to the profile's URLs" || bad "profile line ($st)" "$(cat "$T/err")"
go -u CDNCTL_EASYIO_URL EASYIO_API_KEY= -e 'print(easyio.show_keys())' >"$T/out" 2>"$T/err"
grep -q "no Easy IO API key: the environment has no Easy IO key" "$T/out" && [ "$(envreqs)" = "$n0" ] \
  && ok "the environment without an Easy IO key: no key, not the default profile's" || bad "env lacks ez" "$(cat "$T/out" "$T/err")"

# --- two silent choices, refused
cp "$T/config/cdnctl/config.lua" "$T/good.lua"
sed -i "s|shoponly = { shortpixel_key = \"$SP\",|shoponly = { shortpixel_key = \"$SP\", shortpixel_key_cmd = \"echo x\",|" "$T/config/cdnctl/config.lua"
go --profile shoponly -e 'print(1)' >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "profile 'shoponly' has both shortpixel_key and shortpixel_key_cmd" "$T/err" \
  && ok "a profile with a key and a key command for one service is refused (exit 2)" || bad "key and key_cmd ($st)" "$(cat "$T/err")"
cp "$T/good.lua" "$T/config/cdnctl/config.lua"
go --profile both run report clients.csv --profile shoponly >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "two profiles" "$T/err" && ok "--profile A run report --profile B is refused (exit 2)" || bad "two profiles ($st)" "$(cat "$T/err")"
go --profile both run report clients.csv --profile both >"$T/out" 2>"$T/err"; st=$?
[ $st != 2 ] && ! grep -q "two profiles" "$T/err" && ok "the same profile twice is one profile" || bad "same profile twice ($st)" "$(cat "$T/err")"

# --- a key command that fails on a rerun
echo "$EZ" >"$T/ezkey"
go --profile cmd run onboard clients.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q '^shop-a.example,ok' "$T/clients.results.csv" || bad "first onboard ($st)" "$(cat "$T/out" "$T/err")"
cp "$T/clients.results.csv" "$T/first.csv"
rm "$T/ezkey"
go --profile cmd run onboard clients.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && ! grep -q "done again" "$T/out" "$T/err" && grep -q "easyio_key_cmd failed" "$T/err" \
  && ok "a failing key command on a rerun: exit 1, says why, claims nothing done again" || bad "key cmd rerun ($st)" "$(cat "$T/out" "$T/err")"
cmp -s "$T/first.csv" "$T/clients.results.csv" && ok "the good results are kept" || bad "results replaced" "$(cat "$T/clients.results.csv")"

# --- whoami and profiles
go -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY --profile shoponly whoami --offline >"$T/out" 2>"$T/err"
grep -q "profile 'shoponly' has no easyio_key" "$T/out" && ! grep -q "set EASYIO_API_KEY" "$T/out" \
  && ok "whoami: a profile without an Easy IO key says so" || bad "whoami" "$(cat "$T/out" "$T/err")"
go profiles >"$T/out" 2>"$T/err"
grep -E "^ +shoponly " "$T/out" | grep -q "easyio none" && ! grep -E "^ +shoponly " "$T/out" | grep -q "exactlywww" \
  && ok "profiles: a profile naming no Easy IO shows none" || bad "profiles" "$(cat "$T/out" "$T/err")"
go profiles --json >"$T/out" 2>"$T/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=[p for p in d["profiles"] if p["name"]=="shoponly"][0]; sys.exit(0 if p["urls"]["easyio"] is None else 1)' "$T/out" \
  && ok "profiles --json: its easyio URL is null" || bad "profiles json" "$(cat "$T/out")"

# --- the rule in every --help
for s in onboard purge report watch keys; do
  go run $s --help >"$T/help" 2>&1
  grep -q "one source" "$T/help" && ! grep -qi "EASYIO_API_KEY, else the profile" "$T/help" \
    && ok "$s --help states the one-source rule" || bad "$s --help" "$(cat "$T/help")"
done
go --help >"$T/help" 2>&1
grep -q "one source" "$T/help" && ok "cdnctl --help states the one-source rule" || bad "cdnctl --help"
finish
