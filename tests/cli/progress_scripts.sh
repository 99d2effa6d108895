#!/usr/bin/env bash
# The ready scripts' progress lines on a terminal (script(1) gives a pty and
# keeps every frame): each names its phase, counts the rows the script calls
# failed (opts.failed), shows the input's total with percent (onboard reads
# an iterator, and says how many rows there are), and is erased before the
# summary. The fixture answers each request after 0.15 s at the soonest, so
# that frames are drawn between results (a lower bound, not a wait).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v script >/dev/null || { echo "script(1) is needed"; exit 1; }
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001
unset EASYIO_API_KEY CDNCTL_PROFILE
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL
q() { curl -sf -X POST --data-binary "$1" "$URL/_fixture/queue" >/dev/null; }
# on a pty: CMD... -> $T/typescript (raw), $T/frames (one frame a line)
on_tty() {
  local cmd; printf -v cmd '%q ' "$@"
  (cd "$T" && timeout -s KILL 60 script -qefc "$cmd" "$T/typescript" </dev/null >/dev/null 2>&1)
  tr '\r' '\n' <"$T/typescript" | sed 's/\x1b\[K//g' >"$T/frames"
}
REFUSED='{\"Status\":{\"Code\":-11,\"Message\":\"Domain is associated with another user\"}}'

# onboard: 6 clients, every add_domain refused: the line counts them as failed
{ echo "domain,service"; for i in $(seq 1 6); do echo "c$i.example.com,shortpixel"; done; } >"$T/clients.csv"
q "[{\"status\":200,\"body\":\"$REFUSED\",\"delay\":0.15,\"repeat_all\":true}]"
on_tty "$BIN" "$SRC/scripts/onboard.lua" clients.csv --concurrency 1
grep -qE '^onboard: [0-9]/6 \([0-9]+%\) [0-9.]+/s ETA [0-9]+s, [1-9] failed' "$T/frames" \
  && ok "onboard's line: its label, done of the input's 6 rows, percent, and the failed rows counted" \
  || bad "onboard's progress line" "$(grep -a onboard "$T/frames" | tail -3; grep -a '/s' "$T/frames" | tail -3)"
grep -qE '(^|: )[1-9](/6| done) .*, 0 failed' "$T/frames" && bad "a failed row is never counted as a success" "$(grep -a 'onboard:' "$T/frames")" \
  || ok "a failed row is never counted as a success"
grep -qaE $'\r\e\[K(6 clients: 0 ok, 6 failed|  [0-9]+ x )' "$T/typescript" && grep -qa "^6 clients: 0 ok, 6 failed" "$T/typescript" \
  && ok "the line is erased before what onboard prints at its end (the failures by reason, then the summary)" || bad "onboard: line erased" "$(cat -v "$T/typescript" | tail -4)"

# purge: refused purges are failures on its line
q "[{\"status\":200,\"body\":\"$REFUSED\",\"delay\":0.15,\"repeat_all\":true}]"
on_tty "$BIN" "$SRC/scripts/purge.lua" --yes --concurrency 1 p1.example.com p2.example.com p3.example.com
grep -qE '^purge: [0-9]/6 \([0-9]+%\) [0-9.]+/s ETA [0-9]+s, [1-9] failed' "$T/frames" \
  && ok "purge's line: its label, done/total, percent and the hosts not purged" \
  || bad "purge's progress line" "$(grep -a '/s' "$T/frames" | tail -4)"

# report: two phases, each line names its own
start_sandbox sb --pending 0
export CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL EASYIO_API_KEY=ez-demo-account-0001
"$BIN" -e 'for _, d in ipairs({"r1.example.com", "r2.example.com"}) do
  for _, h in ipairs(shortpixel.hosts(d)) do assert(shortpixel.add_domain(h)) end
  assert(easyio.create_site("https://www." .. d .. "/")) end' >"$T/setup" 2>&1 || bad "report setup" "$(cat "$T/setup")"
printf 'domain\nr1.example.com\nr2.example.com\n' >"$T/domains.csv"
on_tty "$BIN" "$SRC/scripts/report.lua" domains.csv --concurrency 1
grep -qE '^ShortPixel hosts: [0-9]/4 \([0-9]+%\)' "$T/frames" && grep -qE '^Easy IO sites: [0-9]/2 \([0-9]+%\)' "$T/frames" \
  && ok "report's two phases each name theirs: ShortPixel hosts, then Easy IO sites" \
  || bad "report's phases" "$(grep -a '/s' "$T/frames" | head -6)"
finish
