#!/usr/bin/env bash
# cdnctl.parallel's progress line: drawn on stderr when it is a terminal,
# never otherwise, and silenced by --quiet.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v tmux >/dev/null || { echo "tmux is needed"; exit 1; }
start_fixture
curl -sf -X POST --data '[{"status":200,"body":"{\"Status\":2}","delay":0.05,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null
cat >"$T/run.lua" <<'LUA'
local items = {}
for i = 1, 40 do items[i] = "p" .. i .. ".example.com" end
cdnctl.parallel(items, function(d) return shortpixel.read_domain(d) end, { concurrency = 4 })
print("finished")
LUA
export CDNCTL_SHORTPIXEL_URL=$URL SHORTPIXEL_API_KEY=spDemoAgency00000001 TMUX_TMPDIR=$T
S=cdnctl-progress-$$
trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

tmux new-session -d -s $S -x 120 -y 10 "$BIN $T/run.lua; sleep 30"
for _ in $(seq 200); do tmux capture-pane -t $S -p | grep -q finished && break; sleep 0.05; done
screen=$(tmux capture-pane -t $S -p)
grep -qE '^\[40/40\] [0-9.]+/s ETA [0-9]+s failures 0' <<<"$screen" && ok "on a terminal the progress line shows done/total, rate, ETA and failures" || bad "progress on a tty" "$screen"

"$BIN" "$T/run.lua" >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] && ok "no progress line when stderr is not a terminal" || bad "progress off a tty" "$(cat -v "$T/err" | head -3)"

tmux new-session -d -s ${S}q -x 120 -y 10 "$BIN --quiet $T/run.lua; sleep 30"
for _ in $(seq 200); do tmux capture-pane -t ${S}q -p | grep -q finished && break; sleep 0.05; done
screen=$(tmux capture-pane -t ${S}q -p)
grep -q '\[40/40\]' <<<"$screen" && bad "--quiet silences the progress line" "$screen" || ok "--quiet silences the progress line"
finish
