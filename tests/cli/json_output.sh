#!/usr/bin/env bash
# --json on the ready scripts: one JSON document on stdout, the human text on stderr.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
start_sandbox sb --pending 0
use "$SURL"
"$BIN" -e 'assert(shortpixel.add_domain("j.example.com")); assert(shortpixel.add_domain("www.j.example.com"))
assert(shortpixel.add_domain("k.example.com", { key = "spDemoOther000000002" }))' >/dev/null 2>&1 || { echo "setup failed"; exit 1; }

"$BIN" "$SRC/scripts/purge.lua" --json --yes j.example.com k.example.com "bad name" >"$T/out" 2>"$T/err"; st=$?
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = {h["host"]: h["state"] for h in d["hosts"]}
assert st == {"j.example.com": "purged", "www.j.example.com": "purged", "k.example.com": "not associated", "www.k.example.com": "not associated"}, st
assert d["counts"]["purged"] == 2 and len(d["bad"]) == 1 and d["bad"][0]["source"] == "argument 5", d
print("ok")
PY
[ $st = 3 ] && [ "$(cat "$T/check")" = ok ] && grep -q "^purging " "$T/err" \
  && ok "purge.lua --json: one JSON document on stdout, the human lines on stderr" || bad "purge --json ($st)" "$(cat "$T/check" "$T/out" "$T/err")"
"$BIN" "$SRC/scripts/purge.lua" --json --dry-run j.example.com >"$T/out" 2>"$T/err"; st=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["dry_run"] and [h["host"] for h in d["hosts"]] == ["j.example.com","www.j.example.com"] else 1)' "$T/out" \
  && [ $st = 0 ] && ok "purge.lua --json --dry-run: the hosts it would purge, as JSON" || bad "purge --json --dry-run ($st)" "$(cat "$T/out" "$T/err")"
"$BIN" -e 'local k = assert(easyio.create_key()); assert(easyio.change_key(k.sub_key, { label = "acme", allowed = 500, site_limit = 3 }, { replace = true }))' >/dev/null 2>&1
"$BIN" "$SRC/scripts/keys.lua" list --json >"$T/out" 2>"$T/err"; st=$?
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
acme = [k for k in d["keys"] if k["label"] == "acme"]
assert len(acme) == 1 and acme[0]["allowed"] == 500 and acme[0]["site_limit"] == 3 and acme[0]["key"].startswith("****"), d
print("ok")
PY
[ $st = 0 ] && [ "$(cat "$T/check")" = ok ] && ok "keys.lua list --json: the sub-keys as one JSON document, numbers as numbers, keys masked" || bad "keys list --json ($st)" "$(cat "$T/check" "$T/out" "$T/err")"
"$BIN" "$SRC/scripts/keys.lua" create --label x --json >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "json goes with list only" "$T/out" && ok "keys.lua --json goes with list only" || bad "keys create --json ($st)" "$(cat "$T/out")"
printf 'domain,service\nom1.example.com,shortpixel\nbad name,both\n' >"$T/clients.csv"
(cd "$T" && "$BIN" "$SRC/scripts/onboard.lua" clients.csv --json) >"$T/out" 2>"$T/err"; st=$?
python3 - "$T/out" >"$T/check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["clients"] == 2 and d["ok"] == 1 and d["failed"] == 1 and d["results"] == "clients.results.csv", d
assert d["failures"][0]["domain"] == "bad name" and "space" in d["failures"][0]["error"], d
print("ok")
PY
[ $st = 3 ] && [ "$(cat "$T/check")" = ok ] && grep -q "clients: 1 ok, 1 failed" "$T/err" \
  && ok "onboard.lua --json: the summary and failures as JSON on stdout, the human lines on stderr" || bad "onboard --json ($st)" "$(cat "$T/check" "$T/out" "$T/err")"
(cd "$T" && "$BIN" "$SRC/scripts/onboard.lua" clients.csv --json --dry-run --out plan.csv) >"$T/out" 2>"$T/err"; st=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["dry_run"] and d["clients"] == 1 and d["planned"] else 1)' "$T/out" \
  && ok "onboard.lua --json --dry-run: the plan as JSON" || bad "onboard --json --dry-run ($st)" "$(cat "$T/out" "$T/err")"
finish
