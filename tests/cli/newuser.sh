#!/usr/bin/env bash
# The README's new-user path ("An agency's first hour") run as written:
# install, profiles, whoami, a first call, plan, apply and status of the
# inventory, a first report, the cron check.
# The profiles point at a sandbox; the install goes to a prefix in $T.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
BUILD=$(dirname "$BIN")
export HOME=$T XDG_CONFIG_HOME=$T/config
unset SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_PROFILE CDNCTL_SHORTPIXEL_URL CDNCTL_SHORTPIXEL_API_URL CDNCTL_EASYIO_URL
awk '/^## An agency.s first hour/{f=1} f && /^```sh$/{g=1; next} g && /^```$/{exit} g' "$SRC/README.md" >"$T/path.sh"
[ "$(wc -l <"$T/path.sh")" -ge 6 ] && ok "the README has the new-user path ($(wc -l <"$T/path.sh") lines)" || bad "no new-user path in the README"

start_sandbox sb --pending 0
mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return { default_profile = "agency", profiles = {
  agency = { shortpixel_key = "spDemoAgency00000001", easyio_key = "ez-demo-account-0001",
             shortpixel_url = "$SURL", shortpixel_api_url = "$SURL", easyio_url = "$SURL" },
  bistro = { shortpixel_key = "spDemoOther000000002", easyio_key = "ez-demo-account-0001",
             shortpixel_url = "$SURL", shortpixel_api_url = "$SURL", easyio_url = "$SURL" },
} }
LUA
chmod 600 "$T/config/cdnctl/config.lua"
"$BIN" --profile bistro -e 'for _, h in ipairs(shortpixel.hosts("bistro.example")) do assert(shortpixel.add_domain(h)) end' >/dev/null 2>&1
"$BIN" --profile agency -e 'for _, h in ipairs(shortpixel.hosts("agency.example")) do assert(shortpixel.add_domain(h)) end' >/dev/null 2>&1
printf 'domain\nbistro.example\n' >"$T/bistro.csv"
printf 'domain,profile\nbistro.example,bistro\nagency.example,agency\n' >"$T/clients.csv"

n=0
while IFS= read -r line; do
  n=$((n + 1))
  cmd=${line%%#*}                                     # the command, without its comment
  cmd=${cmd//\~\/.local/$T/prefix}                     # install into the test's prefix
  case "$cmd" in
    cmake\ --install\ build*) cmd=${cmd/build/$BUILD} ;;
    \$EDITOR*) ok "line $n: the config is written (above)"; continue ;;
  esac
  (cd "$T" && PATH="$T/prefix/bin:$PATH" eval "$cmd") >"$T/out.$n" 2>&1; st=$?
  case "$cmd" in
    *whoami*) [ $st = 0 ] && [ "$(grep -c 'check ok' "$T/out.$n")" = 2 ] ;;
    *read_domain*) [ $st = 0 ] && grep -qE '^HasAccount +true$' "$T/out.$n" ;;
    *run\ report*) [ $st = 0 ] && grep -q '<title>Bistro: CDN report</title>' "$T/bistro.html" ;;
    *run\ watch*) [ $st = 0 ] && grep -q '^CDN OK - 4 hosts ok' "$T/out.$n" && grep -q 'profile="bistro"' "$T/cdn.prom" ;;
    *profiles*) [ $st = 0 ] && grep -qE '^\* +agency' "$T/out.$n" ;;
    *plan\ clients*) [ $st = 0 ] && grep -q '^Plan: 2 to add, 0 to change, 0 to remove; 0 conflicts' "$T/out.$n" ;;
    *apply\ clients*) [ $st = 0 ] && grep -q '^Apply: 2 made, 0 failed' "$T/out.$n" ;;
    *status\ clients*) [ $st = 0 ] && [ "$(grep -cE '^OK +(bistro|agency).example +(bistro|agency) +2/2 ok +[0-9]+ % +live' "$T/out.$n")" = 2 ] ;;
    *) [ $st = 0 ] ;;
  esac && ok "line $n runs as written: ${line%%  *}" || bad "line $n ($st): $line" "$(cat "$T/out.$n")"
done <"$T/path.sh"
[ -x "$T/prefix/bin/cdnctl" ] && ok "cdnctl was installed into the prefix" || bad "not installed"
finish
