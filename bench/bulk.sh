#!/usr/bin/env bash
# bench/bulk.sh [N] [LATENCY_MS] [ROUNDS] [WIDTHS]: N add_domain calls against
# the sandbox at a fixed latency, at each width (requests in flight) of
# WIDTHS (default "32 128 256"), by cdnctl.parallel and by curl --parallel,
# alternating in ROUNDS rounds (default 3) within one run. Prints, per width,
# the median wall time and peak RSS of each, and cdnctl's ratios to curl's
# (targets: time <= 1.05, RSS <= 1.5), then cdnctl's peak RSS at N = 2000
# against N at the first width (results streamed with on_result: it should
# not grow with N). BULK_OTHERS=1 adds, at the first width and N = 2000,
# xargs -P curl and a sequential curl loop (a sample of 100, extrapolated).
# Needs: curl, GNU time (Debian package "time").
# Not a test: figures only. About 2 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000} LAT=${2:-20} ROUNDS=${3:-3} WIDTHS=${4:-"32 128 256"}
BIN=${CDNCTL_BIN:-build/cdnctl}
KEY=spDemoAgency00000001
T=$(mktemp -d)
trap 'kill $SB 2>/dev/null || true; rm -rf "$T"' EXIT

"$BIN" sandbox --latency "$LAT" >"$T/url" 2>"$T/sandbox.err" &
SB=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url")
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL SHORTPIXEL_API_KEY=$KEY

# one run -> "wall rss_kb" on stdout
run_cdnctl() { # N C PREFIX
  /usr/bin/time -f "%e %M" -o "$T/t" "$BIN" bench/bulk.lua "$1" "$2" "$3" 2>"$T/cdnctl.err" \
    || { cat "$T/cdnctl.err" >&2; exit 1; }
  cat "$T/t"
}
run_curl() { # N C PREFIX
  for i in $(seq 1 "$1"); do printf 'url = "%s/add-domain/%s%d.bench.example/%s"\noutput = "/dev/null"\n' "$URL" "$3" "$i" "$KEY"; done >"$T/curl.cfg"
  /usr/bin/time -f "%e %M" -o "$T/t" curl -s --no-progress-meter --parallel --parallel-max "$2" -K "$T/curl.cfg" 2>/dev/null
  cat "$T/t"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf 'N=%s latency=%sms rounds=%s (sandbox at %s); medians of alternating rounds\n\n' "$N" "$LAT" "$ROUNDS" "$URL"
printf '%6s %10s %10s %8s %9s %9s %8s %s\n' "width" "cdnctl s" "curl s" "time x" "cdnctl MB" "curl MB" "rss x" "bound s"
first=""
for C in $WIDTHS; do
  : >"$T/cd.$C"; : >"$T/cu.$C"
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
      run_cdnctl "$N" "$C" "cd${C}r${r}x" >>"$T/cd.$C"; run_curl "$N" "$C" "cu${C}r${r}x" >>"$T/cu.$C"
    else
      run_curl "$N" "$C" "cu${C}r${r}x" >>"$T/cu.$C"; run_cdnctl "$N" "$C" "cd${C}r${r}x" >>"$T/cd.$C"
    fi
  done
  cw=$(awk '{print $1}' "$T/cd.$C" | median); uw=$(awk '{print $1}' "$T/cu.$C" | median)
  cr=$(awk '{print $2}' "$T/cd.$C" | median); ur=$(awk '{print $2}' "$T/cu.$C" | median)
  awk -v c="$C" -v cw="$cw" -v uw="$uw" -v cr="$cr" -v ur="$ur" -v n="$N" -v l="$LAT" 'BEGIN {
    printf "%6d %10.3f %10.3f %8.3f %9.1f %9.1f %8.3f %.3f\n", c, cw, uw, cw / uw, cr / 1024, ur / 1024, cr / ur, n * l / 1000 / c }'
  [ -n "$first" ] || { first=$C; big_rss=$cr; }
  echo "$C" >>"$T/widths"
done
echo
while read -r C; do # every round, to judge the noise
  printf '%6d rounds: cdnctl %s; curl %s\n' "$C" "$(awk '{printf "%s ", $1}' "$T/cd.$C")" "$(awk '{printf "%s ", $1}' "$T/cu.$C")"
done <"$T/widths"
echo "(targets: time x <= 1.05, rss x <= 1.5; bound: N x latency / width)"

small=$(run_cdnctl 2000 "$first" "sm" | awk '{print $2}')
awk -v a="$small" -v b="$big_rss" -v n="$N" -v c="$first" 'BEGIN {
  printf "cdnctl peak RSS at width %d: N=2000 %.1f MB, N=%d %.1f MB, ratio %.3f (target <= 1.10)\n", c, a / 1024, n, b / 1024, b / a }'

[ "${BULK_OTHERS:-0}" = 1 ] || exit 0
for i in $(seq 1 2000); do echo "$URL/add-domain/xa$i.bench.example/$KEY"; done >"$T/xargs.txt"
/usr/bin/time -f "%e %U %S %M" -o "$T/t" xargs -P "$first" -n 1 curl -s -o /dev/null <"$T/xargs.txt"
awk -v c="$first" '{ printf "xargs -P %d curl, N=2000: %.2f s wall, %.2f s CPU, %.1f MB\n", c, $1, $2 + $3, $4 / 1024 }' "$T/t"
head -100 "$T/xargs.txt" | sed 's/xa/sq/' >"$T/seq.txt"
/usr/bin/time -f "%e %U %S %M" -o "$T/t" bash -c 'while read -r u; do curl -s -o /dev/null "$u"; done' <"$T/seq.txt"
awk '{ printf "a sequential curl loop, N=2000 (100, x20): %.1f s wall, %.1f s CPU\n", $1 * 20, ($2 + $3) * 20 }' "$T/t"
