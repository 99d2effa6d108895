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
timeout 60 "$BIN" "$SRC/scripts/purge.lua" --yes --from "$T/results.csv" >"$T/out" 2>&1; st=$?
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

# rows that share one Easy IO site URL (another spelling) get one site
printf 'domain,service,site_url\nshop-a.example.com,easyio,https://www.shared.example.com/\nshop-b.example.com,easyio,HTTPS://WWW.Shared.Example.com\nshop-c.example.com,easyio,https://www.shared.example.com\n' >"$T/shared.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/shared.csv" --out "$T/shared-results.csv" >"$T/out" 2>&1; st=$?
n=$(timeout 60 "$BIN" -e "local n = 0 for _, s in ipairs(assert(easyio.show_sites()).sites) do if cdnctl.check.same_site(s.site_url, 'https://www.shared.example.com/') then n = n + 1 end end print(n)")
[ $st = 0 ] && [ "$n" = 1 ] && ok "three rows with one site URL in three spellings make one site" || bad "shared site ($st, $n sites)" "$(cat "$T/out" "$T/shared-results.csv")"
grep -q '^shop-b.example.com,ok,,,same site as line 2,[0-9]' "$T/shared-results.csv" && grep -q '^shop-c.example.com,ok,,,same site as line 2,' "$T/shared-results.csv" \
  && ok "the later rows say which line made the site, with its id" || bad "shared site rows" "$(cat "$T/shared-results.csv")"

# a row equal to an earlier one is skipped; the same domain otherwise is a conflict
printf 'domain,service\nsame.example.com,shortpixel\nSAME.example.com,shortpixel\nsame.example.com,both\n' >"$T/dups.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/dups.csv" --out "$T/dups-results.csv" >"$T/out" 2>&1; st=$?
grep -q '^same.example.com,skipped,.*skipped (same as line 2)' "$T/dups-results.csv" \
  && grep -q '^same.example.com,failed,.*line 4: domain: same.example.com already appears on line 2 with another' "$T/dups-results.csv" \
  && [ $st = 3 ] && ok "an identical row is skipped (same as line 2); another service for the domain is a conflict naming line 2" \
  || bad "dups ($st)" "$(cat "$T/out" "$T/dups-results.csv")"
printf 'domain,service\nsame2.example.com,shortpixel\nsame2.example.com,shortpixel\n' >"$T/dups2.csv"
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/dups2.csv" --out "$T/dups2-results.csv" >"$T/out" 2>&1; st1=$?
timeout 60 "$BIN" "$SRC/scripts/onboard.lua" "$T/dups2.csv" --out "$T/dups2-results.csv" >"$T/out" 2>&1; st2=$?
[ $st1 = 0 ] && [ $st2 = 0 ] && ok "a repeated row does not make the run, or a rerun, exit 3" || bad "repeated rows ($st1 $st2)" "$(cat "$T/out")"
finish
