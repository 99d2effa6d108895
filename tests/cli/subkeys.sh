#!/usr/bin/env bash
# Sub-keys are client credentials. Results given to Lua keep their real
# values, but everything printed masks them: a script's print, the prompt's
# results and history, `cdnctl call` in every format. A sub-key given to a
# binding is masked from then on too. `cdnctl call easyio.create_key` shows
# the new key once, in clear, and says so; keys.lua list --show-keys shows
# them in full on purpose (tests/cli/scripts_keys.sh).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
unset CDNCTL_DEBUG SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_PROFILE
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
SUB=ez-demo-subkey-0001     # the sandbox's demo sub-key
clean() { ! grep -qF -e "$SUB" -e "${SUB:0:12}" "$@"; }

# --- a script: the real value in Lua, masked in what it prints
cat >"$T/show.lua" <<'LUA'
local r = assert(easyio.show_keys())
io.stderr:write("real value kept: ", tostring(r.keys[1] == "ez-demo-subkey-" .. "0001"), "\n")
print("print", r.keys[1])
io.write("json ", cdnctl.json.encode(r), "\n")
local c = assert(easyio.create_key())
io.stderr:write("new key kept: ", tostring(#c.sub_key == 32), "\n")
print("new", c.sub_key, c.sub_key:reverse())
LUA
"$BIN" --sandbox "$T/show.lua" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q '^real value kept: true$' "$T/err" && grep -q '^new key kept: true$' "$T/err" \
  && ok "results given to Lua keep the sub-keys' real values" || bad "real values ($st)" "$(cat "$T/err")"
grep -q '^print	\*\*\*\*0001$' "$T/out" && ok "a script's print of a sub-key from show_keys is masked" || bad "print masked" "$(cat "$T/out")"
grep -q '^json .*"keys":\["\*\*\*\*0001"\]' "$T/out" && ok "a sub-key in encoded JSON (and as a map key) is masked" || bad "json masked" "$(grep json "$T/out")"
clean "$T/out" "$T/err" && ok "no sub-key from show_keys in a script's output" || bad "script output leaks" "$(cat "$T/out")"
NEW=$(awk -F'\t' '/^new/ {print $3}' "$T/out" | rev)
[[ $NEW =~ ^[a-z0-9]{32}$ ]] && ! grep -qF "$NEW" "$T/out" && grep -q "^new	\*\*\*\*${NEW: -4}	" "$T/out" \
  && ok "a sub-key from create_key is masked in what the script prints" || bad "create_key masked" "$(cat "$T/out")"

# --- a sub-key given to a binding is masked from then on
cat >"$T/given.lua" <<'LUA'
local _, err = easyio.remove_key("unknownClientSubKey-0042")
print("given", "unknownClientSubKey-0042", tostring(err))
LUA
"$BIN" --sandbox "$T/given.lua" >"$T/out" 2>"$T/err"
grep -q '^given	\*\*\*\*0042	' "$T/out" && ! grep -q unknownClient "$T/out" "$T/err" \
  && ok "a sub-key given to a binding is masked in output from then on" || bad "given sub-key" "$(cat "$T/out" "$T/err")"

# --- cdnctl call: every format masks sub-keys; create_key shows the new one once
start_sandbox sb --pending 0
use "$SURL"
export EASYIO_API_KEY=ez-demo-account-0001 SHORTPIXEL_API_KEY=spDemoAgency00000001
for fmt in json table csv; do
  "$BIN" call easyio.show_keys --output $fmt >"$T/out" 2>"$T/err"; st=$?
  [ $st = 0 ] && grep -q '\*\*\*\*0001' "$T/out" && clean "$T/out" "$T/err" \
    && ok "cdnctl call easyio.show_keys --output $fmt masks the sub-keys" || bad "call $fmt ($st)" "$(cat "$T/out" "$T/err")"
done
"$BIN" call easyio.create_key >"$T/out" 2>"$T/err"; st=$?
NEW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sub_key"])' "$T/out" 2>/dev/null)
[ $st = 0 ] && [[ $NEW =~ ^[a-z0-9]{32}$ ]] && [ "$(grep -o "$NEW" "$T/out" | wc -l)" = 1 ] \
  && ok "cdnctl call easyio.create_key prints the new key once, in clear" || bad "create_key clear ($st)" "$(cat "$T/out" "$T/err")"
grep -q "the new sub-key \*\*\*\*${NEW: -4} is shown this once" "$T/err" && ! grep -qF "$NEW" "$T/err" \
  && ok "create_key says the key will not be shown again (masked there)" || bad "create_key notice" "$(cat "$T/err")"
"$BIN" call easyio.create_key --output csv >"$T/out" 2>"$T/err"
grep -qE '^sub_key,[a-z0-9]{32}$' "$T/out" && ok "create_key --output csv shows the new key too" || bad "create_key csv" "$(cat "$T/out")"
"$BIN" call easyio.show_keys >"$T/out" 2>"$T/err"
grep -q "\*\*\*\*${NEW: -4}" "$T/out" && ! grep -qF "$NEW" "$T/out" && ok "afterwards show_keys masks the new key" || bad "new key masked later" "$(cat "$T/out")"

# --- the prompt: results and history
if command -v tmux >/dev/null; then
  S=cdnctl-subkeys-$$
  export TMUX_TMPDIR=$T
  trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
  screen() { tmux capture-pane -t $S -p -S -200; }
  wait_for() { local i; for i in $(seq $(( ${2:-5} * 20 ))); do screen | grep -qE -- "$1" && return 0; sleep 0.05; done; return 1; }
  type_line() { tmux send-keys -t $S -l -- "$1"; tmux send-keys -t $S Enter; }
  tmux new-session -d -s $S -x 200 -y 50 "env HOME=$T XDG_STATE_HOME=$T/state $BIN --sandbox; echo EXITED-\$?; sleep 30"
  wait_for '^> ?$' && ok "the prompt starts" || bad "the prompt starts"
  type_line 'easyio.show_keys()'
  wait_for 'keys = \{"\*\*\*\*0001"\}' && ok "the prompt prints show_keys with the sub-keys masked" || bad "prompt show_keys" "$(screen | tail -8)"
  type_line 'easyio.create_key()'
  wait_for 'sub_key = "\*\*\*\*' && ok "the prompt prints create_key's new key masked" || bad "prompt create_key" "$(screen | tail -5)"
  type_line 'easyio.change_key("ez-demo-subkey-0001", {label = "via prompt"})'
  wait_for 'label = "via prompt"' && ok "the prompt changes a sub-key given in full" || bad "prompt change_key" "$(screen | tail -5)"
  type_line 'CDNCTL_DONE = 1'
  type_line '"subkeys-" .. "done"'
  wait_for '^"subkeys-done"$' || bad "the last line ran" "$(screen | tail -5)"
  tmux send-keys -t $S C-d
  wait_for 'EXITED-0' && ok "the prompt exits" || bad "the prompt exits" "$(screen | tail -5)"
  screen | grep -v -e '^>' -e 'change_key("' >"$T/screen"
  clean "$T/screen" && ok "the prompt's output shows no sub-key" || bad "prompt output leaks" "$(grep -F "${SUB:0:12}" "$T/screen")"
  H=$T/state/cdnctl/history
  grep -q CDNCTL_DONE "$H" && clean "$H" && grep -qF 'easyio.change_key("****0001"' "$H" \
    && ok "the history masks a sub-key typed as an argument" || bad "history" "$(cat "$H")"
else
  echo "# tmux not found: the prompt's part is skipped"
fi

finish
