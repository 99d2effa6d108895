#!/usr/bin/env bash
# CSV as spreadsheets write it, through the ready scripts: onboard's own
# results (an `error` column) read by report.lua and purge.lua --from, a
# stray quote in a name, an unterminated quote that spoils only its row.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
start_sandbox main --pending 0
use "$SURL"
cd "$T" || exit 1

printf 'domain,service,line\nalpha.example.com,both,\nbeta.example.com,shortpixel,x\n' >"$T/clients.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/clients.csv" --out "$T/results.csv" >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q '^domain,.*,error' "$T/results.csv" && ok "onboard with a 'line' column: every row ok; its results have an error column" \
  || bad "onboard ($st)" "$(cat "$T/out" "$T/results.csv")"

timeout 60 "$BIN" "$SRC/scripts/report.lua" "$T/results.csv" >"$T/out" 2>&1; st=$?
[ $st = 0 ] && ! grep -q 'line [0-9]*: *$' "$T/out" && ok "report.lua reads onboard's results: the error column is data" \
  || bad "report.lua on results ($st)" "$(cat "$T/out")"
timeout 60 "$BIN" "$SRC/scripts/purge.lua" --from "$T/results.csv" >"$T/out" 2>&1; st=$?
[ $st = 0 ] && [ "$(grep -c '^ *purged\|purged' "$T/out")" -ge 4 ] && ok "purge.lua --from onboard's results purges every host" \
  || bad "purge.lua --from results ($st)" "$(cat "$T/out")"

# a stray quote is a literal; an unterminated quote spoils its own row only
printf 'domain,service,site_url\ngamma.example.com,easyio,https://www.gamma.example.com/joe"s\n"delta.example.com,both,\nepsilon.example.com,shortpixel,\n' >"$T/quotes.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/quotes.csv" --out "$T/q.csv" >"$T/out" 2>&1; st=$?
[ $st = 3 ] && grep -q 'line 3: unterminated quoted field' "$T/out" && grep -q '^epsilon.example.com,ok' "$T/q.csv" \
  && ok "an unterminated quote fails its own row (with its line); the rows after it go on" || bad "unterminated ($st)" "$(cat "$T/out" "$T/q.csv")"
grep -q '^gamma.example.com,ok\|^gamma.example.com,failed,.*site_url' "$T/q.csv" && ! grep -q 'quote inside' "$T/out" \
  && ok "a stray quote in an unquoted field is read as a literal" || bad "stray quote" "$(cat "$T/out" "$T/q.csv")"
printf 'domain\nJoe"s.example.com\n' >"$T/joe.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/joe.csv" --out "$T/joe-results.csv" >"$T/out" 2>&1; st=$?
[ $st = 3 ] && grep -q "line 2: domain: .*Joe\"s" "$T/out" && ok "a stray quote reaches the domain check, which names the row" \
  || bad "Joe\"s ($st)" "$(cat "$T/out")"
finish
