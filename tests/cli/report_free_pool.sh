#!/usr/bin/env bash
# scripts/report.lua and a domain nobody owns: read-domain gives its free CDN
# pool (CDNQuota and UsedCDN, bytes), which the report shows in the host's
# note on the terminal and as free_cdn_pool_bytes / free_cdn_used_bytes in
# --json; an owned domain has no free pool.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
REPORT=$SRC/scripts/report.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 HOME=$T XDG_CONFIG_HOME=$T/config
unset NO_COLOR CDNCTL_DEBUG EASYIO_API_KEY

start_sandbox main --pending 0
use "$SURL"
"$BIN" -e 'assert(shortpixel.add_domain("pool.example.com", { key = false })); assert(shortpixel.add_domain("owned.example.com"))' \
  2>"$T/setup.err" || { echo "setup failed: $(cat "$T/setup.err")"; exit 1; }
BYTES=$(curl -sf "$SURL/_sandbox/cdn/pool.example.com/wp-content/uploads/photo.jpg" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
printf 'domain\npool.example.com\nowned.example.com\n' >"$T/d.csv"

"$BIN" "$REPORT" "$T/d.csv" --json "$T/r.json" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "a domain without an account still cannot be read for usage: exit 3" || bad "exit $st" "$(cat "$T/out" "$T/err")"
grep -qE '^pool.example.com +pool.example.com +ok .*free CDN pool: [0-9.]+ kB of 2.62 GB used' "$T/out" \
  && ok "terminal: the domain's free CDN pool in its note" || bad "terminal pool" "$(cat "$T/out")"
grep -qE '^ +www.pool.example.com +ok .*free CDN pool: 0 B of 2.62 GB used' "$T/out" \
  && ok "terminal: www, never added, has the whole pool" || bad "www pool" "$(cat "$T/out")"
grep -E '^owned.example.com' "$T/out" | grep -q "free CDN pool" && bad "an owned domain shows a free pool" "$(cat "$T/out")" \
  || ok "an owned domain shows no free pool"
python3 - "$T/r.json" "$BYTES" >"$T/check" 2>&1 <<'PY'
import json, sys
rep, want = json.load(open(sys.argv[1])), int(sys.argv[2])
hosts = {h["host"]: h for d in rep["domains"] for h in d["hosts"]}
p = hosts["pool.example.com"]
assert p["free_cdn_pool_bytes"] == 500 * 5 * 1024 * 1024, p
assert p["free_cdn_used_bytes"] == want, (p, want)
assert hosts["www.pool.example.com"]["free_cdn_used_bytes"] == 0, hosts["www.pool.example.com"]
assert "free_cdn_pool_bytes" not in hosts["owned.example.com"], hosts["owned.example.com"]
print("ok")
PY
[ "$(cat "$T/check")" = ok ] && ok "--json: free_cdn_pool_bytes and free_cdn_used_bytes, exact" || bad "json pool" "$(cat "$T/check")"
finish
