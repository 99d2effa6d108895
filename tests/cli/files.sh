#!/usr/bin/env bash
# Files are never destroyed. The outputs of the ready scripts (report.lua's
# --csv/--json/--html, --har, onboard's --out through fs.check_output): a
# character device or a FIFO that has a reader is written in place; a FIFO
# nobody reads, a socket, a block device, a directory or a missing folder is
# refused (exit 2) before any request; a regular file is replaced atomically
# and keeps its mode; a symbolic link is followed and stays; a path that is
# the input or another output of the run is refused before any request.
# Inputs: a directory, /dev/zero or an input over the cap (64 MiB) fail at
# once with exit 2. Standard output is checked: a full disk is an error.
# /dev/null and /dev/stdout are only used once the same rule held on a
# private device node (mknod), so a failure cannot destroy them.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
REPORT=$SRC/scripts/report.lua PURGE=$SRC/scripts/purge.lua KEYS=$SRC/scripts/keys.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_HAR CDNCTL_DEBUG NO_COLOR

start_sandbox sb --pending 0 --log "$T/sblog"
use "$SURL"
printf 'domain\nexample.com\n' >"$T/d.csv"
"$BIN" -e 'for _, h in ipairs(shortpixel.hosts("example.com")) do assert(shortpixel.add_domain(h)) end' \
  || { echo "setup failed"; exit 1; }
requests() { wc -l <"$T/sblog"; }
# report ARGS...: report.lua on $IN (d.csv by default; 20 s at most); sets st
IN=$T/d.csv
report() { timeout 20 "$BIN" "$REPORT" "$IN" "$@" >"$T/out" 2>"$T/err"; st=$?; }
# refused WHAT ARGS...: report.lua refuses with exit 2, one line, no request
refused() {
  local what=$1 n0; shift; n0=$(requests)
  report "$@"
  [ $st = 2 ] && [ "$(requests)" = "$n0" ] && [ "$(wc -l <"$T/err")" = 1 ] \
    && ok "$what is refused before any request (exit 2, one line: $(cat "$T/err"))" \
    || bad "$what ($st, $(($(requests) - n0)) requests)" "$(cat "$T/err")"
}

# --- character devices: a private node first, then /dev/null ----------------
mknod "$T/null" c 1 3
report --csv "$T/null" --json "$T/null"
[ $st = 0 ] && [ -c "$T/null" ] && safe_dev=1 || safe_dev=
[ -n "$safe_dev" ] && ok "a character device is written in place (twice in one run)" || bad "char device ($st)" "$(cat "$T/err"; ls -l "$T/null")"
if [ -n "$safe_dev" ]; then
  report --csv /dev/null
  [ $st = 0 ] && [ -c /dev/null ] && ok "--csv /dev/null keeps /dev/null" || bad "/dev/null ($st)" "$(cat "$T/err")"
  timeout 20 "$BIN" "$REPORT" "$T/d.csv" --json /dev/stdout >"$T/stdout.json" 2>"$T/err"; st=$?
  [ $st = 0 ] && [ -L /dev/stdout ] && grep -q '"hosts"' "$T/stdout.json" && grep -q 'written: /dev/stdout' "$T/stdout.json" \
    && ok "--json /dev/stdout into a file: appended to what the shell opened" || bad "/dev/stdout to a file ($st)" "$(cat "$T/err")"
  timeout 20 "$BIN" "$REPORT" "$T/d.csv" --json /dev/stdout 2>"$T/err" | cat >"$T/pipe.json"; st=${PIPESTATUS[0]}
  [ $st = 0 ] && grep -q '"hosts"' "$T/pipe.json" && ok "--json /dev/stdout into a pipe: written in place" || bad "/dev/stdout pipe ($st)" "$(cat "$T/err")"
else
  bad "/dev/null and /dev/stdout not tried: the private device was not kept"
fi

# --- FIFOs -------------------------------------------------------------------
mkfifo "$T/fifo"
timeout 20 cat "$T/fifo" >"$T/fifo.out" & catpid=$!
report --csv "$T/fifo"
[ -p "$T/fifo" ] || kill $catpid 2>/dev/null
wait $catpid
[ $st = 0 ] && [ -p "$T/fifo" ] && grep -q '^record,' "$T/fifo.out" && ok "a FIFO with a reader is written in place" \
  || bad "fifo with a reader ($st)" "$(cat "$T/err"; ls -l "$T/fifo")"
refused "a FIFO nobody reads" --csv "$T/fifo"
[ -p "$T/fifo" ] && ok "the FIFO is still a FIFO" || bad "the FIFO was replaced"

# --- what is never written -----------------------------------------------------
mkdir "$T/dir"
refused "a directory" --html "$T/dir"
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T/sock"
refused "a socket" --json "$T/sock"
[ -S "$T/sock" ] && ok "the socket is still a socket" || bad "the socket was replaced"
mknod "$T/blk" b 7 200
refused "a block device" --csv "$T/blk"
[ -b "$T/blk" ] && ok "the block device is still one" || bad "the block device was replaced"
refused "a missing folder" --html "$T/nowhere/r.html"
refused "a file in place of a folder" --html "$T/d.csv/r.html"

# --- regular files and links ---------------------------------------------------------
printf 'old\n' >"$T/r.csv"; chmod 640 "$T/r.csv"; ln "$T/r.csv" "$T/r.hardlink"
report --csv "$T/r.csv"
[ $st = 0 ] && grep -q '^record,' "$T/r.csv" && [ "$(cat "$T/r.hardlink")" = old ] \
  && ok "a regular file is replaced by a new one (a hard link keeps the old)" || bad "regular ($st)" "$(cat "$T/err")"
[ "$(stat -c %a "$T/r.csv")" = 640 ] && ok "a replaced file keeps its mode (640)" || bad "mode $(stat -c %a "$T/r.csv")"
report --json "$T/new.json"
[ $st = 0 ] && [ "$(stat -c %a "$T/new.json")" = 644 ] && ok "a new file has mode 644" || bad "new file ($st) $(stat -c %a "$T/new.json")"
ls "$T" | grep -q '\.tmp\.' && bad "a temporary file was left" "$(ls "$T")" || ok "no temporary file left"

mkdir "$T/real"; printf 'old\n' >"$T/real/t.csv"; chmod 600 "$T/real/t.csv"; ln -s real/t.csv "$T/link.csv"
report --csv "$T/link.csv"
[ $st = 0 ] && [ -L "$T/link.csv" ] && grep -q '^record,' "$T/real/t.csv" && [ "$(stat -c %a "$T/real/t.csv")" = 600 ] \
  && ok "a symlink is followed: its target replaced (mode kept), the link stays" || bad "symlink ($st)" "$(cat "$T/err"; ls -l "$T/link.csv")"
ln -s real/dangling.json "$T/dangling.json"
report --json "$T/dangling.json"
[ $st = 0 ] && [ -L "$T/dangling.json" ] && grep -q '"hosts"' "$T/real/dangling.json" \
  && ok "a dangling symlink: its target is created, the link stays" || bad "dangling ($st)" "$(cat "$T/err"; ls -l "$T" "$T/real")"

# --- the input and the other outputs ---------------------------------------------------
refused "two outputs to one file" --csv "$T/same" --json "$T/same"
ln -s same2 "$T/same2.link"
refused "two outputs to one new file through a symlink" --csv "$T/same2" --json "$T/same2.link"
cp "$T/d.csv" "$T/in.csv"; IN=$T/in.csv
refused "an output onto the input" --csv "$T/in.csv"
ln "$T/in.csv" "$T/in.hardlink"
refused "an output onto a hard link of the input" --json "$T/in.hardlink"
cmp -s "$T/d.csv" "$T/in.csv" && ok "the input is intact" || bad "input changed" "$(cat "$T/in.csv")"
IN=$T/d.csv

# --- --har ---------------------------------------------------------------------------
n0=$(requests)
timeout 20 "$BIN" --har "$T/x.json" "$REPORT" "$T/d.csv" --json "$T/x.json" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(requests)" = "$n0" ] && ok "--har and --json on one file: refused before any request" || bad "har = json ($st)" "$(cat "$T/err")"
cp "$T/d.csv" "$T/hin.csv"
timeout 20 "$BIN" --har "$T/hin.csv" "$REPORT" "$T/hin.csv" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(requests)" = "$n0" ] && cmp -s "$T/d.csv" "$T/hin.csv" \
  && ok "--har onto the script's input: refused, the input intact" || bad "har = input ($st)" "$(cat "$T/err"; head -2 "$T/d.csv")"
timeout 20 "$BIN" --har "$T/refused.har" "$REPORT" "$T/d.csv" --csv "$T/dir" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ ! -e "$T/refused.har" ] && ok "a run refused for its paths writes no HAR" || bad "refused run's HAR ($st)" "$(cat "$T/err"; ls -l "$T/refused.har")"
mkfifo "$T/fifo2"
timeout 10 "$BIN" --har "$T/fifo2" -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(requests)" = "$n0" ] && ok "--har to a FIFO nobody reads: refused at once" || bad "har fifo ($st)" "$(cat "$T/err")"
printf 'old\n' >"$T/h.har"; ln -s h.har "$T/h.link"
"$BIN" --har "$T/h.link" -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ -L "$T/h.link" ] && grep -q '"entries"' "$T/h.har" && [ "$(stat -c %a "$T/h.har")" = 600 ] \
  && ok "--har through a symlink: the target written (0600), the link stays" || bad "har link ($st)" "$(cat "$T/err")"
"$BIN" --har "$T/nowhere/x.har" -e 'assert(shortpixel.read_domain("example.com"))' >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(requests)" = "$((n0 + 1))" ] && ok "--har in a missing folder: refused before any request" || bad "har missing folder ($st)" "$(cat "$T/err")"

# --- onboard's --out (the same rules) ---------------------------
mknod "$T/null2" c 1 3
timeout 30 "$BIN" "$SRC/scripts/onboard.lua" "$T/d.csv" --out "$T/null2" --journal "$T/j" >"$T/out" 2>"$T/err"; st=$?
[ -c "$T/null2" ] && ok "onboard --out a character device: written in place ($st)" || bad "onboard --out device ($st)" "$(cat "$T/err")"

# --- inputs ------------------------------------------------------------------------------
n0=$(requests)
report_in() { timeout 20 "$BIN" "$REPORT" "$1" >"$T/out" 2>"$T/err"; st=$?; }
report_in "$T/dir"
[ $st = 2 ] && grep -q 'is a directory' "$T/err" && [ "$(requests)" = "$n0" ] \
  && ok "report: a directory as input is refused ($(cat "$T/err" | head -1))" || bad "report dir input ($st)" "$(cat "$T/err")"
# bounded: without the cap, /dev/zero would climb to out of memory
limit() { if [ -n "${CDNCTL_SANITIZE:-}" ] && [ "$CDNCTL_SANITIZE" != OFF ]; then "$@"; else (ulimit -v 1000000; "$@"); fi; }
limit timeout 20 "$BIN" "$PURGE" --from /dev/zero >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q 'not a text file' "$T/err" && [ "$(requests)" = "$n0" ] \
  && ok "purge --from /dev/zero fails at once ($(head -1 "$T/err"))" || bad "/dev/zero ($st)" "$(head -c 300 "$T/err")"
timeout 20 "$BIN" "$PURGE" --from "$T/dir" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q 'is a directory' "$T/err" && ok "purge --from a directory is refused" || bad "purge dir ($st)" "$(cat "$T/err")"
truncate -s 65M "$T/big.csv"
limit timeout 20 "$BIN" "$PURGE" --from "$T/big.csv" >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q '64 MiB' "$T/err" && [ "$(requests)" = "$n0" ] \
  && ok "an input over 64 MiB is refused ($(head -1 "$T/err"))" || bad "big input ($st)" "$(head -c 300 "$T/err")"

# --- standard output is checked ------------------------------------------------------------
timeout 20 "$BIN" "$KEYS" create --label full >/dev/full 2>"$T/err"; st=$?
[ $st != 0 ] && ! grep -q 'printed this once' "$T/err" && grep -q 'created sub-key \*\*\*\*' "$T/err" \
  && ok "keys.lua create > /dev/full: exit $st, no claim, the key it made reported masked" || bad "create > /dev/full ($st)" "$(cat "$T/err")"
grep -q 'list --show-keys' "$T/err" && ok "and it says how to see the key" || bad "no way to the key" "$(cat "$T/err")"
timeout 20 "$BIN" "$PURGE" --yes example.com >/dev/full 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q 'standard output' "$T/err" && ok "purge.lua > /dev/full: exit 1, says so" || bad "purge > /dev/full ($st)" "$(cat "$T/err")"
"$BIN" --version >/dev/full 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q 'cannot write to standard output' "$T/err" && ok "cdnctl --version > /dev/full: exit 1" || bad "--version > /dev/full ($st)" "$(cat "$T/err")"
finish
