#!/usr/bin/env bash
# watch.lua reads its rows through the inventory reader, as plan and apply
# do: a row's profile is its calls' source with or without --profile or
# --all-profiles, an empty profile cell is the run's own source
# (default_profile, not the alphabetically first), a row's key columns are
# that row's source, a `both` row's Easy IO site is checked without a
# site_url column, a domain listed twice is checked (and exported) once, an
# empty spreadsheet row is skipped, and a ';' CSV reads as a ',' one.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox w --pending 0 --account easyio:ez-other-account-0002:20
U=$SURL
write_profiles "$U" zother agency=spDemoAgency00000001:ez-demo-account-0001 \
  zother=spDemoOther000000002:ez-other-account-0002
cd "$T" || exit 1
# bistro.example and its site belong to zother (the default profile); agency.example to agency
go --profile zother -e 'for _, h in ipairs(shortpixel.hosts("bistro.example")) do assert(shortpixel.add_domain(h)) end
  assert(easyio.create_site("https://www.bistro.example/"))' >/dev/null || bad "setup zother"
go --profile agency -e 'for _, h in ipairs(shortpixel.hosts("agency.example")) do assert(shortpixel.add_domain(h)) end
  assert(easyio.create_site("https://www.agency.example/"))' >/dev/null || bad "setup agency"

printf 'domain,profile,service\nbistro.example,zother,shortpixel\nagency.example,agency,shortpixel\n' >rows.csv
go run watch rows.csv >out1 2>err1; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 4 hosts ok' out1 \
  && ok "each row under its own profile without --profile or --all-profiles" || bad "rows' profiles" "exit $st; $(cat out1 err1)"

printf 'domain,profile,service\nbistro.example,,shortpixel\nagency.example,agency,shortpixel\n' >empty_profile.csv
go run watch empty_profile.csv --all-profiles >out2 2>err2; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 4 hosts ok' out2 \
  && ok "--all-profiles: an empty profile cell is the run's source (default_profile zother), not the first profile" \
  || bad "empty profile" "exit $st; $(cat out2 err2)"

printf 'domain,shortpixel_key,service\nbistro.example,spDemoOther000000002,shortpixel\n' >rowkey.csv
go --profile agency run watch rowkey.csv >out3 2>err3; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 2 hosts ok' out3 \
  && ok "a row's shortpixel_key is its source" || bad "row key" "exit $st; $(cat out3 err3)"

go --profile zother -e 'local r = assert(easyio.show_sites("https://www.bistro.example/")); assert(easyio.remove_site(r.sites[1].site_id))' \
  >/dev/null 2>&1 || bad "remove the site"
printf 'domain,profile\nbistro.example,zother\n' >both.csv
go run watch both.csv >out4 2>err4; st=$?
[ $st != 0 ] && grep -q 'not on the Easy IO account' out4 \
  && ok "a both row's site is checked without a site_url column: removed, it is not CDN OK" || bad "both" "exit $st; $(cat out4 err4)"

printf 'domain,profile,service\nagency.example,agency,shortpixel\nwww.agency.example,agency,shortpixel\nhttps://agency.example/,agency,shortpixel\n' >twice.csv
go run watch twice.csv --prometheus twice.prom >out5 2>err5; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 2 hosts ok' out5 \
  && [ "$(grep -c '^cdnctl_shortpixel_host_status{' twice.prom)" = 2 ] \
  && [ "$(grep '^cdnctl_shortpixel_host_status{' twice.prom | sort | uniq -d | wc -l)" = 0 ] \
  && ok "a domain listed as apex, www and URL is checked and exported once" || bad "twice" "exit $st; $(cat out5 err5 twice.prom)"

printf 'domain,profile,service\nagency.example,agency,shortpixel\n,,\n' >blank.csv
go run watch blank.csv >out6 2>err6; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 2 hosts ok' out6 && ok "an empty spreadsheet row is skipped, not UNKNOWN" || bad "blank row" "exit $st; $(cat out6 err6)"

printf 'domain;profile;service\r\nagency.example;agency;shortpixel\r\n' >semi.csv
go run watch semi.csv >out7 2>err7; st=$?
[ $st = 0 ] && grep -q '^CDN OK - 2 hosts ok' out7 && ok "a ';' CSV with CRLF reads as a ',' one" || bad "semicolon" "exit $st; $(cat out7 err7)"

printf 'domain,profile\nbistro.example,nosuch\n' >nosuch.csv
go run watch nosuch.csv >out8 2>err8; st=$?
[ $st = 3 ] && grep -q "nosuch" out8 && ok "a row naming a profile the config lacks: UNKNOWN naming it" || bad "nosuch" "exit $st; $(cat out8 err8)"
finish
