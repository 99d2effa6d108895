#!/usr/bin/env bash
# Output people can script: --jq EXPR filters the whole JSON result through
# libjq (call, profiles); a bad expression fails before any request, with
# libjq's message and the expression; --jq with table or csv is refused.
# --fields a,b,c chooses the columns of --output table and csv; show_keys
# prints one row per sub-key, show_sites a default column set within 120
# columns, nested objects never inline.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_PROFILE
start_sandbox sb --pending 0
use "$SURL"
"$BIN" -e 'assert(easyio.create_site("https://one.example.com/")); assert(easyio.create_site("https://two.example.com/"))
assert(easyio.create_key())' >/dev/null 2>&1 || { echo "setup failed"; exit 1; }

"$BIN" call easyio.show_sites --jq '.sites[].site_url' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = "https://one.example.com/
https://two.example.com/" ] && ok "--jq: the filter applies to the whole result; strings print raw, one per line" \
  || bad "--jq strings ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --jq '{n: (.sites | length), first: .sites[0].site_url}' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = '{"first":"https://one.example.com/","n":2}' ] \
  && ok "--jq: other values as JSON, keys sorted, / unescaped" || bad "--jq object ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --jq='.sites | length' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = 2 ] && ok "--jq=EXPR works as --jq EXPR" || bad "--jq= ($st)" "$(cat "$T/out")"

"$BIN" -v call easyio.show_sites --jq '.sites[' >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "syntax error" "$T/out" && grep -qF ".sites[" "$T/out" && ! grep -q "show.php" "$T/out" \
  && ok "a bad --jq: exit 2, libjq's message with the expression, nothing sent" || bad "bad --jq ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --jq '.sites[0].config.webp.x' >"$T/out" 2>&1; st=$?
[ $st = 1 ] && grep -q "Cannot index number" "$T/out" && grep -qF ".sites[0].config.webp.x" "$T/out" \
  && ok "a --jq runtime error: exit 1, libjq's message with the expression" || bad "runtime --jq ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --jq . --output table >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--jq" "$T/out" && ok "--jq with --output table is refused" || bad "--jq table ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --output csv --jq . >"$T/out" 2>&1; st=$?
[ $st = 2 ] && ok "--jq with --output csv is refused" || bad "--jq csv ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --jq >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--jq needs" "$T/out" && ok "--jq without an expression: a usage error" || bad "--jq alone ($st)" "$(cat "$T/out")"

"$BIN" call easyio.show_sites --output table >"$T/out" 2>&1; st=$?
head -1 "$T/out" | grep -qE '^SITE_ID +SITE_URL +ALIAS +LIVE +PENDING +BANDWIDTH$' && [ "$(grep -c 'example.com/' "$T/out")" = 2 ] \
  && ! grep -q '{' "$T/out" && [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/out")" -le 120 ] && [ $st = 0 ] \
  && ok "show_sites --output table: id, site URL, alias, live, pending, bandwidth within 120 columns, nothing nested" \
  || bad "show_sites table ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --output table --fields site_url,zone,config >"$T/out" 2>&1; st=$?
head -1 "$T/out" | grep -qE '^SITE_URL +ZONE +CONFIG$' && grep -qE '^https://one.example.com/ +e[a-z0-9]+ +\{"' "$T/out" && [ $st = 0 ] \
  && ok "--fields chooses the columns of a table, in its order (a nested one as JSON when asked for)" || bad "--fields table ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --output csv --fields site_id,site_url >"$T/out" 2>&1; st=$?
[ "$(head -1 "$T/out" | tr -d '\r')" = "site_id,site_url" ] && [ "$(wc -l <"$T/out")" = 3 ] && [ $st = 0 ] \
  && ok "--fields chooses the columns of csv" || bad "--fields csv ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --output table --fields site_ulr >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean 'site_url'" "$T/out" && ok "--fields with an unknown column: did you mean" || bad "--fields typo ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_sites --fields site_url >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--fields" "$T/out" && ok "--fields with JSON output is refused" || bad "--fields json ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.api_status --output table --fields PlanType >"$T/out" 2>&1; st=$?
head -1 "$T/out" | grep -qE '^PLANTYPE$' && [ "$(wc -l <"$T/out")" = 2 ] && [ $st = 0 ] \
  && ok "--fields on an object: one row with those columns" || bad "--fields object ($st)" "$(cat "$T/out")"

"$BIN" call easyio.show_keys --output table >"$T/out" 2>&1; st=$?
head -1 "$T/out" | grep -qE '^SUB_KEY +LABEL' && [ "$(grep -c '\*\*\*\*' "$T/out")" = 2 ] && ! grep -q '{' "$T/out" && [ $st = 0 ] \
  && ok "show_keys --output table: one row per sub-key" || bad "show_keys table ($st)" "$(cat "$T/out")"
"$BIN" call easyio.show_keys --output csv --fields sub_key,sites >"$T/out" 2>&1; st=$?
[ "$(head -1 "$T/out" | tr -d '\r')" = "sub_key,sites" ] && [ "$(wc -l <"$T/out")" = 3 ] && [ $st = 0 ] \
  && ok "show_keys --output csv --fields: one row per sub-key" || bad "show_keys csv ($st)" "$(cat "$T/out")"

mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return { profiles = { bistro = { easyio_key = "bistro-ez-0001" }, zoo = { easyio_key = "zoo-ez-0001" } } }
LUA
chmod 600 "$T/config/cdnctl/config.lua"
"$BIN" profiles --json --jq '.profiles[].name' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = "bistro
zoo" ] && ok "profiles --json --jq" || bad "profiles --jq ($st)" "$(cat "$T/out")"
"$BIN" profiles --jq '.profiles | length' >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(cat "$T/out")" = 2 ] && ok "profiles --jq implies --json" || bad "profiles --jq alone ($st)" "$(cat "$T/out")"
"$BIN" call --help >"$T/out" 2>&1
grep -q -- "--jq" "$T/out" && grep -q "2^53" "$T/out" && grep -q -- "--fields" "$T/out" \
  && ok "call --help names --jq (with the 2^53 limit) and --fields" || bad "call --help" "$(cat "$T/out")"
finish
