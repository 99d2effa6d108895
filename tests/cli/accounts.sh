#!/usr/bin/env bash
# The right account (issue 13): a service's key and base URLs come together
# from one source (opts.key, --sandbox, --profile/CDNCTL_PROFILE, the
# environment, default_profile), never mixed; two sources set are named once
# on stderr; failures name the key's source, masked; a profile's key command
# runs once per run and service, its failure (with its own stderr) reported
# once; keys.lua change warns of a change that landed meanwhile; whoami.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

# three fixture servers, told apart by their ports in the request traces
start_fx() { # name -> ${name}_URL
  "$BIN" -e "$LUAP" "$SRC/tests/lib/fixture_server.lua" >"$T/$1.url" 2>"$T/$1.err" &
  cleanup_pid $!
  wait_file "$T/$1.url" || { echo "fixture $1 did not start: $(cat "$T/$1.err")"; exit 1; }
  eval "$1_URL=\$(head -1 \"\$T/\$1.url\")"
}
start_fx A; start_fx B; start_fx C
queue() { curl -sf -X POST --data-binary "$2" "$1/_fixture/queue" >/dev/null; }

OLD_SP=oldKEYshortpix009999   OLD_EZ=old-ez-key-000008888
BIS_SP=bisKEYshortpix001111   BIS_EZ=bis-ez-key-000002222
ENV_SP=envKEYshortpix003333   ENV_EZ=env-ez-key-000004444
CMD_EZ=cmd-ez-key-000007777
mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return {
  default_profile = "old",
  profiles = {
    old = { shortpixel_key = "$OLD_SP", easyio_key = "$OLD_EZ",
            shortpixel_url = "$A_URL", shortpixel_api_url = "$A_URL", easyio_url = "$A_URL" },
    bistro = { shortpixel_key = "$BIS_SP", easyio_key = "$BIS_EZ",
               shortpixel_url = "$B_URL", shortpixel_api_url = "$B_URL", easyio_url = "$B_URL" },
    keyonly = { shortpixel_key = "$BIS_SP" },
    cmd = { shortpixel_key_cmd = "echo sp >>'$T/runs'; echo 'vault: permission denied' >&2; exit 3",
            easyio_key_cmd = "echo ez >>'$T/runs'; echo $CMD_EZ",
            shortpixel_url = "$A_URL", easyio_url = "$A_URL" },
  },
}
LUA
chmod 600 "$T/config/cdnctl/config.lua"

# go [VAR=value...] args...: cdnctl in a clean environment, requests traced
go() {
  local vars=()
  while [[ ${1:-} == [A-Z]*=* ]]; do vars+=("$1"); shift; done
  env -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL -u CDNCTL_SHORTPIXEL_API_URL \
    -u CDNCTL_EASYIO_URL -u CDNCTL_PROFILE -u CDNCTL_HAR HOME=$T XDG_CONFIG_HOME=$T/config CDNCTL_DEBUG=1 \
    "${vars[@]}" "$BIN" "$@"
}
ENV_ALL=(SHORTPIXEL_API_KEY=$ENV_SP EASYIO_API_KEY=$ENV_EZ CDNCTL_SHORTPIXEL_URL=$C_URL
         CDNCTL_SHORTPIXEL_API_URL=$C_URL CDNCTL_EASYIO_URL=$C_URL)
TWO='assert(shortpixel.set_domain("a.example")); assert(shortpixel.set_domain("b.example")); assert(easyio.show_sites())'
no_key_in() { ! grep -qF -e "$OLD_SP" -e "$BIS_SP" -e "$ENV_SP" -e "$OLD_EZ" -e "$BIS_EZ" -e "$ENV_EZ" -e "$CMD_EZ" "$@"; }

# --- 1. the order of sources; key and URLs together
go "${ENV_ALL[@]}" --profile bistro -e "$TWO" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: GET $B_URL/set-domain/a.example/\*\*\*\*1111 -> 200" "$T/err" \
  && grep -q "^cdnctl: POST $B_URL/exactdn/show.php -> 200" "$T/err" && ! grep -q "$C_URL" "$T/err" \
  && ok "--profile wins over the environment: its key goes to its URLs" || bad "--profile over env ($st)" "$(cat "$T/err")"
[ "$(grep -c "keys and URLs from profile 'bistro' (--profile); set and ignored: the environment (SHORTPIXEL_API_KEY" "$T/err")" = 1 ] \
  && [ "$(grep -c "ignored" "$T/err")" = 1 ] \
  && ok "two sources set: stderr says once, in one line, which one is used" || bad "note once" "$(cat "$T/err")"
go "${ENV_ALL[@]}" CDNCTL_PROFILE=bistro -e "$TWO" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: GET $B_URL/set-domain/a.example/\*\*\*\*1111 -> 200" "$T/err" \
  && grep -q "profile 'bistro' (CDNCTL_PROFILE)" "$T/err" \
  && ok "CDNCTL_PROFILE wins over the environment too" || bad "CDNCTL_PROFILE over env ($st)" "$(cat "$T/err")"
go "${ENV_ALL[@]}" -e "$TWO" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: GET $C_URL/set-domain/a.example/\*\*\*\*3333 -> 200" "$T/err" \
  && [ "$(grep -c "keys and URLs from the environment (SHORTPIXEL_API_KEY.*); set and ignored: profile 'old' (default_profile)" "$T/err")" = 1 ] \
  && ok "the environment wins over default_profile, and says so once" || bad "env over default ($st)" "$(cat "$T/err")"
go CDNCTL_SHORTPIXEL_URL=$C_URL -e 'print(shortpixel.set_domain("a.example"))' >"$T/out" 2>"$T/err"; st=$?
! grep -q "$C_URL/set-domain" "$T/err" && ! grep -q "$A_URL/set-domain" "$T/err" \
  && grep -q "no ShortPixel API key: the environment sets CDNCTL_SHORTPIXEL_URL but not SHORTPIXEL_API_KEY" "$T/out" \
  && ok "a profile's key never goes to a URL from the environment" || bad "no mixing ($st)" "$(cat "$T/out" "$T/err")"
go "${ENV_ALL[@]}" --profile bistro -e "assert(shortpixel.set_domain('a.example', {key = '$OLD_SP'}))" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: GET $B_URL/set-domain/a.example/\*\*\*\*9999 -> 200" "$T/err" \
  && ok "opts.key goes to the URLs of the source that would otherwise apply" || bad "opts.key URL ($st)" "$(cat "$T/err")"
go "${ENV_ALL[@]}" "$SRC/scripts/keys.lua" list --profile bistro >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: POST $B_URL/api_key/show.php -> 200" "$T/err" && ! grep -q "$C_URL" "$T/err" \
  && ok "a ready script's --profile wins over the environment too" || bad "script --profile ($st)" "$(cat "$T/err")"
go "${ENV_ALL[@]}" --sandbox -e 'assert(shortpixel.api_status())' >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(grep -c "keys and URLs from --sandbox; set and ignored: the environment" "$T/err")" = 1 ] \
  && ok "--sandbox wins over the environment, and says so" || bad "sandbox note ($st)" "$(cat "$T/err")"

# --- 2. failures name where the key came from, masked
queue "$B_URL" '[{"status":200,"body":"{\"Status\":{\"Code\":-11,\"Message\":\"Domain is associated with another user\"}}"}]'
go --profile bistro call shortpixel.set_domain a.example >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -qF "Domain is associated with another user (API code -11) (key ****1111 from profile 'bistro')" "$T/err" \
  && ok "an API refusal names the key's source: a profile" || bad "source in error (profile, $st)" "$(cat "$T/err")"
queue "$C_URL" '[{"status":403,"body":"{\"error\":\"forbidden\"}"}]'
go "${ENV_ALL[@]}" call easyio.show_keys >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -qF "(key ****4444 from EASYIO_API_KEY)" "$T/err" \
  && ok "an HTTP refusal names the key's source: the environment" || bad "source in error (env, $st)" "$(cat "$T/err")"
queue "$B_URL" '[{"status":200,"body":"{\"Status\":{\"Code\":-11,\"Message\":\"Domain is associated with another user\"}}"}]'
go --profile bistro -e "print(shortpixel.set_domain('a.example', {key = '$OLD_SP'}))" >"$T/out" 2>"$T/err"
grep -qF "(key ****9999 from opts.key)" "$T/out" && ok "with opts.key the error says opts.key" || bad "opts.key source" "$(cat "$T/out" "$T/err")"
no_key_in "$T/out" "$T/err" && ok "no key in any of these outputs" || bad "key leaked"

# --- 3. a key command runs once per run and service; its failure is remembered
rm -f "$T/runs"
cat >"$T/many.lua" <<'LUA'
local hosts = {}
for i = 1, 20 do hosts[i] = "h" .. i .. ".example" end
local _, errs = cdnctl.parallel(hosts, function(h) return assert(shortpixel.set_domain(h)) end, { concurrency = 4 })
print("errors", #errs, errs[1])
for i = 1, 5 do assert(easyio.show_sites()) end
local r, err = shortpixel.set_domain("x.example")
print("last", err)
LUA
go --profile cmd "$T/many.lua" >"$T/out" 2>"$T/err"; st=$?
[ "$(grep -c '^sp$' "$T/runs")" = 1 ] && [ "$(grep -c '^ez$' "$T/runs")" = 1 ] \
  && ok "each key command ran once for 20 + 5 + 1 calls, a failing one too" || bad "key cmd runs" "$(cat "$T/runs" 2>&1; head -5 "$T/err")"
[ "$(grep -c 'vault: permission denied' "$T/err")" = 1 ] \
  && grep -q "profile 'cmd': shortpixel_key_cmd failed (exit status 3).*vault: permission denied" "$T/err" \
  && ok "its failure is reported once on stderr, with the command's own stderr" || bad "key cmd stderr" "$(cat "$T/err")"
grep -q "^last.*profile 'cmd': shortpixel_key_cmd failed (exit status 3)" "$T/out" \
  && ok "later calls fail with the remembered error" || bad "remembered error" "$(cat "$T/out")"
grep -q "^cdnctl: POST $A_URL/exactdn/show.php -> 200" "$T/err" && ok "the other service's key command works on" || bad "ez cmd" "$(cat "$T/err")"

# --- 4. whoami
go CDNCTL_SHORTPIXEL_URL=$C_URL --profile keyonly whoami --offline >"$T/out" 2>"$T/err"
grep -qF "url   https://no-cdn.shortpixel.ai  built-in default" "$T/out" && ! grep -qF "$C_URL" "$T/out" \
  && ok "a profile without URLs uses the built-in URLs, not the environment's" || bad "profile default URLs" "$(cat "$T/out" "$T/err")"
go "${ENV_ALL[@]}" --profile bistro whoami --offline >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -qF "key   ****1111  from profile 'bistro' (--profile)" "$T/out" \
  && grep -qF "url   $B_URL  from profile 'bistro'" "$T/out" \
  && grep -qF "key   ****2222  from profile 'bistro' (--profile)" "$T/out" \
  && ! grep -q "/_fixture\|-> 200" "$T/err" \
  && ok "whoami --offline: per service the URL, the key masked and where each came from; nothing sent" || bad "whoami offline ($st)" "$(cat "$T/out" "$T/err")"
go "${ENV_ALL[@]}" whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "^cdnctl: POST $C_URL/v2/api-status.php -> 200" "$T/err" && grep -q "^cdnctl: POST $C_URL/api_key/show.php -> 200" "$T/err" \
  && grep -qF "key   ****3333  from SHORTPIXEL_API_KEY" "$T/out" && grep -qF "url   $C_URL  from CDNCTL_SHORTPIXEL_URL" "$T/out" \
  && [ "$(grep -c '^  check ok' "$T/out")" = 2 ] \
  && ok "whoami checks each key with the cheapest read (api_status, show_keys)" || bad "whoami check ($st)" "$(cat "$T/out" "$T/err")"
go SHORTPIXEL_API_KEY=spWrongKey0000000009 CDNCTL_PROFILE=nosuch --sandbox whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && ok "whoami: an unknown profile is a usage error (2)" || bad "whoami unknown profile ($st)" "$(cat "$T/out" "$T/err")"
go --sandbox whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -qF "from --sandbox" "$T/out" && ok "whoami --sandbox: the sandbox's keys check ok" || bad "whoami sandbox ($st)" "$(cat "$T/out" "$T/err")"
start_sandbox sb
go SHORTPIXEL_API_KEY=spWrongKey0000000009 EASYIO_API_KEY=ez-demo-account-0001 CDNCTL_SHORTPIXEL_URL=$SURL \
   CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL whoami >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -qF "refused: shortpixel.api_status: Invalid API key (API code -401) (key ****0009 from SHORTPIXEL_API_KEY)" "$T/out" \
  && ! grep -q spWrongKey "$T/out" "$T/err" \
  && ok "whoami: a refused key exits 1 and says which key, masked" || bad "whoami refused ($st)" "$(cat "$T/out" "$T/err")"
go whoami --bogus >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && ok "whoami: a bad option exits 2" || bad "whoami usage ($st)" "$(cat "$T/err")"
go --help >"$T/help" 2>&1; grep -q "whoami" "$T/help" && ok "--help lists whoami" || bad "help whoami"
go --man >"$T/man" 2>&1; grep -q "whoami" "$T/man" && ok "the man page lists whoami" || bad "man whoami"
COMPOUT=$(bash -c 'source "$1"; COMP_WORDS=(cdnctl who); COMP_CWORD=1; _cdnctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$SRC/completion/cdnctl.bash")
[ "$COMPOUT" = whoami ] && ok "bash completion completes whoami" || bad "completion whoami" "$COMPOUT"
COMPOUT=$(bash -c 'source "$1"; COMP_WORDS=(cdnctl whoami --o); COMP_CWORD=2; _cdnctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$SRC/completion/cdnctl.bash")
[ "$COMPOUT" = --offline ] && ok "bash completion completes whoami --offline" || bad "completion --offline" "$COMPOUT"
go "${ENV_ALL[@]}" profiles >"$T/out" 2>"$T/err"
go "${ENV_ALL[@]}" --profile bistro profiles >"$T/out2" 2>"$T/err2"
grep -q "^in use: profile 'bistro' (--profile) for every service: ShortPixel key, Easy IO key" "$T/out2" \
  && ok "cdnctl --profile X profiles: X is in use" || bad "profiles --profile" "$(cat "$T/out2" "$T/err2")"
grep -q "^in use: the environment (SHORTPIXEL_API_KEY.*EASYIO_API_KEY.*) for every service: ShortPixel key, Easy IO key" "$T/out" \
  && grep -qE "^ +old .*\(default\)" "$T/out" \
  && ok "cdnctl profiles says which source each service uses" || bad "profiles in use" "$(cat "$T/out" "$T/err")"
no_key_in "$T/out" "$T/err" && ok "whoami and profiles print no key" || bad "key leaked in whoami"

# --- 5. keys.lua change: a change that landed meanwhile is said, not lost
SUB=sub-key-000000000001
SHOW_BEFORE='{"keys":["'$SUB'"],"labels":{"'$SUB'":"old label"},"limits":{"'$SUB'":"2000"},"site_limit":{"'$SUB'":"2"}}'
SHOW_AFTER='{"keys":["'$SUB'"],"labels":{"'$SUB'":"new label"},"limits":{"'$SUB'":"2000"},"site_limit":{"'$SUB'":"5"}}'
j() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
queue "$C_URL" "[{\"status\":200,\"body\":$(j "$SHOW_BEFORE")},{\"status\":200,\"body\":\"{\\\"success\\\":1}\"},{\"status\":200,\"body\":$(j "$SHOW_AFTER")}]"
go EASYIO_API_KEY=$ENV_EZ CDNCTL_EASYIO_URL=$C_URL "$SRC/scripts/keys.lua" change $SUB --allowed 3000 >"$T/out" 2>"$T/err"; st=$?
grep -q "label is now 'new label', not 'old label' as sent" "$T/err" \
  && grep -q "site_limit is now 5, not 2 as sent" "$T/err" && grep -q "no compare-and-set" "$T/err" \
  && ok "keys.lua change reads the sub-key back and says which fields changed meanwhile" || bad "change read-back ($st)" "$(cat "$T/out" "$T/err")"
# its own change (--allowed 3000) read back as 2000: lost, exit 1, the field named
[ $st = 1 ] && grep -q "^keys.lua change: your change of allowed to 3000 is lost" "$T/err" \
  && ! grep -q "^changed " "$T/out" \
  && ok "keys.lua change exits 1 naming the field when the read-back shows its own change lost" \
  || bad "change lost exit ($st)" "$(cat "$T/out" "$T/err")"
# another field changed meanwhile, its own change kept: said, exit 0
queue "$C_URL" "[{\"status\":200,\"body\":$(j "$SHOW_BEFORE")},{\"status\":200,\"body\":\"{\\\"success\\\":1}\"},{\"status\":200,\"body\":$(j "${SHOW_AFTER/\"2000\"/\"3000\"}")}]"
go EASYIO_API_KEY=$ENV_EZ CDNCTL_EASYIO_URL=$C_URL "$SRC/scripts/keys.lua" change $SUB --allowed 3000 >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q "label is now 'new label'" "$T/err" && ! grep -q "is lost" "$T/err" && grep -q "^changed " "$T/out" \
  && ok "keys.lua change: another field changed meanwhile while its own change holds is said, exit 0" \
  || bad "change other field ($st)" "$(cat "$T/out" "$T/err")"
go EASYIO_API_KEY=$ENV_EZ CDNCTL_EASYIO_URL=$C_URL "$SRC/scripts/keys.lua" change $SUB --label "old label" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ! grep -q "warning" "$T/err" && ok "keys.lua change: no warning when nothing else changed" || bad "change quiet ($st)" "$(cat "$T/out" "$T/err")"

finish
