#!/usr/bin/env bash
# onboard.lua, purge.lua and report.lua and a row's profile: a row never
# goes to an account its profile cell does not name. These scripts run
# under one source; a row that names another profile is a failed row that
# says how to run it (cdnctl apply runs each row under its profile), and
# nothing is sent for it.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox ob --pending 0 --log "$T/ob.log"
U=$SURL
write_profiles "$U" agency agency=spDemoAgency00000001:ez-demo-account-0001 \
  bistro=spDemoOther000000002:ez-demo-account-0001
cd "$T" || exit 1
printf 'domain,service,profile\nbistro2.example,shortpixel,bistro\nagency2.example,shortpixel,\n' >prof.csv
go run onboard prof.csv >out1 2>err1; st=$?
[ $st = 3 ] && grep -q "^bistro2.example,failed,.*profile 'bistro'" prof.results.csv \
  && grep -q "cdnctl apply" prof.results.csv && grep -q '^agency2.example,ok,' prof.results.csv \
  && ok "a row naming another profile than the run's is failed, saying how; the others run; exit 3" \
  || bad "other profile's row" "exit $st; $(cat out1 err1 prof.results.csv)"
! grep -q 'add-domain/bistro2' ob.log && ok "... and nothing was sent for it" || bad "sent for bistro2" "$(grep bistro2 ob.log)"
go call shortpixel.read_domain bistro2.example >rd.json 2>&1
grep -q '"HasAccount":false' rd.json && ok "... so bistro2.example is not the agency's" || bad "read_domain" "$(cat rd.json)"
go --profile bistro run onboard prof.csv --fresh >out2 2>err2; st=$?
grep -q '^bistro2.example,ok,' prof.results.csv \
  && go --profile bistro call shortpixel.read_domain_cdn_usage bistro2.example >/dev/null 2>&1 \
  && ok "with --profile bistro the row runs under bistro's account" \
  || bad "--profile bistro" "exit $st; $(cat out2 err2 prof.results.csv)"
before=$(wc -l <ob.log)
go run purge --from prof.csv --yes >out3 2>err3; st=$?
grep -q "names profile 'bistro'" out3 err3 && ! tail -n +$((before + 1)) ob.log | grep -q 'bistro2' \
  && tail -n +$((before + 1)) ob.log | grep -q 'agency2' \
  && ok "purge --from: the other profile's row is refused and not purged, the others are (exit $st)" \
  || bad "purge" "exit $st; $(cat out3 err3)"
before=$(wc -l <ob.log)
go run report prof.csv --csv rep.csv >out4 2>err4; st=$?
grep -q "names profile 'bistro'" err4 && ! tail -n +$((before + 1)) ob.log | grep -q 'bistro2' \
  && ok "report: the other profile's row is said and not read with this account (exit $st)" || bad "report" "exit $st; $(cat out4 err4)"
finish
