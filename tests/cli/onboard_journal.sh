#!/usr/bin/env bash
# onboard.lua's journal belongs to one target: a rehearsal with --sandbox
# never stands in for the real run; a journal of another base URL is refused
# (2); a step done with another key is redone, and said so; a resumed run
# says how much it took from the journal; default names come from the input;
# a second run on the same journal stops at once (2) naming the holder's pid;
# a journal that cannot be written (disk full) stops new work (1), and a
# rerun after freeing space finishes without duplicates.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
ONBOARD=${ONBOARD:-$SRC/scripts/onboard.lua}
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
run() { timeout 60 "$BIN" "$@"; }
# sites NAME_URL: how many sites of the account have that site_url
sites() { run -e "local n = 0 for _, s in ipairs(assert(easyio.show_sites()).sites) do if cdnctl.check.same_site(s.site_url, '$1') then n = n + 1 end end print(n)"; }

mkdir -p "$T/work" && cd "$T/work" || exit 1
printf 'domain,service\nalpha.example.com,both\nbeta.example.com,both\n' >clients.csv

# --- a rehearsal, then the real run with the same command
run --sandbox "$ONBOARD" clients.csv >out 2>err; st=$?
[ $st = 0 ] && [ -s clients.results.sandbox.csv ] && [ ! -e clients.results.csv ] && [ -e clients.results.sandbox.journal ] && [ ! -e clients.results.journal ] \
  && ok "defaults from the input: the sandbox's results and journal named .sandbox. (clients.results.sandbox.csv)" || bad "rehearsal names ($st)" "$(ls; cat out err)"
grep -q "sandbox.*clients.results.sandbox.journal.*never resumed" err && ok "the rehearsal says its journal is never resumed" || bad "sandbox note" "$(cat err)"
run --sandbox "$ONBOARD" clients.csv >out 2>err; st=$?
[ $st = 0 ] && ! grep -q resumed out && ok "a second --sandbox run resumes nothing (a new sandbox is a new target)" || bad "second rehearsal ($st)" "$(cat out err)"

start_sandbox real --pending 0
use "$SURL"
run "$ONBOARD" clients.csv >out 2>err; st=$?
[ $st = 0 ] && [ "$(sites https://www.alpha.example.com/)" = 1 ] && [ "$(sites https://www.beta.example.com/)" = 1 ] \
  && ok "the real run after a rehearsal does every step against the real target" || bad "real run ($st)" "$(cat out err)"
want=$(run -e 'local s = assert(easyio.show_sites("https://www.alpha.example.com/")).sites[1] print(s.site_id, s.alias)' | tr '\t' ,)
grep -q "^alpha.example.com,ok,associated,associated,created,$want," clients.results.csv \
  && ok "the results carry the real target's site id and alias" || bad "results ids (want $want)" "$(cat clients.results.csv)"
grep -q '"target"' clients.results.journal && grep -q "${SURL#http://}" clients.results.journal \
  && ok "the journal records its target" || bad "journal target" "$(head -2 clients.results.journal)"
grep -qF -e spDemoAgency00000001 -e ez-demo-account-0001 clients.results.journal \
  && bad "keys never reach the journal" || ok "keys never reach the journal (a fingerprint does)"

before=$(curl -sf "$SURL/_sandbox/state")
run "$ONBOARD" clients.csv >out 2>err; st=$?
after=$(curl -sf "$SURL/_sandbox/state")
[ $st = 0 ] && [ "$before" = "$after" ] && grep -qx "resumed 6 of 6 steps from clients.results.journal" out \
  && ok "a rerun says: resumed 6 of 6 steps from clients.results.journal" || bad "resumed line ($st)" "$(cat out err)"

# --- a journal written for another base URL
start_sandbox other --pending 0
OTHER=$SURL
CDNCTL_SHORTPIXEL_URL=$OTHER CDNCTL_SHORTPIXEL_API_URL=$OTHER CDNCTL_EASYIO_URL=$OTHER run "$ONBOARD" clients.csv >out 2>err; st=$?
REAL=$(sed -n 1p "$T/real.url"); REAL=${REAL%/}
[ $st = 2 ] && grep -q "clients.results.journal was written for another target" err \
  && grep -q -- "use another --journal, or --fresh" err \
  && ok "a journal of another base URL: exit 2, saying what to do (--journal, --fresh)" || bad "other target ($st)" "$(cat out err)"
grep -q "another target (easyio $REAL, shortpixel $REAL), not this one (easyio ${OTHER%/}, " err \
  && ok "the refusal says which target the journal was written for" || bad "which target" "$(cat err)"
CDNCTL_SHORTPIXEL_URL=$OTHER CDNCTL_SHORTPIXEL_API_URL=$OTHER CDNCTL_EASYIO_URL=$OTHER run "$ONBOARD" clients.csv --fresh >out 2>err; st=$?
[ $st = 0 ] && ! grep -q resumed out && ok "--fresh starts the journal over for the new target" || bad "--fresh ($st)" "$(cat out err)"
run "$ONBOARD" clients.csv --out "$T/x.csv" >out 2>err; st=$?
[ $st = 0 ] && [ -e "$T/x.journal" ] && [ -s "$T/x.csv" ] && ok "--out /tmp/x.csv puts the journal at /tmp/x.journal" || bad "--out names ($st)" "$(ls "$T"; cat out err)"

# --- a step done with another key is redone for that client only
use "$(sed -n 1p "$T/real.url")"
printf 'domain,service,shortpixel_key\ngamma.example.com,shortpixel,spDemoOther000000002\ndelta.example.com,shortpixel,\n' >keys.csv
run "$ONBOARD" keys.csv >out 2>err; st=$?
printf 'domain,service,shortpixel_key\ngamma.example.com,shortpixel,\ndelta.example.com,shortpixel,\n' >keys.csv
run "$ONBOARD" keys.csv >out 2>err; st=$?
grep -q "gamma.example.com (line 2): shortpixel:gamma.example.com was done with another key; doing it again" err \
  && ! grep -q "delta.example.com.*another key" err && grep -q "resumed 2 of 4 steps" out \
  && ok "a step done with another key is redone for that client, and said so" || bad "rekey ($st)" "$(cat out err)"

# --- two runs on one journal at once
start_sandbox slow --pending 0 --latency 400
use "$SURL"
{ echo domain; for i in 1 2 3 4 5 6; do echo "lock$i.example.com"; done; } >lock.csv
"$BIN" "$ONBOARD" lock.csv --concurrency 1 >out1 2>err1 &
FIRST=$!
cleanup_pid $FIRST
wait_file lock.results.journal.pid
run "$ONBOARD" lock.csv >out2 2>err2; st=$?
[ $st = 2 ] && grep -q "lock.results.journal is in use by another run (pid $FIRST)" err2 \
  && ok "a second run on a locked journal exits 2 at once, naming the file and the holder's pid" || bad "lock ($st)" "$(cat out2 err2)"
wait $FIRST; st=$?
[ $st = 0 ] && [ ! -e lock.results.journal.pid ] && ok "the first run finishes; its pid file goes with the lock" || bad "first run ($st)" "$(cat out1 err1)"

# --- disk full while journaling
mkdir -p "$T/full"
if mount -t tmpfs -o size=8k tmpfs "$T/full" 2>/dev/null; then
  trap 'umount "$T/full" 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
  use "$(sed -n 1p "$T/real.url")"
  { echo domain; for i in $(seq 1 40); do echo "full$i.example.com"; done; } >full.csv
  run "$ONBOARD" full.csv --journal "$T/full/j.journal" --concurrency 4 >out 2>err; st=$?
  [ $st = 1 ] && [ "$(grep -c 'No space left on device' err)" = 1 ] && grep -q "clients done but not journaled" err \
    && ok "a journal write that fails: exit 1, said once, with the clients done but not journaled" || bad "disk full ($st)" "$(cat out err)"
  grep -q 'traceback\|\.lua:[0-9]' full.results.csv && bad "no traceback in the results" "$(cat full.results.csv)" || ok "no traceback in the results"
  mount -o remount,size=1m "$T/full"
  run "$ONBOARD" full.csv --journal "$T/full/j.journal" --concurrency 4 >out 2>err; st=$?
  dup=0; for i in 1 2 3 4 5 6 7 8; do [ "$(sites "https://www.full$i.example.com/")" = 1 ] || dup=1; done
  [ $st = 0 ] && [ $dup = 0 ] && [ "$(grep -c ',ok,' full.results.csv)" = 40 ] \
    && ok "a rerun after freeing space finishes every client, one site each" || bad "rerun after space ($st)" "$(cat out err)"
else
  echo "# skipped: the disk-full case needs to mount a tmpfs (not permitted here)"
fi
finish
