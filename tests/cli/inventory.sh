#!/usr/bin/env bash
# The inventory's commands over three profiles against one sandbox
# (--pending 0): plan -> apply -> plan shows no changes -> a row set to
# absent -> apply asks (no terminal, no --yes: nothing sent, exit 2) ->
# apply --yes -> its hosts are no longer the profile's and its site is
# gone. A saved plan whose site's settings change before `apply PLAN.json`
# has that action refused as stale (exit 3), and the others made. Each
# row's calls go to its own profile's account; a host another account holds
# is a conflict, never an action.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"

start_sandbox inv --pending 0 --log "$T/inv.log" \
  --account shortpixel:spThreeAccount000003:three@example.com \
  --account easyio:ez-three-account-0003:20 --account easyio:ez-other-account-0002:20
U=$SURL
write_profiles "$U" agency agency=spDemoAgency00000001:ez-demo-account-0001 \
  other=spDemoOther000000002:ez-other-account-0002 three=spThreeAccount000003:ez-three-account-0003
cd "$T" || exit 1

cat >clients.csv <<'CSV'
client,profile,domain,service,webp,avif,cname,state
Bistro,other,bistro.example,both,TRUE,,,
Shop,three,shop.example,shortpixel,,,,
Agency,,agency.example,both,yes,no,cdn.agency.example,
CSV

# --- plan: what apply would do, grouped by client; nothing sent but reads
go plan clients.csv >plan1.txt 2>plan1.err; st=$?
grep -q '^Plan: 8 to add, 3 to change, 0 to remove; 0 conflicts, 0 pending, 0 unmanaged, 0 unreadable$' plan1.txt && [ $st = 0 ] \
  && ok "plan: 8 to add, 3 to change over three profiles; exit 0" || bad "plan" "exit $st; $(cat plan1.txt plan1.err)"
grep -A6 '^Bistro (profile other' plan1.txt | grep -q '+ shortpixel.add_domain(www.bistro.example)' \
  && grep -A6 '^Agency (the run.s source' plan1.txt | grep -q '~ easyio.set_cname(<id of action 8>, cdn.agency.example)' \
  && ok "plan: each client's actions under its profile, an id made by an earlier action named" || bad "plan lines" "$(cat plan1.txt)"
if grep -E '"path":"/(add-domain|exactdn/create|exactdn/config-update|exactdn/cname)' inv.log >/dev/null; then
  bad "plan sends nothing that changes" "$(cat inv.log)"
else ok "plan sends nothing that changes"; fi
go plan clients.csv --detailed-exitcode >/dev/null 2>&1; st=$?
[ $st = 2 ] && ok "plan --detailed-exitcode: 2 with changes" || bad "plan --detailed-exitcode (changes)" "exit $st"
go plan clients.csv --json >plan1.json 2>/dev/null
jq -e '.actions[2].op == "easyio.create_site" and .actions[3].args[0] == {"known_after": 2, "field": "id"}
       and .actions[0].profile == "other" and .summary.add == 8 and (.made | test("^\\d{4}-\\d\\d-\\d\\dT"))' plan1.json >/dev/null \
  && ! grep -q 'spDemo\|ez-demo\|ez-other\|spThree\|ez-three' plan1.json \
  && ok "plan --json: binding names, known_after, profiles by name, no key" || bad "plan --json" "$(cat plan1.json)"

# --- apply --dry-run: the plan and each action's exact requests, keys masked; nothing sent
before=$(wc -l <inv.log)
go apply clients.csv --dry-run >dry.txt 2>dry.err; st=$?
[ $st = 0 ] && grep -q '^GET .*/add-domain/www.bistro.example/\*\*\*\*0002$' dry.txt \
  && grep -q '^api_key=\*\*\*\*0001&site_id=<id of action 8>&custom_cname=cdn.agency.example$\|custom_cname=cdn.agency.example.*site_id=<id of action 8>\|site_id=<id of action 8>.*cdn.agency.example' dry.txt \
  && ! grep -q 'spDemo\|ez-demo\|ez-other\|spThree\|ez-three' dry.txt \
  && ! tail -n +$((before + 1)) inv.log | grep -qE '"path":"/(add-domain|exactdn/create|exactdn/config-update|exactdn/cname)' \
  && ok "apply --dry-run: each action's requests (an id to come named, keys masked); only the plan's reads sent" \
  || bad "apply --dry-run" "exit $st; $(tail -6 dry.txt; cat dry.err; echo "log $before -> $(wc -l <inv.log)")"

# --- apply: the plan's calls, each under its row's profile
go apply clients.csv >apply1.txt 2>apply1.err; st=$?
grep -q '^Apply: 11 made, 0 failed, 0 stale, 0 not made, 0 done before; 0 conflicts, 0 unreadable$' apply1.txt && [ $st = 0 ] \
  && ok "apply: 11 made without a question (additions, and the settings of sites it created); exit 0" \
  || bad "apply" "exit $st; $(cat apply1.txt apply1.err)"
go call shortpixel.read_domain_cdn_usage bistro.example --profile other >/dev/null 2>&1 \
  && ! go call shortpixel.read_domain_cdn_usage bistro.example --profile agency >/dev/null 2>&1 \
  && go call shortpixel.read_domain_cdn_usage www.shop.example --profile three >/dev/null 2>&1 \
  && ok "apply: the hosts are associated with their rows' accounts, not the agency's" || bad "apply: owners"
go call easyio.show_sites https://www.agency.example/ --profile agency >agency.json 2>&1
jq -e '.sites[0].config.webp == 1 and .sites[0].config.avif == 0 and .sites[0].alias == "cdn.agency.example"' agency.json >/dev/null \
  && ok "apply: the Agency site has its settings and CNAME" || bad "apply: the site's settings" "$(cat agency.json)"
[ -f clients.apply.journal ] && ! grep -q 'spDemo\|ez-demo\|ez-other\|spThree\|ez-three' clients.apply.journal \
  && ok "apply: the journal clients.apply.journal beside the input, no key in it" || bad "apply journal" "$(ls; cat clients.apply.journal)"

# --- plan again: nothing left to do
go plan clients.csv --detailed-exitcode >plan2.txt 2>&1; st=$?
[ $st = 0 ] && grep -q '^Plan: 0 to add, 0 to change, 0 to remove' plan2.txt \
  && ok "plan after apply: no changes (exit 0 with --detailed-exitcode)" || bad "plan after apply" "exit $st; $(cat plan2.txt)"

# --- import: an inventory of what the accounts hold; its plan shows no changes
printf 'domain\nbistro.example\nshop.example\nagency.example\nnobody.example\n' >domains.csv
go import --profile agency --profile other --profile three --domains domains.csv --out imported.csv >import.out 2>import.err; st=$?
[ $st = 0 ] && grep -q '^bistro.example,other,bistro.example,both,https://www.bistro.example/,-,' imported.csv \
  && grep -q '^shop.example,three,shop.example,shortpixel,' imported.csv \
  && grep -q '^agency.example,agency,agency.example,both,https://www.agency.example/,cdn.agency.example,' imported.csv \
  && ! grep -q nobody imported.csv && grep -q 'nobody.example: no profile given owns it' import.err \
  && ok "import: a row per site and per owned domain, each with its profile; an unowned domain said, not written" \
  || bad "import" "exit $st; $(cat imported.csv import.err)"
go plan imported.csv --detailed-exitcode >plan_imported.txt 2>&1; st=$?
[ $st = 0 ] && ok "plan of the imported inventory: no changes" || bad "plan of imported" "exit $st; $(cat plan_imported.txt)"
go import --profile agency --profile nosuch >imp2.out 2>&1; st=$?
[ $st = 1 ] && grep -q "nosuch" imp2.out && ok "import with a profile that does not exist: exit 1, nothing written" || bad "import bad profile" "exit $st; $(cat imp2.out)"

# --- a saved plan, one of its sites changed meanwhile: that action is stale
sed -i 's/^Bistro,other,bistro.example,both,TRUE,,,$/Bistro,other,bistro.example,both,TRUE,1,,/; s/^Shop,three,shop.example,shortpixel,,,,$/Shop,three,shop.example,both,,,,/' clients.csv
go plan clients.csv --out saved.json >plan3.txt 2>&1; st=$?
[ $st = 0 ] && jq -e '[.actions[].op] == ["easyio.update_site_config", "easyio.create_site"]' saved.json >/dev/null \
  && ok "plan --out: the saved plan (Bistro's avif, Shop's new site)" || bad "plan --out" "exit $st; $(cat plan3.txt saved.json)"
BID=$(jq -r '.actions[0].args[0]' saved.json)
go call easyio.update_site_config "$BID" avif=true webp=false --profile other >/dev/null 2>&1 || bad "the edit between plan and apply"
updates=$(grep -c 'config-update' inv.log)
go apply saved.json --yes >apply2.txt 2>apply2.err; st=$?
[ $st = 3 ] && grep -q '^STALE .*easyio.update_site_config.*avif was 0 when planned and is 1 now' apply2.txt \
  && grep -q '^made .*Shop easyio.create_site' apply2.txt \
  && ok "apply PLAN.json: the action whose site changed is stale and not made, the other made; exit 3" \
  || bad "apply stale" "exit $st; $(cat apply2.txt apply2.err)"
[ "$(grep -c 'config-update' inv.log)" = "$updates" ] && ok "... and the stale action sent nothing" || bad "stale sent" "$(tail -3 inv.log)"
go apply saved.json --yes >apply3.txt 2>&1; st=$?
grep -q '^done .*Shop easyio.create_site.*done by an earlier run' apply3.txt \
  && ok "apply PLAN.json again: what it made is found in the journal, not made twice" || bad "apply again" "exit $st; $(cat apply3.txt)"

# --- offboarding: state = absent
sed -i 's/^Bistro,other,bistro.example,both,TRUE,1,,$/Bistro,other,bistro.example,both,,,,absent/' clients.csv
go plan clients.csv >plan4.txt 2>&1
grep -q '^Plan: 0 to add, 0 to change, 3 to remove' plan4.txt && grep -q '^  - easyio.remove_site(' plan4.txt \
  && ok "plan: an absent client's hosts revoked and site removed" || bad "plan absent" "$(cat plan4.txt)"
before=$(wc -l <inv.log)
go apply clients.csv >apply4.txt 2>apply4.err; st=$?
[ $st = 2 ] && grep -q 'needs confirmation, and there is no terminal' apply4.err \
  && ! tail -n +$((before + 1)) inv.log | grep -q 'revoke\|remove.php' \
  && ok "apply of removals without a terminal and without --yes: nothing sent, exit 2" \
  || bad "apply asks" "exit $st; $(cat apply4.txt apply4.err)"
go apply clients.csv --yes >apply5.txt 2>&1; st=$?
[ $st = 0 ] && grep -q '^Apply: 3 made' apply5.txt && ok "apply --yes: the removals made" || bad "apply --yes" "exit $st; $(cat apply5.txt)"
! go call shortpixel.read_domain_cdn_usage bistro.example --profile other >/dev/null 2>&1 \
  && go call easyio.show_sites --profile other | jq -e '.sites | length == 0' >/dev/null \
  && ok "offboarded: the hosts are no longer the profile's, its site is gone" || bad "offboarded"
go plan clients.csv --detailed-exitcode >/dev/null 2>&1; st=$?
[ $st = 0 ] && ok "plan after offboarding: no changes" || bad "plan after offboarding" "exit $st"

# --- status: every client in one table, worst first
printf 'client,profile,domain,service,state\nShop,three,shop.example,both,\nBistro,other,bistro.example,both,absent\nGone,other,gone.example,easyio,\nTaken,three,agency.example,shortpixel,\n' >status.csv
go status status.csv >status.txt 2>status.err; st=$?
[ $st = 0 ] && head -1 status.txt | grep -q '^STATE  *CLIENT  *PROFILE  *HOSTS  *CREDITS  *SITE  *BANDWIDTH  *DRIFT$' \
  && sed -n 2p status.txt | grep -q '^CRITICAL  *Gone  *other  .*missing  .* 1$' \
  && sed -n 3p status.txt | grep -q '^WARNING  *Taken  *three  *0/2 ok (agency.example: associated with another account)' \
  && grep -q '^OK  *Shop  *three  *2/2 ok  *100 %  *live  *0 B  *0$' status.txt \
  && grep -q '^OK  *Bistro  *other  *2/2 offboarded .*absent' status.txt \
  && ok "status: one row per client over the profiles, worst first, the worst host named" || bad "status" "exit $st; $(cat status.txt status.err)"
go status status.csv --json | jq -e '.clients | map(.client) == ["Gone", "Taken", "Bistro", "Shop"] or map(.client) == ["Gone", "Taken", "Shop", "Bistro"]' >/dev/null \
  && go status status.csv --json | jq -e '.clients[] | select(.client == "Shop") | .hosts_ok == 2 and .site == "live" and .credits_left_percent == 100 and .drift == 0' >/dev/null \
  && ok "status --json: the same rows as data" || bad "status --json" "$(go status status.csv --json)"
go status status.csv --csv --sort client | sed -n 2p | grep -q '^OK,Bistro,other,' \
  && ok "status --csv --sort client" || bad "status --csv" "$(go status status.csv --csv --sort client)"
go status status.csv --sort clint >sort.out 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean client" sort.out && ok "status --sort of an unknown column: did you mean, exit 2" || bad "sort" "exit $st; $(cat sort.out)"

# --- conflicts, unmanaged sites, refusals
printf 'client,profile,domain,service\nTaken,three,agency.example,shortpixel\n' >taken.csv
go plan taken.csv --json >taken.json 2>/dev/null; st=$?
jq -e '(.actions | length) == 0 and .findings[0].kind == "conflict" and .findings[0].target == "agency.example"' taken.json >/dev/null \
  && ok "plan: a host another account holds is a conflict, never an action" || bad "conflict" "exit $st; $(cat taken.json)"
go plan taken.csv --detailed-exitcode >/dev/null 2>&1; st=$?
[ $st = 2 ] && ok "plan --detailed-exitcode: 2 with a conflict" || bad "conflict exit" "exit $st"
printf 'client,profile,domain,service\nShop,three,shop.example,both\n' >shop.csv
go plan shop.csv --json 2>/dev/null | jq -e '[.findings[] | select(.kind == "unmanaged")] | length == 0' >/dev/null \
  && printf 'client,profile,domain,service\nShop,three,shop.example,shortpixel\n' >noshop.csv \
  && go plan noshop.csv --json 2>/dev/null | jq -e '[.findings[] | select(.kind == "unmanaged" and .target == "https://www.shop.example/")] | length == 1' >/dev/null \
  && ok "plan: a site no row names is unmanaged" || bad "unmanaged"
printf 'domain,profile,shortpixel_key\nx.example,other,spDemoOther000000002\n' >keys.csv
go plan keys.csv >keys.out 2>&1; st=$?
[ $st = 2 ] && grep -q 'profile' keys.out && ! grep -q 'spDemoOther000000002' keys.out \
  && ok "plan refuses a key column, pointing to profiles; exit 2" || bad "key column" "exit $st; $(cat keys.out)"
echo '{"actions": [{"op": "os.execute", "args": []}]}' >bad.json
go apply bad.json --yes >bad.out 2>&1; st=$?
[ $st = 2 ] && grep -q 'action 0: op' bad.out && ok "apply of a malformed plan: exit 2, says which action" || bad "bad plan" "exit $st; $(cat bad.out)"
go apply clients.csv --target client:Nobody --yes >tgt.out 2>&1; st=$?
[ $st = 2 ] && grep -q 'client:Nobody' tgt.out && ok "--target naming no row: exit 2" || bad "target" "exit $st; $(cat tgt.out)"
finish
