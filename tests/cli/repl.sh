#!/usr/bin/env bash
# The prompt in a real terminal (tmux): completion, continuation lines,
# pretty results, help, Ctrl-C on a line and during a call, errors,
# Ctrl-D, and the history file's mode and masking.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v tmux >/dev/null || { echo "tmux is needed"; exit 1; }
S=cdnctl-repl-$$
export TMUX_TMPDIR=$T
trap 'tmux kill-server 2>/dev/null; rm -rf "$T"' EXIT
bad() { fail=$((fail+1)); echo "not ok - $1"; echo "#   screen:"; tmux capture-pane -t $S -p | sed 's/^/#   /' | grep -v '^#   $'; }
screen() { tmux capture-pane -t $S -p -S -200; }
wait_for() { # pattern [seconds]: poll the screen, no fixed sleeps
  local i
  for i in $(seq $(( ${2:-5} * 20 ))); do screen | grep -qE -- "$1" && return 0; sleep 0.05; done
  return 1
}
type_line() { tmux send-keys -t $S -l -- "$1"; tmux send-keys -t $S Enter; }

KEY=REPLSECRETkey0123456789
mkdir -p "$T/home"
tmux new-session -d -s $S -x 160 -y 50 \
  "env HOME=$T/home XDG_STATE_HOME=$T/state SHORTPIXEL_API_KEY=$KEY $BIN; echo EXITED-\$?; sleep 30"

wait_for '^> ?$' && ok "the prompt starts" || bad "the prompt starts"
screen | grep -q "key \*\*\*\*6789" && ok "the banner shows the key masked" || bad "banner masks the key"
screen | grep -qF "$KEY" && bad "the banner never shows the key" || ok "the banner never shows the key"

tmux send-keys -t $S -l 'shortpixel.re'; tmux send-keys -t $S Tab Tab
wait_for 'shortpixel.read_domain_cdn_usage\(' && screen | grep -q 'shortpixel.revoke_domain(' \
  && ok "Tab completes module fields by dotted path" || bad "completion"
tmux send-keys -t $S C-u Enter

type_line 'function twice(x)'
wait_for '^>> ?$' && ok "an open function continues on a >> prompt" || bad "continuation prompt"
type_line 'return x * 2'
type_line 'end'
type_line 'twice(21)'
wait_for '^42$' && ok "a multi-line function is defined and called" || bad "multi-line function"

type_line '{b = 1, a = {1, 2, 3}, "x"}, 1.5, 7'
wait_for '^\{"x", a = \{1, 2, 3\}, b = 1\}[[:space:]]+1\.5[[:space:]]+7$' && ok "results print pretty, side by side, without = or return" || bad "pretty results"

type_line 'help "add_domain"'
wait_for 'endpoint: GET https://no-cdn.shortpixel.ai/add-domain/DOMAIN/KEY' && ok "help shows a binding's endpoint from the table" || bad "help"

tmux send-keys -t $S -l 'this is half a line'; tmux send-keys -t $S C-c
wait_for '\^C' && ok "Ctrl-C on a line drops it" || bad "Ctrl-C on a line"
type_line '1 + 1'
wait_for '^2$' && ok "the prompt goes on after Ctrl-C" || bad "prompt after Ctrl-C"

type_line 'print("loop" .. "ing") while true do end'
wait_for '^looping$' # the loop runs: Ctrl-C now interrupts it, not the line being typed
tmux send-keys -t $S C-c
wait_for '(^|\^C)interrupted$' && ok "Ctrl-C during a running call cancels it: 'interrupted'" || bad "Ctrl-C during a call"
type_line 'print("sleep" .. "ing") cdnctl.sleep(30)'
wait_for '^sleeping$'
tmux send-keys -t $S C-c
wait_for '(^|\^C)interrupted$' && ! screen | grep -q 'sched\.lua' \
  && ok "Ctrl-C during cdnctl.sleep(30) says 'interrupted', no internal path" || bad "Ctrl-C during cdnctl.sleep"
type_line 'error("oops " .. 3)'
wait_for 'stdin:1: oops 3' && ok "an error prints its message" || bad "error message"
type_line '"still here"'
wait_for '^"still here"$' && ok "the prompt goes on after an error" || bad "prompt after error"
type_line 'shortpixel.add_domian("example.com")'
wait_for "did you mean shortpixel.add_domain\\?" && ok "a misspelt binding at the prompt: did you mean shortpixel.add_domain?" || bad "did-you-mean at the prompt"
type_line 'easyio.no_such_thing == nil'
wait_for '^true$' && ok "a missing field is still nil (if easyio.x then ... keeps working)" || bad "missing field nil"

type_line 'local opts = {key = "HISTORYsecret9999"}'
# the three ways a key used to reach the history in clear
type_line 'kvar = "LATERsecret-0001"'
type_line 'x = {key = kvar}'
type_line 'y = {["key"] = "BRACKETsecret-0002"}'
type_line 'z = {key = [[LONGBRACKETsecret-0003]]}'
type_line 'w = "FakeShapeKey00000042"'
type_line "print('$KEY')"
tmux send-keys -t $S C-d
wait_for 'EXITED-0' && ok "Ctrl-D on an empty line exits with status 0" || bad "Ctrl-D exit"

H=$T/state/cdnctl/history
[ -f "$H" ] && ok "history is saved under XDG_STATE_HOME/cdnctl/history" || bad "history saved"
[ "$(stat -c %a "$H" 2>/dev/null)" = 600 ] && ok "the history file has mode 0600" || bad "history mode $(stat -c %a "$H")"
grep -q 'twice(21)' "$H" && ok "history holds the lines typed" || bad "history content"
if grep -q 'HISTORYsecret9999' "$H" || grep -qF "$KEY" "$H"; then bad "keys never reach the history file"; else ok "keys never reach the history file"; fi
grep -q 'key = "\*\*\*\*9999"' "$H" && ok "a key = \"...\" string is saved masked" || bad "masked key in history: $(cat "$H")"
for s in LATERsecret-0001 BRACKETsecret-0002 LONGBRACKETsecret-0003 FakeShapeKey00000042; do
  grep -qF "$s" "$H" && bad "history: $s is saved in clear" || ok "history: $s never reaches the history file"
done
grep -qx 'kvar = "\*\*\*\*0001"' "$H" && ok "a literal later used as a key ({key = kvar}) is masked where it was typed" || bad "later key masked: $(grep kvar "$H")"
grep -qF 'y = {["key"] = "****0002"}' "$H" && ok '{["key"] = "..."} is saved masked' || bad "bracket key: $(grep '^y =' "$H")"
grep -qF 'z = {key = [[****0003]]}' "$H" && ok 'key = [[...]] is saved masked' || bad "long bracket key: $(grep '^z =' "$H")"
grep -qF 'w = "****0042"' "$H" && ok "a literal shaped like a ShortPixel key is saved masked" || bad "SP-shaped literal: $(grep '^w =' "$H")"

# SIGTERM ends the prompt (a Ctrl-C only cancels a line): exit 143, history saved
tmux new-session -d -s ${S}t -x 160 -y 20 "env HOME=$T/home XDG_STATE_HOME=$T/state2 $BIN; echo EXITED-\$?; sleep 30"
for _ in $(seq 100); do tmux capture-pane -t ${S}t -p | grep -qE '^> ?$' && break; sleep 0.05; done
tmux send-keys -t ${S}t -l 'x = 1'; tmux send-keys -t ${S}t Enter
pid=$(pgrep -n -f "^$BIN\$" || pgrep -n cdnctl)
kill -TERM "$pid"
for _ in $(seq 100); do tmux capture-pane -t ${S}t -p | grep -q 'EXITED-' && break; sleep 0.05; done
tmux capture-pane -t ${S}t -p | grep -q 'EXITED-143' && grep -q '^x = 1$' "$T/state2/cdnctl/history" 2>/dev/null \
  && ok "SIGTERM ends the prompt with status 143, the history saved" || { fail=$((fail+1)); echo "not ok - SIGTERM at the prompt"; tmux capture-pane -t ${S}t -p | sed 's/^/#   /'; }
finish
