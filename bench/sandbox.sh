#!/usr/bin/env bash
# bench/sandbox.sh [SECONDS] [CONNECTIONS]: requests per second on
# read-domain with 32 keep-alive connections (wrk), against the sandbox and
# against a Node.js http server answering the same JSON, in the same run.
# Target: the sandbox at least as fast as Node's server (ratio >= 1).
# Needs: wrk, nodejs, curl (Debian packages). Not a test: figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10} CONN=${2:-32}
BIN=${CDNCTL_BIN:-build/cdnctl}
T=$(mktemp -d)
trap 'kill $SB $NODE 2>/dev/null || true; rm -rf "$T"' EXIT

"$BIN" sandbox >"$T/url" 2>"$T/sandbox.err" & SB=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
SURL=$(head -1 "$T/url")
curl -sf "$SURL/add-domain/bench.example.com/spDemoAgency00000001" >/dev/null
curl -sf "$SURL/read-domain/bench.example.com" >"$T/body.json"
echo "read-domain answer ($(wc -c <"$T/body.json") bytes): $(cat "$T/body.json")"

node bench/node-server.js 0 "$T/body.json" >"$T/nurl" & NODE=$!
for _ in $(seq 100); do [ -s "$T/nurl" ] && break; sleep 0.05; done
NURL=$(head -1 "$T/nurl")

rps() { wrk -t2 -c"$CONN" -d"${DUR}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
# warm both up, then measure alternately
wrk -t2 -c"$CONN" -d1s "$SURL/read-domain/bench.example.com" >/dev/null
wrk -t2 -c"$CONN" -d1s "$NURL/read-domain/bench.example.com" >/dev/null
s1=$(rps "$SURL/read-domain/bench.example.com"); n1=$(rps "$NURL/read-domain/bench.example.com")
s2=$(rps "$SURL/read-domain/bench.example.com"); n2=$(rps "$NURL/read-domain/bench.example.com")
awk -v s1="$s1" -v s2="$s2" -v n1="$n1" -v n2="$n2" -v c="$CONN" -v d="$DUR" 'BEGIN {
  s = (s1 + s2) / 2; n = (n1 + n2) / 2
  printf "wrk -t2 -c%d -d%ds, two alternating rounds each\n", c, d
  printf "sandbox (libmicrohttpd + Lua rules): %10.0f req/s  (%.0f, %.0f)\n", s, s1, s2
  printf "node http server (same JSON):        %10.0f req/s  (%.0f, %.0f)\n", n, n1, n2
  printf "ratio sandbox / node = %.2f (target >= 1.00)\n", s / n }'
