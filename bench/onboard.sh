#!/usr/bin/env bash
# bench/onboard.sh [SMALL] [LARGE] [C]: scripts/onboard.lua's peak RSS at
# SMALL (2000) and LARGE (20000) clients (apex, www and an Easy IO site each,
# C = 32 in flight) against `cdnctl sandbox --pending 0`, each run with a
# fresh journal; prints both peaks and their ratio (target <= 1.5: the CSV
# is read, and the results written, as a stream).
# Needs GNU time (Debian package "time"). Not a test: figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${1:-2000} LARGE=${2:-20000} C=${3:-32}
BIN=$(realpath "${CDNCTL_BIN:-build/cdnctl}")
SCRIPT=$PWD/scripts/onboard.lua
T=$(mktemp -d)
trap 'kill $SB 2>/dev/null || true; rm -rf "$T"' EXIT

EZ=ez-bench-account-0001
"$BIN" sandbox --pending 0 --account "easyio:$EZ:$((SMALL + LARGE + 10))" >"$T/url" 2>"$T/sandbox.err" &
SB=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url")
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=$EZ

peak() { # N: onboard N new clients, print the peak RSS in kB and the wall time
  local n=$1
  { echo "domain,service"; for i in $(seq 1 "$n"); do echo "c$i-n$n.bench.example,both"; done; } >"$T/c$n.csv"
  /usr/bin/time -f "%M %e" -o "$T/t$n" "$BIN" "$SCRIPT" "$T/c$n.csv" --concurrency "$C" --out "$T/r$n.csv" \
    >"$T/out$n" 2>"$T/err$n" || { echo "onboard of $n clients failed:"; cat "$T/out$n" "$T/err$n"; exit 1; }
  cat "$T/t$n"
}
read -r small wall_s < <(peak "$SMALL")
read -r large wall_l < <(peak "$LARGE")
printf 'onboard.lua, C=%s, sandbox at %s\n' "$C" "$URL"
printf '%8s clients: peak RSS %6.1f MB (%.1f s)\n' "$SMALL" "$(awk -v k="$small" 'BEGIN{print k/1024}')" "$wall_s"
printf '%8s clients: peak RSS %6.1f MB (%.1f s)\n' "$LARGE" "$(awk -v k="$large" 'BEGIN{print k/1024}')" "$wall_l"
awk -v a="$small" -v b="$large" -v n="$LARGE" -v m="$SMALL" 'BEGIN { printf "ratio %s/%s: %.2f (target <= 1.50)\n", n, m, b / a }'
