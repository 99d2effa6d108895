#!/usr/bin/env bash
# A broken profile fails only the commands that use it: a config whose
# profile 'typo' has an unknown field (shortpixel_kye) or a value that is
# no string still serves every other profile (whoami, profiles, a call);
# a command that uses 'typo' (--profile, CDNCTL_PROFILE, default_profile
# with no other source) fails with exit 2, naming the file, the profile and
# the field; `cdnctl profiles` lists it as broken with the reason; a key in
# a broken profile is still masked. A file that does not parse as Lua
# still stops everything, and says where.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox sb
GOOD_SP=goodKEYshortpix01111 TYPO_SP=typoKEYshortpix02222
mkdir -p "$T/config/cdnctl"
CFG="$T/config/cdnctl/config.lua"
write_config() { # default_profile
  cat >"$CFG" <<LUA
return {
  default_profile = "$1",
  profiles = {
    good = { shortpixel_key = "spDemoAgency00000001", shortpixel_url = "$SURL", shortpixel_api_url = "$SURL",
             easyio_key = "ez-demo-account-0001", easyio_url = "$SURL" },
    typo = { shortpixel_kye = "$TYPO_SP", shortpixel_url = "$SURL" },
    notastring = { shortpixel_key = 12345 },
  },
}
LUA
  chmod 600 "$CFG"
}
write_config good
run() { env -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL -u CDNCTL_SHORTPIXEL_API_URL \
  -u CDNCTL_EASYIO_URL -u CDNCTL_PROFILE -u CDNCTL_HAR HOME=$T XDG_CONFIG_HOME=$T/config "$@"; }

run "$BIN" --profile good whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "profile 'good'" "$T/out" && ok "whoami --profile good works beside a broken profile" \
  || bad "whoami --profile good ($st)" "$(cat "$T/out" "$T/err")"
run "$BIN" whoami --offline >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "whoami under default_profile good works beside a broken profile" || bad "whoami default ($st)" "$(cat "$T/out" "$T/err")"
run "$BIN" --profile good call shortpixel.read_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q Status "$T/out" && ok "a call under --profile good works beside a broken profile" \
  || bad "call --profile good ($st)" "$(cat "$T/out" "$T/err")"

run "$BIN" --profile typo whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -qF "$CFG: profile 'typo' has an unknown field 'shortpixel_kye' (did you mean 'shortpixel_key'?)" "$T/err" \
  && ok "a command under --profile typo exits 2 naming the file, the profile and the field" \
  || bad "whoami --profile typo ($st)" "$(cat "$T/out" "$T/err")"
run env CDNCTL_PROFILE=notastring "$BIN" call shortpixel.read_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -qF "$CFG: profile 'notastring': shortpixel_key must be a string" "$T/err" \
  && ok "CDNCTL_PROFILE naming a broken profile: exit 2, file, profile and field named" \
  || bad "CDNCTL_PROFILE=notastring ($st)" "$(cat "$T/out" "$T/err")"

run "$BIN" profiles >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -E "^ +typo .*broken: .*unknown field 'shortpixel_kye'" "$T/out" >/dev/null \
  && grep -E "^\* +good " "$T/out" >/dev/null && ok "profiles lists the broken ones as broken, with the reason, and the others" \
  || bad "profiles ($st)" "$(cat "$T/out" "$T/err")"
! grep -q "$TYPO_SP" "$T/out" "$T/err" && ok "the key of a broken profile is masked" || bad "a broken profile's key in clear"
run "$BIN" profiles --json >"$T/out" 2>"$T/err"; st=$?
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
by = {p["name"]: p for p in d["profiles"]}
sys.exit(0 if "unknown field" in by["typo"]["broken"] and by["good"].get("broken") is None else 1)' "$T/out" \
  && [ $st = 0 ] && ok "profiles --json: broken has the reason" || bad "profiles --json ($st)" "$(cat "$T/out" "$T/err")"

write_config typo
run "$BIN" call shortpixel.read_domain example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -qF "profile 'typo' has an unknown field 'shortpixel_kye'" "$T/err" \
  && ok "a broken default_profile fails the call that uses it (exit 2, named)" \
  || bad "call under a broken default_profile ($st)" "$(cat "$T/out" "$T/err")"
run env SHORTPIXEL_API_KEY=spDemoAgency00000001 CDNCTL_SHORTPIXEL_URL="$SURL" "$BIN" call shortpixel.read_domain example.com \
  >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "a broken default_profile does not stop a call whose keys come from the environment" \
  || bad "environment beside a broken default_profile ($st)" "$(cat "$T/out" "$T/err")"
run "$BIN" --profile good whoami --offline >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "--profile good beside a broken default_profile" || bad "--profile good, typo default ($st)" "$(cat "$T/err")"

printf 'return { profiles = { good = { shortpixel_key = "x" }\n' >"$CFG"
run "$BIN" --profile good whoami --offline >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -qF "$CFG:2:" "$T/err" && ok "a config that does not parse stops every command, saying where" \
  || bad "unparsable config ($st)" "$(cat "$T/out" "$T/err")"
finish
