#!/usr/bin/env bash
# scripts/purge.lua against a standalone sandbox: apex and www purged with
# the endpoint each mode names, hosts not associated with the key reported,
# bad domains reported with their argument number or FILE:line while the
# rest go on, --from lists and CSVs, usage errors, faults on the wire, and
# no key in any output.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
PURGE=$SRC/scripts/purge.lua

export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset NO_COLOR CDNCTL_DEBUG

# purges HOST KIND: how many purges of KIND (cdn, storage) the sandbox saw for HOST
purges() {
  curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
d = json.load(sys.stdin)["shortpixel"]["domains"].get(sys.argv[1], {})
p = d.get("purges") or {}
print(p.get(sys.argv[2], 0) if isinstance(p, dict) else 0)' "$1" "$2"
}
# no_keys FILE...: none of the sandbox's keys appears in the files
no_keys() { ! grep -qE 'spDemoAgency00000001|spDemoOther000000002|ez-demo-account-0001' "$@"; }

# --- set up: alpha (apex and www) and beta's apex are ours; www.beta and
# gamma belong to the other user
start_sandbox main --pending 0
use "$SURL"
"$BIN" -e '
for _, h in ipairs({ "alpha.example.com", "www.alpha.example.com", "beta.example.com" }) do assert(shortpixel.add_domain(h)) end
for _, h in ipairs({ "www.beta.example.com", "gamma.example.com", "www.gamma.example.com" }) do
  assert(shortpixel.add_domain(h, { key = "spDemoOther000000002" }))
end' >"$T/setup.out" 2>&1 || { echo "setup failed: $(cat "$T/setup.out")"; exit 1; }

# --- the happy path: default mode = purge-cdn-cache-bulk for apex and www.
# No terminal here: every run that purges needs --yes (tests/cli/confirm.sh
# covers the question).
"$BIN" "$PURGE" alpha.example.com --yes >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "every host purged: exit status 0" || bad "exit status $st, want 0" "$(cat "$T/out" "$T/err")"
grep -q '^purged  *alpha.example.com  *(argument 1)' "$T/out" && grep -q '^purged  *www.alpha.example.com  *(argument 1)' "$T/out" \
  && ok "apex and www are both purged and reported" || bad "apex and www" "$(cat "$T/out")"
grep -q 'purge-cdn-cache-bulk' "$T/out" && ok "the output names the endpoint of the mode" || bad "mode line" "$(cat "$T/out")"
[ "$(purges alpha.example.com cdn)$(purges www.alpha.example.com cdn)" = 11 ] \
  && [ "$(purges alpha.example.com storage)$(purges www.alpha.example.com storage)" = 00 ] \
  && ok "default mode: one purge-cdn-cache-bulk per host in the sandbox, no purge-storage-bulk" \
  || bad "sandbox purges after the default mode" "$(curl -sf "$SURL/_sandbox/state")"

# --- --storage = purge-storage-bulk alone
"$BIN" "$PURGE" --yes --storage www.alpha.example.com >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -q 'purge-storage-bulk' "$T/out" && ok "--storage: exit 0, names purge-storage-bulk" || bad "--storage ($st)" "$(cat "$T/out" "$T/err")"
[ "$(purges alpha.example.com storage)$(purges www.alpha.example.com storage)" = 11 ] \
  && [ "$(purges alpha.example.com cdn)$(purges www.alpha.example.com cdn)" = 11 ] \
  && ok "--storage: one purge-storage-bulk per host (www given: apex too), no CDN purge" \
  || bad "sandbox purges after --storage" "$(curl -sf "$SURL/_sandbox/state")"

# --- bad arguments and hosts that are not ours: the rest go on, exit 3
"$BIN" "$PURGE" alpha.example.com "bad dom.com" gamma.example.com --concurrency 3 https://Beta.Example.com/shop --yes \
  >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "some hosts not associated or bad: exit status 3" || bad "exit status $st, want 3" "$(cat "$T/out" "$T/err")"
grep -q "skipped argument 2: domain: contains a space in 'bad dom.com'" "$T/err" \
  && ok "a bad domain is reported with its argument number" || bad "bad argument" "$(cat "$T/err")"
grep -q '^purged  *beta.example.com  *(argument 6)' "$T/out" \
  && ok "a URL is reduced to its host; its argument number counts the options before it" || bad "beta" "$(cat "$T/out")"
grep -q '^not associated www.beta.example.com  *(argument 6)' "$T/out" && grep -q '^not associated gamma.example.com ' "$T/out" \
  && ok "hosts of another user are reported as not associated, with the API's reason" || bad "not associated" "$(cat "$T/out")"
grep -qx 'not associated with the key: gamma.example.com www.gamma.example.com www.beta.example.com' "$T/out" \
  && ok "the summary lists the hosts not associated with the key" || bad "summary list" "$(cat "$T/out")"
grep -q '^6 hosts: 3 purged, 3 not associated with the key, 0 failed; 1 bad inputs$' "$T/out" \
  && ok "the counts add up (6 hosts, 1 bad input)" || bad "counts" "$(cat "$T/out")"
[ "$(purges gamma.example.com cdn)" = 0 ] && [ "$(purges alpha.example.com cdn)" = 2 ] \
  && ok "the sandbox purged ours and not the other user's" || bad "sandbox after mixed run"

# --- --from a list: comments, blank lines, a BOM and CRLF; bad lines with FILE:line
printf '\xef\xbb\xbf# clients to purge\r\n\r\nalpha.example.com   # the shop\r\n  beta.example.com\r\nnot_a..domain\r\nwww.alpha.example.com\r\n' >"$T/list.txt"
"$BIN" "$PURGE" --yes --from "$T/list.txt" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && grep -q "skipped $T/list.txt:5: domain: contains an empty label" "$T/err" \
  && ok "--from list: a bad line is reported as FILE:line, exit 3" || bad "list bad line ($st)" "$(cat "$T/out" "$T/err")"
grep -q "^purged  *alpha.example.com  *($T/list.txt:3)" "$T/out" && grep -q "^purged  *beta.example.com  *($T/list.txt:4)" "$T/out" \
  && ok "--from list: comments and blank lines are skipped, line numbers are right" || bad "list lines" "$(cat "$T/out")"
grep -q "www.alpha.example.com ($T/list.txt:6) is already listed ($T/list.txt:3): purged once" "$T/err" \
  && [ "$(grep -c 'alpha.example.com ' "$T/out")" = 2 ] && ok "--from list: a host listed twice is purged once" || bad "duplicates" "$(cat "$T/out" "$T/err")"

# --- --from a CSV with a domain column, a service column and per-client keys
cat >"$T/clients.csv" <<'CSV'
domain,service,shortpixel_key
alpha.example.com,both,
delta.example.com,easyio,
gamma.example.com,shortpixel,spDemoOther000000002
"bad,domain",both,
CSV
"$BIN" "$PURGE" --yes --from "$T/clients.csv" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && grep -q "skipped $T/clients.csv:5: domain: contains ','" "$T/err" \
  && ok "--from CSV: a bad row is reported as FILE:line, exit 3" || bad "csv bad row ($st)" "$(cat "$T/out" "$T/err")"
grep -q "^purged  *gamma.example.com  *($T/clients.csv:4)" "$T/out" && grep -q "^purged  *www.gamma.example.com " "$T/out" \
  && [ "$(purges gamma.example.com cdn)" = 1 ] && ok "--from CSV: a row's shortpixel_key purges that client's domain" \
  || bad "csv per-client key" "$(cat "$T/out")"
grep -q "$T/clients.csv:3: service is easyio" "$T/err" && ! grep -q delta "$T/out" \
  && ok "--from CSV: rows for Easy IO only are skipped" || bad "easyio row" "$(cat "$T/out" "$T/err")"
no_keys "$T/out" "$T/err" && ok "no key (not even a per-client one) in the output" || bad "a key leaked" "$(cat "$T/out" "$T/err")"

# --- usage errors: exit 2, nothing purged
before=$(curl -sf "$SURL/_sandbox/state")
"$BIN" "$PURGE" --yes >"$T/out" 2>&1; [ $? = 2 ] && grep -q "no domain given" "$T/out" && ok "no domain: usage error 2" || bad "no domain" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --from "$T/list.txt" alpha.example.com >"$T/out" 2>&1; [ $? = 2 ] && grep -q "not both" "$T/out" \
  && ok "arguments and --from together: usage error 2" || bad "both forms" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --from "$T/missing.txt" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "cannot read $T/missing.txt" "$T/out" \
  && ok "an unreadable --from file: usage error 2" || bad "missing file" "$(cat "$T/out")"
printf 'name,service\nx.com,both\n' >"$T/nodomain.csv"
"$BIN" "$PURGE" --yes --from "$T/nodomain.csv" >"$T/out" 2>&1; [ $? = 2 ] && grep -q "no 'domain' column" "$T/out" \
  && ok "a CSV without a domain column: usage error 2" || bad "no domain column" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --bogus alpha.example.com >"$T/out" 2>&1; [ $? = 2 ] && grep -q "unknown option '--bogus'" "$T/out" \
  && ok "an unknown option: usage error naming it" || bad "unknown option" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --concurrency 0 alpha.example.com >"$T/out" 2>&1; [ $? = 2 ] && ok "--concurrency 0: usage error 2" || bad "concurrency 0"
[ "$before" = "$(curl -sf "$SURL/_sandbox/state")" ] && ok "usage errors purge nothing" || bad "a usage error changed the state"
"$BIN" "$PURGE" --yes --help >"$T/out" 2>&1; [ $? = 0 ] && grep -q 'purge-storage-bulk: ShortPixel.s storage only' "$T/out" \
  && ok "--help says which endpoint each mode calls" || bad "help" "$(cat "$T/out")"
"$BIN" "$PURGE" "bad dom.com" >"$T/out" 2>"$T/err"; [ $? = 3 ] && grep -q '^0 hosts: ' "$T/out" \
  && ok "only bad domains: reported, exit 3" || bad "only bad" "$(cat "$T/out" "$T/err")"

# --- faults on the wire: every host still purged thanks to retries. One
# request at a time so that the seeded faults fall on the same requests
# every run; a second run with 4 in flight must also end well.
{ echo domain; for i in $(seq 1 12); do echo "site$i.example.net"; done; } >"$T/many.csv"
start_sandbox faulty --pending 0 --faults 500:0.1,429:0.05,reset:0.02,lost:0.02 --seed 7
use "$SURL"
"$BIN" -e 'for i = 1, 12 do for _, h in ipairs(shortpixel.hosts("site" .. i .. ".example.net")) do
  assert(shortpixel.add_domain(h)) end end' >"$T/setup.out" 2>&1 || { echo "setup failed: $(cat "$T/setup.out")"; exit 1; }
CDNCTL_DEBUG=1 "$BIN" "$PURGE" --yes --from "$T/many.csv" --concurrency 1 >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(grep -c '^purged ' "$T/out")" = 24 ] && ok "faults (500, 429, reset, lost; seed 7): all 24 hosts purged, exit 0" \
  || bad "faulty run ($st)" "$(cat "$T/out"; grep -v '^cdnctl: GET' "$T/err" | head)"
n=$(grep -c 'retrying in' "$T/err")
[ "$n" -ge 3 ] && ok "the faults were met and retried ($n retries)" || bad "retries: $n"
counts=$(curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
d = json.load(sys.stdin)["shortpixel"]["domains"]
print(sum(1 for k, v in d.items() if (v.get("purges") or {}).get("cdn", 0) >= 1))')
[ "$counts" = 24 ] && ok "the sandbox saw a CDN purge of each of the 24 hosts" || bad "sandbox purged $counts hosts"
# With 4 in flight the faults fall on other requests each run: a host may
# (rarely) fail three times; it must then be reported as failed, never as
# not associated, and every host must be accounted for.
"$BIN" "$PURGE" --yes --from "$T/many.csv" --concurrency 4 >"$T/out2" 2>"$T/err2"; st=$?
p=$(grep -c '^purged ' "$T/out2"); f=$(grep -c '^failed ' "$T/out2")
{ [ $st = 0 ] || [ $st = 3 ]; } && [ $((p + f)) = 24 ] && ! grep -q '^not associated' "$T/out2" \
  && ok "faults with 4 requests in flight: every host purged or failed ($p purged), none misreported" \
  || bad "faulty run, 4 in flight ($st)" "$(cat "$T/out2")"
no_keys "$T/out" "$T/err" "$T/out2" "$T/err2" && ok "no key in the output, traces included" || bad "a key leaked in the traces"
# --- "not associated" rests on what the evidence supports (read_domain's
# HasAccount, cdn usage's refusal), never on refusal codes: a fixture server
# answers with codes no client knows.
start_fixture
use "$URL"
q() { curl -sf -X POST --data-binary "$1" "$URL/_fixture/queue" >/dev/null; }
# apex: refused with an unknown code; nobody's domain (HasAccount false)
q '[{"status":200,"body":"{\"Status\":-99,\"Message\":\"Purge refused.\"}"},
    {"status":200,"body":"{\"Status\":2,\"HasAccount\":false,\"Email\":\"\"}"},
    {"status":200,"body":"{\"Status\":-14,\"Message\":\"Domain is not associated with this API key.\"}"},
    {"status":200,"body":"{\"Status\":2,\"HasAccount\":true,\"Email\":\"a@example.com\"}"},
    {"status":200,"body":"{\"Email\":\"a@example.com\",\"UsedCDN\":[]}"}]'
"$BIN" "$PURGE" --yes --concurrency 1 fx.example.com >"$T/out" 2>&1; st=$?
grep -q '^not associated fx.example.com ' "$T/out" \
  && ok "a refusal with an unknown code, for a domain with no account (HasAccount false): not associated" || bad "unknown code" "$(cat "$T/out")"
grep -q '^failed  *www.fx.example.com .*Domain is not associated with this API key' "$T/out" \
  && ok "a refusal for a domain this key owns (cdn usage answers an object): failed, in the service's own words" || bad "owned domain refused" "$(cat "$T/out")"

finish
