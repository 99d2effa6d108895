#!/usr/bin/env bash
# cdnctl call as a shell tool: --output table (columns) and lua, help for an
# operation and for call itself, did-you-mean for an operation, and a
# both = true failure that names each host and prints what succeeded.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
start_sandbox sb --pending 0
use "$SURL"
"$BIN" -e 'assert(easyio.create_site("https://one.example.com/")); assert(easyio.create_site("https://two.example.com/"))
assert(shortpixel.add_domain("half.example.com"))' >/dev/null 2>&1 || { echo "setup failed"; exit 1; }

"$BIN" call easyio.show_sites --output table >"$T/out" 2>&1; st=$?
head -1 "$T/out" | grep -qE '^SITE_ID +SITE_URL +ALIAS +' && [ "$(grep -cE '^[0-9]+ +https://(one|two)\.example\.com/ +e[a-z0-9]{10}\.exactdn\.com' "$T/out")" = 2 ] && [ $st = 0 ] \
  && ok "--output table: a list of sites as columns, one row each" || bad "table of sites ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain half.example.com --output table >"$T/out" 2>&1
grep -qE '^Status +2$' "$T/out" && grep -qE '^HasAccount +true$' "$T/out" && head -1 "$T/out" | grep -qE '^FIELD +VALUE$' \
  && ok "--output table: an object as FIELD and VALUE columns" || bad "table of an object" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain half.example.com --output lua >"$T/out" 2>&1
grep -q '^{' "$T/out" && grep -q 'Status = 2' "$T/out" && ok "--output lua: the Lua literal of the result" || bad "lua output" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain half.example.com --output yaml >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "json, table, csv or lua" "$T/out" && ok "an unknown --output is a usage error naming the choices" || bad "--output yaml ($st)" "$(cat "$T/out")"

"$BIN" call shortpixel.add_domian x.com >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "unknown operation 'shortpixel.add_domian' (did you mean shortpixel.add_domain?)" "$T/out" \
  && ok "an unknown operation: did you mean" || bad "op hint ($st)" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain --help >"$T/out" 2>&1; st=$?
"$BIN" -e 'help "read_domain"' >"$T/want" 2>&1
[ $st = 0 ] && cmp -s "$T/out" "$T/want" && ok "cdnctl call OP --help prints help \"OP\"" || bad "call OP --help ($st)" "$(diff "$T/out" "$T/want" | head)"
"$BIN" call --help >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "positional" "$T/out" && grep -q "name=value" "$T/out" && grep -q "cdnctl call easyio.update_site_config 17 webp=true" "$T/out" \
  && ok "cdnctl call --help explains positional ARGs and name=value options, with an example" || bad "call --help" "$(cat "$T/out")"
"$BIN" call shortpixel.read_domain half.example.com refresh=maybe >"$T/out" 2>&1; st=$?
[ $st = 2 ] && ok "a bad option value is a usage error" || bad "bad value ($st)" "$(cat "$T/out")"

"$BIN" call shortpixel.purge_cdn_cache_bulk half.example.com both=true --yes >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q "www.half.example.com: .*; half.example.com purged" "$T/err" \
  && ok "both = true, one host refused: one line naming the failed host and the one purged" || bad "both message ($st)" "$(cat "$T/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if list(d) == ["half.example.com"] and d["half.example.com"]["Status"] == 2 else 1)' "$T/out" \
  && ok "both = true, one host refused: the partial results are printed" || bad "partial results" "$(cat "$T/out")"
finish
