#!/usr/bin/env bash
# bench/sandbox-state.sh [ROUNDS]: what --state costs as a rehearsal grows.
# Wall time of 1,000 and of 5,000 add_domain calls (16 in flight, through
# the bindings) against `cdnctl sandbox --state FILE`, a fresh sandbox and
# state file for each run; ROUNDS rounds (default 5), the median of each,
# and the ratio 5,000 / 1,000 (linear would be 5; a rewrite of the whole
# file per change is about 25). Also both without --state, for scale: the
# machine's own figures, since other loads on it move every number.
# Not a test: figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
BIN=${CDNCTL_BIN:-build/cdnctl}
T=$(mktemp -d)
SB=
trap '[ -n "$SB" ] && kill $SB 2>/dev/null; rm -rf "$T"' EXIT

# run N [sandbox options...]: seconds for N add_domain calls
run() {
  local n=$1; shift
  rm -f "$T"/state.json* "$T/url"
  "$BIN" sandbox "$@" >"$T/url" 2>"$T/err" & SB=$!
  for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
  local url; url=$(head -1 "$T/url")
  CDNCTL_SHORTPIXEL_URL=$url CDNCTL_SHORTPIXEL_API_URL=$url CDNCTL_EASYIO_URL=$url \
  SHORTPIXEL_API_KEY=spDemoAgency00000001 "$BIN" -e "
    local n, i = $n, 0
    local ok = 0
    cdnctl.parallel(function() i = i + 1; if i <= n then return i end end,
      function(k) if shortpixel.add_domain('b' .. k .. '.example.com') then ok = ok + 1 end end,
      { concurrency = 16 })
    assert(ok == n, ok .. ' of ' .. n .. ' answered')" >/dev/null
  kill -TERM $SB; wait $SB || true; SB=
}
# secs N [options...]: wall time of run, in seconds
secs() { local t0 t1; t0=$(date +%s%N); run "$@"; t1=$(date +%s%N); echo "scale=3; ($t1 - $t0) / 1000000000" | bc; }
median() { tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

a=() b=() c=() d=()
for r in $(seq "$ROUNDS"); do
  a+=("$(secs 1000 --state "$T/state.json")")
  b+=("$(secs 5000 --state "$T/state.json")")
  c+=("$(secs 5000)")
  d+=("$(secs 1000)")
done
m1=$(echo "${a[*]}" | median) m5=$(echo "${b[*]}" | median) m0=$(echo "${c[*]}" | median) n1=$(echo "${d[*]}" | median)
echo "add_domain, 16 in flight, $ROUNDS rounds (median; each run includes the sandbox's start and stop)"
echo "1,000 with --state:    ${m1} s   (${a[*]})"
echo "5,000 with --state:    ${m5} s   (${b[*]})"
echo "1,000 without --state: ${n1} s   (${d[*]})"
echo "5,000 without --state: ${m0} s   (${c[*]})"
echo "ratio 5,000 / 1,000 with --state: $(echo "scale=2; $m5 / $m1" | bc) (linear: 5; the budget: 7); without: $(echo "scale=2; $m0 / $n1" | bc)"
echo "--state costs $(echo "scale=1; $m5 / $m0" | bc)x the run without it at 5,000"
