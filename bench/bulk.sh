#!/usr/bin/env bash
# bench/bulk.sh [N] [C] [LATENCY_MS]: N add_domain calls at C in flight
# against the sandbox with a fixed latency, by four clients measured in the
# same run: cdnctl.parallel, curl --parallel, xargs -P curl, a sequential
# curl loop (a sample, extrapolated). Prints wall time, CPU time and peak RSS
# for each, and each one's ratio to the bound N x latency / C. Then cdnctl's
# peak RSS at N = 20000 against N = 2000 (results streamed with on_result).
# Needs: curl, GNU time (Debian package "time"). Not a test: figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000} C=${2:-32} LAT=${3:-20}
BIN=${CDNCTL_BIN:-build/cdnctl}
KEY=spDemoAgency00000001
T=$(mktemp -d)
trap 'kill $SB 2>/dev/null || true; rm -rf "$T"' EXIT

"$BIN" sandbox --latency "$LAT" >"$T/url" 2>"$T/sandbox.err" &
SB=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url")
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL SHORTPIXEL_API_KEY=$KEY

bound=$(awk -v n="$N" -v c="$C" -v l="$LAT" 'BEGIN { printf "%.3f", n * l / 1000 / c }')
printf 'N=%s C=%s latency=%sms  bound N x latency / C = %ss  (sandbox at %s)\n\n' "$N" "$C" "$LAT" "$bound" "$URL"
printf '%-26s %9s %9s %9s %12s\n' "client" "wall s" "cpu s" "rss MB" "wall/bound"

report() { # name timefile [scale]
  local scale=${3:-1}
  read -r wall usr sys rss <"$2"
  awk -v name="$1" -v w="$wall" -v u="$usr" -v s="$sys" -v r="$rss" -v b="$bound" -v k="$scale" \
    'BEGIN { printf "%-26s %9.3f %9.3f %9.1f %12.3f\n", name, w*k, (u+s)*k, r/1024, w*k/b }'
}
urls() { for i in $(seq 1 "$2"); do echo "$URL/add-domain/$1$i.bench.example/$KEY"; done; }

/usr/bin/time -f "%e %U %S %M" -o "$T/t1" "$BIN" bench/bulk.lua "$N" "$C" cd 2>"$T/cdnctl.err" || { cat "$T/cdnctl.err"; exit 1; }
report "cdnctl.parallel" "$T/t1"

urls cp "$N" | sed 's/.*/url = "&"\noutput = "\/dev\/null"/' >"$T/curl.cfg"
/usr/bin/time -f "%e %U %S %M" -o "$T/t2" curl -s --no-progress-meter --parallel --parallel-max "$C" -K "$T/curl.cfg" 2>/dev/null
report "curl --parallel" "$T/t2"

urls xa "$N" >"$T/xargs.txt"
/usr/bin/time -f "%e %U %S %M" -o "$T/t3" xargs -P "$C" -n 1 curl -s -o /dev/null <"$T/xargs.txt"
report "xargs -P curl" "$T/t3"

SAMPLE=$(( N < 100 ? N : 100 ))
urls sq "$SAMPLE" >"$T/seq.txt"
/usr/bin/time -f "%e %U %S %M" -o "$T/t4" bash -c 'while read -r u; do curl -s -o /dev/null "$u"; done' <"$T/seq.txt"
report "curl loop (x$((N / SAMPLE)) of $SAMPLE)" "$T/t4" "$((N / SAMPLE))"

echo
/usr/bin/time -f "%e %U %S %M" -o "$T/t5" "$BIN" bench/bulk.lua 20000 "$C" big 2>"$T/cdnctl20k.err" || { cat "$T/cdnctl20k.err"; exit 1; }
rss2k=$(awk '{print $4}' "$T/t1"); rss20k=$(awk '{print $4}' "$T/t5")
awk -v a="$rss2k" -v b="$rss20k" 'BEGIN { printf "cdnctl peak RSS: N=2000 %.1f MB, N=20000 %.1f MB, ratio %.3f (target <= 1.10)\n", a/1024, b/1024, b/a }'
awk -v w1="$(awk '{print $1}' "$T/t1")" -v w2="$(awk '{print $1}' "$T/t2")" -v b="$bound" \
  'BEGIN { printf "cdnctl / curl --parallel = %.3f (target <= 1.05); cdnctl / bound = %.3f (target <= 1.15)\n", w1/w2, w1/b }'
