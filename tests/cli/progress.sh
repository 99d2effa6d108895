#!/usr/bin/env bash
# cdnctl.parallel's progress line: drawn on stderr when it is a terminal,
# never otherwise, silenced by --quiet, and erased when the run ends; an
# ETA past a minute (or days) is drawn like any other; opts.label,
# opts.total (an iterator's) and opts.failed show on it. Waits are for what
# the screen shows (watchdogs), never for a duration.
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
screen_of() { tmux capture-pane -t "$1" -p; }
wait_screen() { # session pattern [seconds]: poll the screen (a watchdog, not a duration)
  local i
  for i in $(seq $(( ${3:-20} * 20 ))); do screen_of "$1" | grep -qE -- "$2" && return 0; sleep 0.05; done
  return 1
}

# the raw stream of a terminal (script(1) gives a pty): every frame is there
script -qefc "$BIN $T/run.lua" "$T/typescript" </dev/null >/dev/null 2>&1
frames=$(tr '\r' '\n' <"$T/typescript")
grep -qE '^[0-9]+/40 \([0-9]+%\) [0-9.]+/s ETA [0-9]+s, 0 failed' <<<"$frames" \
  && ok "on a terminal the progress line shows done/total, percent, rate, ETA and failures" || bad "progress on a tty" "$(cat -v "$T/typescript" | head -5)"
grep -q $'\r\e\[Kfinished' "$T/typescript" \
  && ok "when the run ends the line is erased: what the script prints next starts on a clean line" || bad "line erased" "$(cat -v "$T/typescript" | tail -3)"

"$BIN" "$T/run.lua" >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] && ok "no progress line when stderr is not a terminal" || bad "progress off a tty" "$(cat -v "$T/err" | head -3)"

tmux new-session -d -s ${S}q -x 120 -y 10 "$BIN --quiet $T/run.lua; sleep 30"
wait_screen ${S}q finished
grep -qE '[0-9]+/40' <<<"$(screen_of ${S}q)" && bad "--quiet silences the progress line" "$(screen_of ${S}q)" || ok "--quiet silences the progress line"

# An ETA over a minute at once: 70 items at concurrency 1, the first one
# 1.3 s, the second waits until the test saw the line (a file appears).
cat >"$T/eta.lua" <<LUA
local items = {}
for i = 1, 70 do items[i] = i end
local _, errs, summary = cdnctl.parallel(items, function(i)
  if i == 1 then cdnctl.sleep(1.3) end
  if i == 2 then
    for _ = 1, 400 do -- a watchdog of 20 s
      local f = io.open("$T/go")
      if f then f:close(); break end
      cdnctl.sleep(0.05)
    end
  end
  return i
end, { concurrency = 1 })
print("finished", summary.done, summary.failed, next(errs))
LUA
tmux new-session -d -s ${S}e -x 120 -y 10 "$BIN $T/eta.lua; echo EXITED-\$?; sleep 30"
wait_screen ${S}e '^1/70 \(1%\) [0-9.]+/s ETA [1-9][0-9]*m[0-9]{2}s, 0 failed' \
  && ok "an ETA past a minute is drawn in minutes and seconds" || bad "ETA past a minute" "$(screen_of ${S}e)"
touch "$T/go"
wait_screen ${S}e 'EXITED-' 30
screen=$(screen_of ${S}e)
grep -qE '^finished[[:space:]]+70[[:space:]]+0[[:space:]]+nil$' <<<"$screen" && grep -q 'EXITED-0' <<<"$screen" \
  && ok "a run whose ETA passes a minute on a terminal goes on to the end: every item done, exit 0" || bad "long ETA run" "$screen"
grep -q 'ETA' <<<"$screen" && bad "the progress line is gone once the run ended" "$screen" || ok "the progress line is gone once the run ended"

# opts.label, an iterator's opts.total and opts.failed (results that are
# failures: odd items here) on the line; the last item waits for the test.
cat >"$T/rows.lua" <<LUA
local n = 0
local function next_item() n = n + 1; if n <= 10 then return n end end
local _, _, summary = cdnctl.parallel(next_item, function(i)
  if i == 10 then
    for _ = 1, 400 do
      local f = io.open("$T/go2")
      if f then f:close(); break end
      cdnctl.sleep(0.05)
    end
  end
  return { status = i % 2 == 1 and "failed" or "ok" }
end, { concurrency = 1, label = "rows", total = 10, failed = function(r) return r.status == "failed" end })
print("finished", summary.done, summary.failed, summary.total)
LUA
tmux new-session -d -s ${S}r -x 120 -y 10 "$BIN $T/rows.lua; echo EXITED-\$?; sleep 30"
wait_screen ${S}r '^rows: 9/10 \(90%\) [0-9.]+/s ETA [0-9]+s, 5 failed' \
  && ok "the line names its phase (opts.label), the iterator's total (opts.total) and the failed results (opts.failed)" \
  || bad "label, total and failed on the line" "$(screen_of ${S}r)"
touch "$T/go2"
wait_screen ${S}r 'EXITED-' 30
grep -qE '^finished[[:space:]]+10[[:space:]]+5[[:space:]]+10$' <<<"$(screen_of ${S}r)" && ok "summary.failed counts the results opts.failed calls failures" \
  || bad "summary.failed with opts.failed" "$(screen_of ${S}r)"
finish
