#!/usr/bin/env bash
# At the prompt (a real terminal, tmux): a binding's result prints without
# its empty second value; a destructive binding asks first, as call does,
# once per call, or once for a whole cdnctl.parallel run naming the count;
# cdnctl.confirmations(false) turns the questions off until the prompt
# ends; a script fed on stdin never asks.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v tmux >/dev/null || { echo "tmux is needed"; exit 1; }
S=cdnctl-confirm-$$
export TMUX_TMPDIR=$T
trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
screen() { tmux capture-pane -t $S -p -S -500; }
bad() { fail=$((fail+1)); echo "not ok - $1"; echo "#   screen:"; screen | tail -25 | sed 's/^/#   /'; }
wait_for() { # pattern [seconds]: poll the screen, no fixed sleeps
  local i
  for i in $(seq $(( ${2:-10} * 20 ))); do screen | grep -qE -- "$1" && return 0; sleep 0.05; done
  return 1
}
type_line() { tmux send-keys -t $S -l -- "$1"; tmux send-keys -t $S Enter; }
questions() { screen | grep -c '\[y/N\]'; }

export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_PROFILE SHORTPIXEL_API_KEY
start_sandbox sb --pending 0
use "$SURL"
for h in one two three four five; do
  "$BIN" -e "assert(easyio.create_site('https://$h.example.com/'))" >/dev/null 2>&1 || { echo "setup failed"; exit 1; }
done
tmux new-session -d -s $S -x 200 -y 60 \
  "env HOME=$T XDG_STATE_HOME=$T/state EASYIO_API_KEY=$EASYIO_API_KEY CDNCTL_EASYIO_URL=$SURL CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL $BIN; echo EXITED-\$?; sleep 30"
wait_for '^> ?$' || { bad "the prompt starts"; finish; }

type_line 'ids = {} for _, s in ipairs(easyio.show_sites().sites) do ids[s.site_url:match("//(%a+)")] = s.site_id end'
type_line 'easyio.show_sites("https://one.example.com/")'
wait_for 'live_sites = ' && ! screen | grep -qE '\}[[:space:]]+nil$' \
  && ok "a binding's result prints without its empty second value" || bad "no trailing nil"
type_line 'print("count", #easyio.show_sites().sites)'
wait_for '^count[[:space:]]+5$' || bad "five sites"

type_line 'easyio.remove_site(ids.one)'
wait_for 'remove the Easy IO site .*\? \[y/N\] ?$' && ok "a destructive binding asks first at the prompt" || bad "asks first"
type_line 'n'
wait_for 'not confirmed' && ok "declined: not confirmed" || bad "declined"
type_line 'print("after-no", #easyio.show_sites().sites)'
wait_for '^after-no[[:space:]]+5$' && ok "declined: nothing was removed" || bad "declined removes nothing"
type_line 'easyio.remove_site(ids.one)'
wait_for '\[y/N\] ?$'
type_line 'y'
type_line 'print("after-yes", #easyio.show_sites().sites)'
wait_for '^after-yes[[:space:]]+4$' && ok "confirmed: removed" || bad "confirmed removes"

before=$(questions)
type_line 'r = cdnctl.parallel({ ids.two, ids.three }, function(id) return easyio.remove_site(id) end)'
wait_for '2 calls of this cdnctl.parallel run\? \[y/N\] ?$' && ok "a cdnctl.parallel run asks once, naming the count" || bad "parallel asks"
type_line 'n'
type_line 'print("par-no", #easyio.show_sites().sites)'
wait_for '^par-no[[:space:]]+4$' && [ "$(questions)" = $((before + 1)) ] \
  && ok "declined for the run: one question, nothing removed" || bad "parallel declined ($(questions) vs $before)"
type_line 'r = cdnctl.parallel({ ids.two, ids.three }, function(id) return easyio.remove_site(id) end)'
wait_for '2 calls of this cdnctl.parallel run\? \[y/N\] ?$'
type_line 'y'
type_line 'print("par-yes", #easyio.show_sites().sites)'
wait_for '^par-yes[[:space:]]+2$' && [ "$(questions)" = $((before + 2)) ] \
  && ok "confirmed for the run: one question, every call sent" || bad "parallel confirmed"

before=$(questions)
type_line 'cdnctl.confirmations(false)'
type_line 'easyio.remove_site(ids.four)'
type_line 'print("off", #easyio.show_sites().sites)'
wait_for '^off[[:space:]]+1$' && [ "$(questions)" = "$before" ] \
  && ok "cdnctl.confirmations(false): no more questions" || bad "confirmations off"
type_line 'os.exit(0)'
wait_for 'EXITED-0' || bad "the prompt ends"

echo 'local s = easyio.show_sites("https://five.example.com/").sites[1]; print("piped", easyio.remove_site(s.site_id) ~= nil)' \
  | "$BIN" >"$T/out" 2>&1
grep -q '^piped[[:space:]]true$' "$T/out" && ok "a script fed on stdin never asks" || { fail=$((fail+1)); echo "not ok - piped"; cat "$T/out"; }
finish
