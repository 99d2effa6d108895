#!/usr/bin/env bash
# cdnctl sandbox's outputs (--state FILE with FILE.journal, --log FILE) go
# through the one check of a run's files (cdnctl.kit.files.check) before
# it serves: two outputs that are one file (the same name, the state's
# journal, a hard link) are refused with exit 2 and nothing served; a log
# in a folder that does not exist is a usage error (2); `-` means standard
# output, which already carries the sandbox's URL, so `--log -` is refused
# rather than writing a file named "-"; --compare's recording is an input
# no output may be. Each run has a watchdog (timeout 20).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
cd "$T" || exit 1
# refused NAME PATTERN ARGS...: the sandbox exits 2 at once, says PATTERN, serves nothing
refused() {
  local name=$1 pattern=$2; shift 2
  timeout 20 "$BIN" sandbox "$@" >out 2>err; local st=$?
  if [ $st = 2 ] && grep -q -- "$pattern" err && [ ! -s out ]; then ok "$name"
  else bad "$name" "exit $st; out: $(head -c 300 out); err: $(head -c 400 err)"; fi
}
refused "--state X --log X: the same file, refused (2)" "are the same file" --state st --log st
[ ! -e st ] && ok "nothing is written when refused" || bad "refused run wrote the state" "$(ls -l)"
refused "--log the state's journal: refused (2)" "are the same file" --state st2 --log st2.journal
refused "--log in a folder that does not exist: a usage error (2)" "^cdnctl sandbox: --log" --log "$T/nowhere/log"
refused "--log -: standard output carries the URL already, refused (2)" "standard output" --log -
[ ! -e ./- ] && ok "no file named '-' is made" || bad "a file named - exists"
printf '{"log":{"entries":[]}}' >rec.har
refused "--compare's recording as --log: refused (2)" "is the input" --compare rec.har --log rec.har
# the usual paths still work: a new log, /dev/null, a state file
"$BIN" sandbox --state good --log log >url 2>err &
cleanup_pid $!; P=$!
wait_file url || bad "the sandbox did not start" "$(cat err)"
curl -sf "$(head -1 url)/v2/api-status.php?key=spDemoAgency00000001" >/dev/null && wait_file log \
  && ok "--state FILE --log FILE (new files): serves and logs" || bad "good paths" "$(cat err)"
kill -TERM $P; wait $P
ln good hard
refused "--log a hard link of --state: refused (2)" "are the same file" --state good --log hard
finish
