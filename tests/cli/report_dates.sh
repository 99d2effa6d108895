#!/usr/bin/env bash
# report.lua reads the usage answers' days (UsedCDN, UsedCredits keyed by
# YYYY-MM-DD): a date it cannot read ("Dec 2", "2026-13-45", "2026-1-5") is
# skipped with a note on stderr naming the host and the date, never a crash;
# the days it can read are reported as usual.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_fixture
TODAY=$(date -u +%F)
# every request gets this answer: read-domain reads Status, the usage read the days
BODY='{"Status":2,"Message":"All OK","Email":"a@example.com","UsedCDN":{"'$TODAY'":1000,"Dec 2":5,"2026-13-45":7,"2026-1-5":9},"UsedCredits":{"'$TODAY'":{"Paid":3,"Free":1},"soon":{"Paid":8,"Free":8}}}'
BODYJ=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$BODY")
curl -sf -X POST --data-binary "[{\"status\":200,\"body\":$BODYJ,\"repeat_all\":true}]" "$URL/_fixture/queue" >/dev/null
printf 'domain\nshop.example\n' >"$T/d.csv"
run() {
  env -u EASYIO_API_KEY -u CDNCTL_EASYIO_URL -u CDNCTL_PROFILE -u CDNCTL_HAR HOME=$T XDG_CONFIG_HOME=$T/none \
    SHORTPIXEL_API_KEY=spDemoAgency00000001 CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL \
    timeout 60 "$BIN" "$SRC/scripts/report.lua" "$@"
}
run "$T/d.csv" --json "$T/r.json" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ! grep -q "traceback\|stack\|attempt to\|bad argument" "$T/err" \
  && ok "report.lua: usage dates it cannot read do not crash it (exit 0)" || bad "report with bad dates ($st)" "$(cat "$T/out" "$T/err")"
grep -q "shop.example: usage dates that are not YYYY-MM-DD, skipped: .*'Dec 2'" "$T/err" \
  && grep -q "'2026-13-45'" "$T/err" && grep -q "'2026-1-5'" "$T/err" && grep -q "'soon'" "$T/err" \
  && ok "report.lua names each host's skipped usage dates in a note" || bad "note on skipped dates" "$(cat "$T/err")"
python3 - "$T/r.json" "$TODAY" <<'PY' && ok "report.lua reports the days it can read, and only those" || bad "json days" "$(head -c 1500 "$T/r.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
hosts = [h for d in doc["domains"] for h in d["hosts"]]
assert len(hosts) == 2, hosts
for h in hosts:
    dates = [d["date"] for d in h["days"]]
    assert dates == [sys.argv[2]], dates
    assert h["days"][0]["traffic_bytes"] == 1000 and h["days"][0]["credits_paid"] == 3, h["days"]
PY
finish
