#!/usr/bin/env bash
# Stable JSON: every JSON document cdnctl writes (call's output, profiles
# --json, the scripts' --json, journals, HAR files) has its object keys
# sorted at every depth and '/' unescaped, so the same state gives the same
# bytes; the sandbox's answers keep PHP's style (\/), and a HAR keeps each
# body as it was sent.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_PROFILE
start_sandbox sb --pending 0
use "$SURL"

# stable FILE [lines]: FILE (one document, or one per line) has sorted keys
# at every depth and no \/ escape; prints ok or what is wrong.
stable() {
  python3 - "$@" 2>&1 <<'PY'
import json, re, sys
path, per_line = sys.argv[1], len(sys.argv) > 2
text = open(path, encoding="utf-8").read()
def pairs(p):
    keys = [k for k, _ in p]
    if keys != sorted(keys):
        raise SystemExit("keys not sorted: %s" % keys)
    return dict(p)
docs = [l for l in text.splitlines() if l.strip()] if per_line else [text]
if not docs:
    raise SystemExit("no JSON in " + path)
for d in docs:
    json.loads(d, object_pairs_hook=pairs)
    m = re.search(r'(?<!\\)(?:\\\\)*\\/', d)
    if m:
        raise SystemExit("an escaped slash: ..." + d[max(0, m.start() - 30):m.end() + 10])
print("ok")
PY
}

mkdir -p "$T/config/cdnctl"
cat >"$T/config/cdnctl/config.lua" <<LUA
return { default_profile = "bistro", profiles = {
  bistro = { shortpixel_key = "BISTROkey00000000001", easyio_key = "bistro-ez-0001", easyio_url = "https://api.exactlywww.net/x" },
  garage = { shortpixel_key_cmd = "pass show sp/garage" },
  zoo = { easyio_key = "zoo-ez-0001" }, alpha = { easyio_key = "alpha-ez-0001" },
} }
LUA
chmod 600 "$T/config/cdnctl/config.lua"
for i in 1 2 3; do "$BIN" profiles --json >"$T/profiles.$i" 2>&1; done
if cmp -s "$T/profiles.1" "$T/profiles.2" && cmp -s "$T/profiles.2" "$T/profiles.3" && [ "$(stable "$T/profiles.1")" = ok ]; then
  ok "three runs of cdnctl profiles --json: the same bytes, keys sorted, / unescaped"
else
  bad "profiles --json" "$(stable "$T/profiles.1"; head -c 300 "$T/profiles.1"; echo; head -c 300 "$T/profiles.2")"
fi
rm "$T/config/cdnctl/config.lua"

"$BIN" -e 'assert(easyio.create_site("https://stable.example.com/")); assert(shortpixel.add_domain("stable.example.com"))' >/dev/null 2>&1 \
  || { echo "setup failed"; exit 1; }
for fmt in "--output json" "--json"; do
  "$BIN" call easyio.show_sites $fmt >"$T/out" 2>&1; st=$?
  [ $st = 0 ] && grep -q "https://stable.example.com" "$T/out" && [ "$(stable "$T/out")" = ok ] \
    && ok "call easyio.show_sites $fmt: keys sorted, URLs with plain /" || bad "call $fmt ($st)" "$(stable "$T/out"; head -c 400 "$T/out")"
done
"$BIN" -e 'print(cdnctl.json.encode({ z = 1, a = { y = "a/b", b = 2 }, m = { 3, { d = 1, c = 2 } } }))' >"$T/out" 2>&1
[ "$(cat "$T/out")" = '{"a":{"b":2,"y":"a/b"},"m":[3,{"c":2,"d":1}],"z":1}' ] \
  && ok "cdnctl.json.encode, as scripts use it: sorted keys, / unescaped" || bad "json.encode" "$(cat "$T/out")"

"$BIN" "$SRC/scripts/keys.lua" list --json >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(stable "$T/out")" = ok ] && ok "keys.lua list --json: stable" || bad "keys list --json ($st)" "$(stable "$T/out"; cat "$T/err")"
"$BIN" "$SRC/scripts/purge.lua" --json --dry-run stable.example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(stable "$T/out")" = ok ] && ok "purge.lua --json: stable" || bad "purge --json ($st)" "$(stable "$T/out"; cat "$T/err")"
printf 'domain\nstable.example.com\n' >"$T/domains.csv"
(cd "$T" && "$BIN" "$SRC/scripts/report.lua" domains.csv --json report.json) >"$T/out" 2>&1; st=$?
[ "$(stable "$T/report.json")" = ok ] && ok "report.lua --json FILE: stable" || bad "report --json ($st)" "$(stable "$T/report.json"; cat "$T/out")"
(cd "$T" && "$BIN" "$SRC/scripts/watch.lua" domains.csv --json) >"$T/out" 2>"$T/err"; st=$?
[ "$(stable "$T/out")" = ok ] && ok "watch.lua --json: stable" || bad "watch --json ($st)" "$(stable "$T/out"; cat "$T/err")"
printf 'domain,service,site_url\nj1.example.com,easyio,https://j1.example.com/path/\n' >"$T/clients.csv"
(cd "$T" && "$BIN" "$SRC/scripts/onboard.lua" clients.csv --json --journal j.journal) >"$T/out" 2>"$T/err"; st=$?
[ "$(stable "$T/out")" = ok ] && ok "onboard.lua --json: stable" || bad "onboard --json ($st)" "$(stable "$T/out"; cat "$T/err")"
[ "$(stable "$T/j.journal" lines)" = ok ] && ok "onboard's journal: each line stable" || bad "journal" "$(stable "$T/j.journal" lines; head -3 "$T/j.journal")"

"$BIN" --har "$T/a.har" call easyio.show_sites >/dev/null 2>&1
curl -s -X POST -A t -d "api_key=ez-demo-account-0001" "$SURL/exactdn/show.php" >"$T/answer"
python3 - "$T/a.har" "$T/answer" >"$T/check" 2>&1 <<'PY'
import json, sys
har = json.load(open(sys.argv[1]))
answer = open(sys.argv[2]).read()
texts = [e["response"]["content"].get("text", "") for e in har["log"]["entries"]]
assert answer and "\\/" in answer, "the sandbox answers as PHP does, with \\/: " + answer[:200]
assert any("\\/" in t for t in texts), "the HAR keeps the body as sent: %r" % texts
print("ok")
PY
[ "$(cat "$T/check")" = ok ] && [ "$(stable "$T/a.har")" = ok ] \
  && ok "a HAR: keys sorted, / unescaped, the bodies as the sandbox sent them (PHP's \\/)" || bad "har" "$(cat "$T/check"; stable "$T/a.har")"
finish
