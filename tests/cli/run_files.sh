#!/usr/bin/env bash
# No input or output destroyed, in every script: every output of a run
# (--out, --journal, --csv, --html, --json FILE, --prometheus, --har) is
# checked against every input and every other output, through links and
# hard links, before any request (cdnctl.kit.files.check); standard output
# carries one output at most; `-` is standard output for an output, standard
# input for an input. A journal is a regular file or a new path. onboard's
# --out follows the output rules (a symlink followed, its target replaced;
# a 0600 file keeps its mode; a write that fails is an error). An input
# that is not a regular file needs --out; a FIFO with no writer is refused
# after a grace period, and a stop signal while waiting ends the run
# cleanly. An in-process sandbox's outputs take the .sandbox. infix. Stale
# temporaries of a killed run (host name and pid in their names) are
# removed by the next run of the same output.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
ONBOARD=$SRC/scripts/onboard.lua REPORT=$SRC/scripts/report.lua PURGE=$SRC/scripts/purge.lua WATCH=$SRC/scripts/watch.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_HAR CDNCTL_DEBUG NO_COLOR CDNCTL_PROFILE

start_sandbox sb --pending 0 --log "$T/sblog"
use "$SURL"
requests() { wc -l <"$T/sblog"; }
cd "$T" || exit 1
printf 'domain\nshop-a.example\n' >clients.csv
cp clients.csv orig.csv
# run WHAT EXPECT_STATUS ARGS...: cdnctl ARGS (60 s at most); the status, no
# request when refused, the input intact
refused() {
  local what=$1 want=2 n0; shift; n0=$(requests)
  if [ "$1" = --unknown ]; then want=3; shift; fi # watch.lua: a monitoring plugin's UNKNOWN
  timeout 60 "$BIN" "$@" >"$T/out" 2>"$T/err"; st=$?
  [ $st = $want ] && [ "$(requests)" = "$n0" ] && cmp -s orig.csv clients.csv && ! grep -q traceback "$T/err" \
    && ok "$what: refused before any request, the input intact ($(head -1 "$T/err" "$T/out" | grep -v '^==' | head -1))" \
    || bad "$what ($st, $(($(requests) - n0)) requests)" "$(cat "$T/err"; head -3 clients.csv)"
  cp orig.csv clients.csv
}

# --- an output onto the input, or onto another output
refused "onboard --har onto its input" --har clients.csv "$ONBOARD" clients.csv
refused "onboard --journal onto its input with --fresh" "$ONBOARD" clients.csv --journal clients.csv --fresh
ln clients.csv hard.csv
refused "onboard --journal onto a hard link of its input" "$ONBOARD" clients.csv --journal hard.csv
rm hard.csv
refused "onboard --journal R --out R" "$ONBOARD" clients.csv --journal R --out R
[ ! -e R ] && ok "nothing written at R" || bad "R written" "$(cat R)"
refused "onboard --har R --out R" --har R "$ONBOARD" clients.csv --out R
ln -s R2 R2.link
refused "onboard --out and --journal one new file through a symlink" "$ONBOARD" clients.csv --out R2 --journal R2.link
refused "onboard --journal /dev/null (not a regular file)" "$ONBOARD" clients.csv --journal /dev/null
refused "onboard --journal /dev/zero" "$ONBOARD" clients.csv --journal /dev/zero
refused "onboard --json --out /dev/stdout (two outputs on stdout)" "$ONBOARD" clients.csv --json --out /dev/stdout
refused "onboard --json --out - (two outputs on stdout)" "$ONBOARD" clients.csv --json --out -
printf 'domain,profile\nshop-a.example,\n' >w.csv
cp w.csv clients.csv; cp w.csv orig.csv
refused "watch --prometheus onto its input" --unknown "$WATCH" clients.csv --prometheus clients.csv
refused "watch --har onto its input" --unknown --har clients.csv "$WATCH" clients.csv
printf 'shop-a.example\n' >clients.csv; cp clients.csv orig.csv
refused "purge --har onto its --from" --har clients.csv "$PURGE" --yes --from clients.csv
printf 'domain\nshop-a.example\n' >clients.csv; cp clients.csv orig.csv
refused "report --json - with --har -" --har - "$REPORT" clients.csv --json -
printf 'print(1)\n' >s.lua; cp s.lua s.orig
timeout 60 "$BIN" --har s.lua s.lua >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && cmp -s s.lua s.orig && ok "a user script's --har onto the script: refused, the script intact" \
  || bad "--har onto the script ($st)" "$(cat "$T/err"; cat s.lua)"

# --- `-` is standard output
timeout 60 "$BIN" "$REPORT" clients.csv --json - >"$T/out" 2>"$T/err"; st=$?
[ $st != 2 ] && [ ! -e ./- ] && grep -q "\"hosts\"" "$T/out" && ok "report --json -: the JSON on standard output, no file named -" \
  || bad "report --json - ($st)" "$(cat "$T/err"; ls)"
timeout 60 "$BIN" "$ONBOARD" clients.csv --out - --journal j1 >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ ! -e ./- ] && grep -q '^shop-a.example,ok' "$T/out" && ok "onboard --out -: the results on standard output" \
  || bad "onboard --out - ($st)" "$(cat "$T/out" "$T/err"; ls)"
printf 'domain\nshop-a.example\n' | timeout 60 "$BIN" "$ONBOARD" - --out stdin.results.csv --journal j1 >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q '^shop-a.example,ok' stdin.results.csv && ok "onboard -: the CSV from standard input" \
  || bad "onboard - ($st)" "$(cat "$T/out" "$T/err")"

# --- onboard's --out by the output rules
mkdir real; printf 'old\n' >real/res.csv; chmod 600 real/res.csv; ln -s real/res.csv link.csv
timeout 60 "$BIN" "$ONBOARD" clients.csv --out link.csv --journal j2 >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ -L link.csv ] && grep -q '^shop-a.example,ok' real/res.csv \
  && ok "onboard --out a symlink: the target replaced, the link stays" || bad "onboard symlink ($st)" "$(cat "$T/err"; ls -l)"
[ "$(stat -c %a real/res.csv)" = 600 ] && ok "onboard --out keeps a 0600 file's mode" || bad "mode $(stat -c %a real/res.csv)"
timeout 60 "$BIN" "$ONBOARD" clients.csv --out /dev/full --journal j3 >"$T/out" 2>"$T/err"; st=$?
[ $st != 0 ] && grep -q "/dev/full" "$T/err" && ok "onboard --out /dev/full: exit $st, says the results could not be written" \
  || bad "onboard /dev/full ($st)" "$(cat "$T/out" "$T/err")"
ls | grep -q '\.tmp\.' && bad "a temporary file was left" "$(ls)" || ok "no temporary file left"

# --- inputs that are not regular files
timeout 60 "$BIN" "$ONBOARD" <(cat clients.csv) >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q -- "--out" "$T/err" && ! ls | grep -q '^[0-9]*\.results' \
  && ok "onboard <(...) without --out: exit 2, asks for --out" || bad "onboard <(...) ($st)" "$(cat "$T/err"; ls)"
timeout 60 "$BIN" "$ONBOARD" <(cat clients.csv) --out sub.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q '^shop-a.example,ok' sub.csv && [ -e sub.journal ] \
  && ok "onboard <(...) --out FILE: the journal next to FILE" || bad "onboard <(...) --out ($st)" "$(cat "$T/err"; ls)"
mkfifo nowriter
timeout 60 "$BIN" "$ONBOARD" nowriter --out fifo.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "no writer" "$T/err" && ! grep -q traceback "$T/err" \
  && ok "an input FIFO with no writer: refused after the grace period (exit 2)" || bad "fifo no writer ($st)" "$(cat "$T/err")"
timeout 60 "$BIN" "$PURGE" --yes --from nowriter >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q "no writer" "$T/err" && ok "purge --from a FIFO with no writer: refused (exit 2)" || bad "purge fifo ($st)" "$(cat "$T/err")"
timeout 60 "$BIN" "$ONBOARD" clients.csv --out j4.csv --journal nowriter >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && ok "a FIFO as the journal: refused (exit 2)" || bad "fifo journal ($st)" "$(cat "$T/err")"
# a stop signal while waiting for a writer: the run ends, no traceback
"$BIN" "$ONBOARD" nowriter --out fifo.csv >"$T/out" 2>"$T/err" & pid=$!
cleanup_pid $pid
for i in $(seq 600); do grep -q "waiting up to .* for a writer" "$T/err" && break; sleep 0.05; done
kill -TERM $pid
( sleep 30; kill -KILL $pid 2>/dev/null ) & dog=$!
wait $pid; st=$?
kill $dog 2>/dev/null
[ $st = 143 ] && ! grep -q traceback "$T/err" && ok "SIGTERM while waiting for a FIFO's writer: exit 143, no traceback" \
  || bad "fifo SIGTERM ($st)" "$(cat "$T/err")"
printf 'domain\nshop-a.example\n' >writer.csv
( exec 3>nowriter; cat writer.csv >&3 ) & wpid=$!
timeout 60 "$BIN" "$ONBOARD" nowriter --out fifo.csv --journal j5 >"$T/out" 2>"$T/err"; st=$?
wait $wpid
[ $st = 0 ] && grep -q '^shop-a.example,ok' fifo.csv && ok "an input FIFO with a writer is read" || bad "fifo with writer ($st)" "$(cat "$T/err")"

# --- a rehearsal keeps the real results
printf 'domain,status\nshop-a.example,ok\n' >clients.results.csv; cp clients.results.csv real.results.csv
env -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL -u CDNCTL_SHORTPIXEL_API_URL -u CDNCTL_EASYIO_URL \
  timeout 60 "$BIN" --sandbox "$ONBOARD" clients.csv >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && cmp -s clients.results.csv real.results.csv && grep -q '^shop-a.example,ok' clients.results.sandbox.csv \
  && ok "--sandbox onboard writes clients.results.sandbox.csv, the real results intact" || bad "rehearsal ($st)" "$(cat "$T/err"; ls)"

# --- stale temporaries of a killed run
HOST=$(hostname)
sleep 600 & live=$!; cleanup_pid $live
dead=$( (sh -c 'echo $$') )
touch "clients.results.csv.tmp.$HOST.$dead.aaaaaa" "clients.results.csv.tmp.$HOST.$live.bbbbbb" \
  "clients.results.csv.tmp.otherhost.$dead.cccccc" "report.csv.tmp.$HOST.$dead.dddddd"
timeout 60 "$BIN" "$ONBOARD" clients.csv --journal j6 >"$T/out" 2>"$T/err"; st=$?
timeout 60 "$BIN" "$REPORT" clients.csv --csv report.csv >"$T/out" 2>"$T/err"
[ ! -e "clients.results.csv.tmp.$HOST.$dead.aaaaaa" ] && [ ! -e "report.csv.tmp.$HOST.$dead.dddddd" ] \
  && ok "the next run of an output removes its stale temporaries (a dead pid on this host)" || bad "stale kept" "$(ls)"
[ -e "clients.results.csv.tmp.$HOST.$live.bbbbbb" ] && [ -e "clients.results.csv.tmp.otherhost.$dead.cccccc" ] \
  && ok "a live process's temporary, and another host's, are kept" || bad "too many removed" "$(ls)"
finish
