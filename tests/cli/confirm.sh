#!/usr/bin/env bash
# Destructive operations ask first: `cdnctl call` of the five operations the
# table marks, purge.lua and keys.lua remove ask on a terminal, naming what
# will go; --yes skips the question; without a terminal and without --yes
# they exit 2 and send nothing (the sandbox's log proves it). The embedded
# sandbox asks too. Bindings in a user's script do not ask. `call --dry-run`
# prints the exact request, key masked, and sends nothing, not even a read;
# purge.lua --dry-run lists the hosts. purge.lua counts hosts not tried
# after Ctrl-C apart from failures.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v tmux >/dev/null || { echo "tmux is needed"; exit 1; }
PURGE=$SRC/scripts/purge.lua KEYS=$SRC/scripts/keys.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset NO_COLOR CDNCTL_DEBUG
export TMUX_TMPDIR=$T
trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT

start_sandbox main --pending 0 --log "$T/log"
use "$SURL"
"$BIN" -e '
local s = assert(easyio.create_site("https://www.shop.example.com/"))
local k = assert(easyio.create_key())
assert(easyio.change_key(k.sub_key, { label = "acme" }))
local k2 = assert(easyio.create_key())
cdnctl.write_unmasked(io.stdout, s.id, " ", s.alias, " ", k.sub_key, " ", k2.sub_key, "\n")
for _, h in ipairs({ "alpha.example.com", "www.alpha.example.com", "beta.example.com", "www.beta.example.com" }) do
  assert(shortpixel.add_domain(h))
end' >"$T/setup" 2>&1 || { echo "setup failed: $(cat "$T/setup")"; exit 1; }
read -r SITE ALIAS SUB SUB2 <"$T/setup"
MSUB="****${SUB: -4}" MSUB2="****${SUB2: -4}"

# mark: remember how many requests the sandbox has seen; sent: those since
mark() { base=$(wc -l <"$T/log"); }
sent() { tail -n +$((base + 1)) "$T/log" | sed 's#\\/#/#g'; }
nothing_sent() { [ -z "$(sent)" ]; }
purges() {
  curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
d = json.load(sys.stdin)["shortpixel"]["domains"].get(sys.argv[1], {})
p = d.get("purges") or {}
print(p.get(sys.argv[2], 0) if isinstance(p, dict) else 0)' "$1" "$2"
}
no_keys() { ! grep -qE "spDemoAgency00000001|ez-demo-account-0001|$SUB|$SUB2" "$@"; }

# --- without a terminal and without --yes: exit 2, nothing sent
for c in "easyio.remove_site $SITE" "shortpixel.revoke_domain alpha.example.com" "easyio.remove_key $SUB" \
         "shortpixel.purge_storage_bulk alpha.example.com" "shortpixel.purge_cdn_cache_bulk alpha.example.com both=true"; do
  mark
  # shellcheck disable=SC2086
  "$BIN" call $c </dev/null >"$T/out" 2>"$T/err"; st=$?
  [ $st = 2 ] && nothing_sent && grep -q -- '--yes' "$T/err" \
    && ok "call ${c%% *} without a terminal nor --yes: exit 2, says --yes, sends nothing (not even a read)" \
    || bad "call $c without a terminal ($st)" "$(cat "$T/out" "$T/err"; sent)"
done
no_keys "$T/err" && ok "the refusal shows no key" || bad "a key in the refusal" "$(cat "$T/err")"
mark
"$BIN" "$PURGE" alpha.example.com beta.example.com </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && nothing_sent && grep -q -- '--yes' "$T/err" && [ "$(purges alpha.example.com cdn)" = 0 ] \
  && ok "purge.lua without a terminal nor --yes: exit 2, nothing sent" || bad "purge.lua no terminal ($st)" "$(cat "$T/out" "$T/err"; sent)"
for s in "$SUB" "$MSUB"; do
  mark
  "$BIN" "$KEYS" remove "$s" </dev/null >"$T/out" 2>"$T/err"; st=$?
  [ $st = 2 ] && nothing_sent && grep -q -- '--yes' "$T/err" \
    && ok "keys.lua remove ${s:0:4}... without a terminal nor --yes: exit 2, nothing sent (no show_keys either)" \
    || bad "keys.lua remove no terminal ($st)" "$(cat "$T/out" "$T/err"; sent)"
done
"$BIN" --sandbox call easyio.remove_site 1 </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q -- '--yes' "$T/err" && ok "--sandbox: a rehearsal asks as production does (exit 2 without a terminal)" \
  || bad "--sandbox call ($st)" "$(cat "$T/out" "$T/err")"
"$BIN" --sandbox "$PURGE" example.com </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && ok "--sandbox purge.lua: exit 2 without a terminal" || bad "--sandbox purge.lua ($st)" "$(cat "$T/out" "$T/err")"

# --- a user's script is explicit: bindings do not ask
mark
"$BIN" -e 'assert(shortpixel.purge_storage_bulk("beta.example.com"))' </dev/null >"$T/out" 2>&1; st=$?
[ $st = 0 ] && sent | grep -q 'purge-storage-bulk' && ok "a binding called from a script does not ask" || bad "binding in a script ($st)" "$(cat "$T/out")"

# --- --dry-run: the exact request, key masked, nothing sent
mark
"$BIN" call --dry-run easyio.remove_site "$SITE" </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && nothing_sent && grep -qxF "POST $SURL/exactdn/remove.php" "$T/out" && grep -qxF "api_key=****0001&site_id=$SITE" "$T/out" \
  && grep -qxF 'Content-Type: application/x-www-form-urlencoded' "$T/out" \
  && ok "call --dry-run remove_site: method, URL, headers and body, key masked; nothing sent, no question" \
  || bad "dry-run remove_site ($st)" "$(cat "$T/out" "$T/err"; sent)"
mark
"$BIN" call shortpixel.purge_cdn_cache_bulk https://Alpha.Example.com/ both=true --dry-run >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && nothing_sent && grep -qxF "GET $SURL/purge-cdn-cache-bulk/****0001/alpha.example.com" "$T/out" \
  && grep -qxF "GET $SURL/purge-cdn-cache-bulk/****0001/www.alpha.example.com" "$T/out" \
  && ok "call --dry-run of a purge with both=true: both requests, input normalised, key masked" \
  || bad "dry-run purge ($st)" "$(cat "$T/out" "$T/err"; sent)"
mark
"$BIN" call --dry-run easyio.change_key "$SUB" label=new >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && nothing_sent && grep -qxF "POST $SURL/api_key/show.php" "$T/out" && grep -qxF "POST $SURL/api_key/change.php" "$T/out" \
  && grep -q "label=new" "$T/out" && grep -q 'allowed=<allowed read with show_keys>' "$T/out" \
  && grep -q 'site_limit=<site_limit read with show_keys>' "$T/out" && no_keys "$T/out" "$T/err" \
  && ok "call --dry-run change_key: shows the read it depends on and the fields it would read; sends not even the read" \
  || bad "dry-run change_key ($st)" "$(cat "$T/out" "$T/err"; sent)"
"$BIN" call --dry-run shortpixel.read_domain example.com refresh=true >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -qxF "GET $SURL/read-domain/example.com/refresh" "$T/out" && ok "call --dry-run of a read: its URL with path options" \
  || bad "dry-run read_domain ($st)" "$(cat "$T/out")"
"$BIN" call --dry-run easyio.remove_site 0 >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && grep -q 'site_id: must be a positive integer' "$T/err" && ok "call --dry-run refuses bad input as the binding does (exit 2)" \
  || bad "dry-run bad input ($st)" "$(cat "$T/out" "$T/err")"
mark
"$BIN" "$PURGE" --dry-run alpha.example.com beta.example.com </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && nothing_sent && [ "$(grep -c '^would purge ' "$T/out")" = 4 ] && grep -q '^would purge  *www.beta.example.com ' "$T/out" \
  && ok "purge.lua --dry-run lists the 4 hosts it would purge, sends nothing, asks nothing" \
  || bad "purge.lua --dry-run ($st)" "$(cat "$T/out" "$T/err"; sent)"

# --- --yes: no question, done
mark
"$BIN" call --yes easyio.remove_key "$SUB2" </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && sent | grep -q 'api_key/remove.php' && ok "call --yes: no question, the operation runs" || bad "call --yes ($st)" "$(cat "$T/out" "$T/err")"
"$BIN" "$PURGE" --yes --storage beta.example.com </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(purges www.beta.example.com storage)" = 1 ] && ok "purge.lua --yes: purged without a terminal" || bad "purge.lua --yes ($st)" "$(cat "$T/out" "$T/err")"

# --- on a terminal (tmux): the question names what goes; y/yes proceeds, anything else or EOF declines with 2
n=0
screen() { tmux capture-pane -t "$S" -p -S -100; }
wait_for() { local i; for i in $(seq 200); do screen | grep -qE -- "$1" && return 0; sleep 0.05; done; return 1; }
# on_tty CMD...: run CMD on a fresh terminal (session $S); the screen ends with EXITED-status
on_tty() {
  n=$((n + 1)); S=cdnctl-confirm-$$-$n
  local env="env HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=$SHORTPIXEL_API_KEY EASYIO_API_KEY=$EASYIO_API_KEY"
  env="$env CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL"
  tmux new-session -d -s "$S" -x 200 -y 50 "$env $*; echo EXITED-\$?; sleep 30"
}
tty_bad() { bad "$1" "screen: $(screen | grep -v '^$')"$'\n'"sent: $(sent)"; }

mark
on_tty "$BIN" call easyio.remove_site "$SITE"
wait_for "remove the Easy IO site $SITE \(https://www.shop.example.com/, alias $ALIAS\)\? \[y/N\]" \
  && ok "call on a terminal asks, naming the site's URL and alias (read with show_sites)" || tty_bad "remove_site question"
tmux send-keys -t "$S" n Enter
wait_for 'EXITED-2' && ! sent | grep -q 'exactdn/remove.php' && sent | grep -q 'exactdn/show.php' \
  && ok "answering n declines: exit 2, nothing removed" || tty_bad "remove_site declined"
mark
on_tty "$BIN" call easyio.remove_site "$SITE"
wait_for '\[y/N\]' && tmux send-keys -t "$S" y Enter
wait_for 'EXITED-0' && sent | grep -q 'exactdn/remove.php' && ok "answering y removes the site: exit 0" || tty_bad "remove_site confirmed"

mark
on_tty "$BIN" "$PURGE" alpha.example.com beta.example.com
wait_for 'purge CDN cache and storage of 4 hosts: alpha.example.com, www.alpha.example.com, beta.example.com, www.beta.example.com\? \[y/N\]' \
  && ok "purge.lua asks, with the number of hosts and their names" || tty_bad "purge.lua question"
tmux send-keys -t "$S" Enter
wait_for 'EXITED-2' && nothing_sent && ok "purge.lua: an empty answer declines, exit 2, nothing sent" || tty_bad "purge.lua declined"
on_tty "$BIN" "$PURGE" alpha.example.com
wait_for '\[y/N\]' && tmux send-keys -t "$S" yes Enter
wait_for 'EXITED-0' && [ "$(purges www.alpha.example.com cdn)" = 1 ] && ok "purge.lua: yes purges, exit 0" || tty_bad "purge.lua confirmed"

mark
on_tty "$BIN" "$KEYS" remove "'$MSUB'"
wait_for "remove the Easy IO sub-key \*\*\*\*${SUB: -4} \(label 'acme'" && ok "keys.lua remove asks, naming the sub-key masked and its label" || tty_bad "keys.lua question"
screen | grep -qF "$SUB" && bad "the question shows the sub-key in clear" || ok "the question masks the sub-key"
tmux send-keys -t "$S" C-d
wait_for 'EXITED-2' && ! sent | grep -q 'api_key/remove.php' && ok "keys.lua remove: EOF declines, exit 2, nothing removed" || tty_bad "keys.lua EOF"
[ "$(sent | grep -c 'api_key/show.php')" = 1 ] && ok "keys.lua remove of a masked sub-key reads show_keys once (to find it and to name it)" \
  || tty_bad "keys.lua remove: show_keys read $(sent | grep -c 'api_key/show.php') times"

on_tty "$BIN" --sandbox call shortpixel.purge_cdn_cache_bulk example.com
wait_for 'purge CDN cache and storage of 1 host: example.com\? \[y/N\]' && ok "--sandbox call on a terminal asks as production does" || tty_bad "--sandbox question"
tmux send-keys -t "$S" no Enter
wait_for 'EXITED-2' && ok "--sandbox: no declines with exit 2" || tty_bad "--sandbox declined"

mark
on_tty "$BIN" "$PURGE" alpha.example.com
wait_for '\[y/N\]' && tmux send-keys -t "$S" C-c
wait_for 'EXITED-2' && nothing_sent && ok "purge.lua: Ctrl-C at the question declines, exit 2, nothing sent" || tty_bad "purge.lua Ctrl-C"

# --- Ctrl-C during purge.lua: the hosts not tried are counted apart from the failed
start_fixture
curl -sf -X POST --data '[{"status":200,"body":"{\"Status\":2,\"Message\":\"ok\"}","delay":0.3,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null
CDNCTL_SHORTPIXEL_URL=$URL "$BIN" "$PURGE" --yes --concurrency 1 a.example.com b.example.com c.example.com d.example.com \
  >"$T/int.out" 2>"$T/int.err" &
RUN_PID=$!
cleanup_pid $RUN_PID
for _ in $(seq 200); do [ "$(curl -sf "$URL/_fixture/count")" -ge 1 ] 2>/dev/null && break; sleep 0.05; done
kill -INT $RUN_PID
wait $RUN_PID; st=$?
nt=$(grep -c '^not tried ' "$T/int.out")
[ "$nt" -ge 1 ] && grep -qE "^8 hosts: [0-9]+ purged, 0 not associated with the key, 0 failed, $nt not tried \(interrupted\); 0 bad inputs$" "$T/int.out" \
  && ok "after Ctrl-C, purge.lua counts $nt hosts not tried (interrupted) apart from failed" || bad "interrupted summary ($st)" "$(cat "$T/int.out" "$T/int.err")"

# --- the table marks them: help says so
"$BIN" -e 'help "remove_site"' >"$T/out" 2>&1
grep -q '^  destructive: irreversible' "$T/out" && ok "help names a destructive operation" || bad "help" "$(cat "$T/out")"

finish
