#!/usr/bin/env bash
# bench/inventory.sh [CLIENTS] [LATENCY_MS] [ROUNDS]: `cdnctl plan` and
# `cdnctl status` of CLIENTS clients (default 300) over three profiles
# against `cdnctl sandbox --latency LATENCY_MS` (default 50), the clients
# applied first so that every host is owned. Prints, for each, the median
# wall time of ROUNDS runs (default 3) and its ratio to the floor
# (reads x latency / concurrency, the reads counted from the sandbox's
# --log; target <= 1.5); then the peak RSS of `plan` of 3,000 rows against
# 300 rows (0 latency; target <= 1.5), both before apply (every action to
# make) and after. Not a test: figures only.
# Needs GNU time (Debian package "time"). About a minute with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300} LAT=${2:-50} ROUNDS=${3:-3}
BIN=$(realpath "${CDNCTL_BIN:-build/cdnctl}")
C=16
T=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$T"' EXIT

# sandbox NAME LATENCY: a sandbox with the three profiles' accounts; sets URL
sandbox() {
  "$BIN" sandbox --pending 0 --latency "$2" --log "$T/$1.log" \
    --account shortpixel:spThreeAccount000003:three@example.com \
    --account easyio:ez-three-account-0003:100000 --account easyio:ez-other-account-0002:100000 \
    --account easyio:ez-bench-agency-0001:100000 >"$T/$1.url" 2>"$T/$1.err" &
  PIDS+=($!)
  for _ in $(seq 200); do [ -s "$T/$1.url" ] && break; sleep 0.05; done
  URL=$(head -1 "$T/$1.url")
}
# config URL: the three profiles, pointed at URL
config() {
  mkdir -p "$T/config/cdnctl"
  cat >"$T/config/cdnctl/config.lua" <<LUA
local u = "$1"
local function p(sp, ez) return { shortpixel_key = sp, easyio_key = ez, shortpixel_url = u, shortpixel_api_url = u, easyio_url = u } end
return { profiles = {
  agency = p("spDemoAgency00000001", "ez-bench-agency-0001"),
  other = p("spDemoOther000000002", "ez-other-account-0002"),
  three = p("spThreeAccount000003", "ez-three-account-0003"),
}, default_profile = "agency" }
LUA
  chmod 600 "$T/config/cdnctl/config.lua"
}
# inventory N FILE: N clients, a third per profile, both services
inventory() {
  local profiles=(agency other three)
  { echo "client,profile,domain,service,webp"
    for i in $(seq 1 "$1"); do echo "c$i,${profiles[$((i % 3))]},c$i.bench.example,both,true"; done; } >"$2"
}
go() { env -u CDNCTL_PROFILE -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL \
  -u CDNCTL_SHORTPIXEL_API_URL -u CDNCTL_EASYIO_URL HOME=$T XDG_CONFIG_HOME=$T/config "$BIN" --quiet "$@" </dev/null; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

sandbox slow "$LAT"
config "$URL"
inventory "$N" "$T/clients.csv"
go apply "$T/clients.csv" --concurrency 16 >/dev/null 2>&1 || { echo "apply failed" >&2; exit 1; }
printf '%s clients over 3 profiles, sandbox latency %s ms, concurrency %s, %s rounds\n\n' "$N" "$LAT" "$C" "$ROUNDS"
for cmd in plan status; do
  : >"$T/$cmd.times"
  for _ in $(seq "$ROUNDS"); do
    before=$(wc -l <"$T/slow.log")
    /usr/bin/time -f "%e" -o "$T/t" env -u CDNCTL_PROFILE HOME=$T XDG_CONFIG_HOME=$T/config "$BIN" --quiet "$cmd" \
      "$T/clients.csv" --concurrency "$C" </dev/null >/dev/null 2>&1 || [ "$cmd" = status ] # status exits 1 on UNKNOWN
    reads=$(( $(wc -l <"$T/slow.log") - before ))
    cat "$T/t" >>"$T/$cmd.times"
  done
  wall=$(median <"$T/$cmd.times")
  floor=$(awk -v r="$reads" -v l="$LAT" -v c="$C" 'BEGIN { printf "%.2f", r * l / 1000 / c }')
  printf '%-7s %5s reads  median %6.2f s  floor %6.2f s  ratio %5.2f (target <= 1.5)\n' "$cmd" "$reads" "$wall" "$floor" \
    "$(awk -v w="$wall" -v f="$floor" 'BEGIN { printf "%.2f", w / f }')"
done

# rss N STATE -> peak RSS (KB) of `plan` of N rows, each size against a sandbox of its own
declare -A RSS
for n in 300 3000; do
  sandbox "fast$n" 0
  config "$URL"
  inventory "$n" "$T/rows$n.csv"
  for state in new synced; do
    [ "$state" = synced ] && { go apply "$T/rows$n.csv" >/dev/null 2>&1 || { echo "apply of $n rows failed" >&2; exit 1; }; }
    /usr/bin/time -f "%M" -o "$T/rss" env -u CDNCTL_PROFILE HOME=$T XDG_CONFIG_HOME=$T/config "$BIN" --quiet plan \
      "$T/rows$n.csv" </dev/null >/dev/null 2>&1 || true
    RSS[$n$state]=$(cat "$T/rss")
  done
done
echo
for state in new synced; do
  printf 'plan peak RSS, %-6s 300 rows %6s KB, 3000 rows %6s KB, ratio %.2f (target <= 1.5)\n' "$state:" "${RSS[300$state]}" \
    "${RSS[3000$state]}" "$(awk -v a="${RSS[300$state]}" -v b="${RSS[3000$state]}" 'BEGIN { print b / a }')"
done
echo "(new: every client's hosts and site to add, 4 actions a client; synced: after apply, no actions)"
# the reader alone (cdnctl.inventory), what every command and script shares
for n in 300 3000; do
  /usr/bin/time -f "%M" -o "$T/rss" "$BIN" -e "local f = assert(io.open('$T/rows$n.csv', 'rb'))
    local inv = assert(require('cdnctl.inventory').read(require('cdnctl.kit.csv').blocks_of(f))); f:close()
    assert(#inv.clients == $n)" </dev/null >/dev/null
  RSS[read$n]=$(cat "$T/rss")
done
printf 'inventory reader peak RSS: 300 rows %s KB, 3000 rows %s KB, ratio %.2f (target <= 1.5)\n' "${RSS[read300]}" \
  "${RSS[read3000]}" "$(awk -v a="${RSS[read300]}" -v b="${RSS[read3000]}" 'BEGIN { print b / a }')"
