#!/usr/bin/env bash
# scripts/purge.lua --url URL / --urls FILE: single images purged from
# ShortPixel's CDN cache through shortpixel.purge_cdn_cache, one request per
# image (the URL as the rest of the path, its extension replaced by '*'),
# with the bulk purge's confirmation, counts and exit statuses: bad URLs
# reported with where they came from while the rest go on, images of
# another user's host reported as not associated, --storage and domains
# refused beside --url, --dry-run and --json, and no key in any output; the
# columns of every mode take a host or a URL of any length.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v tmux >/dev/null || { echo "tmux is needed"; exit 1; }
PURGE=$SRC/scripts/purge.lua
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset NO_COLOR CDNCTL_DEBUG CDNCTL_HAR
export TMUX_TMPDIR=$T
trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
SPIO=https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/img.example.com/wp-content/uploads/2024/12
SPAI=https://cdn.shortpixel.ai/spai/q_lossy+ret_img/https://www.img.example.com/wp-content/uploads

start_sandbox sb --pending 0 --log "$T/log"
use "$SURL"
"$BIN" -e '
for _, h in ipairs({ "img.example.com", "www.img.example.com" }) do assert(shortpixel.add_domain(h)) end
assert(shortpixel.add_domain("theirs.example.com", { key = "spDemoOther000000002" }))' >"$T/setup" 2>&1 \
  || { echo "setup failed: $(cat "$T/setup")"; exit 1; }

# mark: remember how many requests the sandbox has seen; sent: the paths since
mark() { base=$(wc -l <"$T/log"); }
sent() { tail -n +$((base + 1)) "$T/log" | python3 -c '
import json, sys
for line in sys.stdin: e = json.loads(line); print(e["method"], e["path"])'; }
nothing_sent() { [ -z "$(sent)" ]; }
# image_purges HOST: the sandbox's count of single-image purges of HOST
image_purges() {
  curl -sf "$SURL/_sandbox/state" | python3 -c '
import json, sys
d = json.load(sys.stdin)["shortpixel"]["domains"].get(sys.argv[1]) or {}
print((d.get("purges") or {}).get("image", 0))' "$1"
}
# sq FILE: FILE with runs of spaces squeezed (the columns are padded)
sq() { tr -s ' ' <"$1"; }
no_keys() { ! grep -qE 'spDemoAgency00000001|spDemoOther000000002|ez-demo-account-0001' "$@"; }

# --- without a terminal and without --yes: exit 2, nothing sent
mark
"$BIN" "$PURGE" --url "$SPIO/photo.jpg" </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && nothing_sent && grep -qF "purge $SPIO/photo.jpg (and its variants) from ShortPixel's CDN cache needs confirmation" "$T/err" \
  && ok "--url without a terminal nor --yes: exit 2, the question names the URL, nothing sent" \
  || bad "no confirmation ($st)" "$(cat "$T/out" "$T/err"; sent)"

# --- --yes: one purge-cdn-cache per image, the URL as the rest of the path
mark
"$BIN" "$PURGE" --yes --url "$SPIO/photo.jpg" --concurrency 2 --url "$SPAI/logo.png" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && ok "every image purged: exit 0" || bad "exit $st, want 0" "$(cat "$T/out" "$T/err")"
[ "$(sent | grep -c '^GET /purge-cdn-cache/')" = 2 ] \
  && sent | grep -qxF "GET /purge-cdn-cache/****0001/$SPIO/photo*" && sent | grep -qxF "GET /purge-cdn-cache/****0001/$SPAI/logo*" \
  && ! sent | grep -q 'purge-cdn-cache-bulk\|purge-storage-bulk' \
  && ok "one GET purge-cdn-cache/KEY/URL per image, extension replaced by '*', no bulk purge" || bad "requests" "$(sent)"
sq "$T/out" | grep -qxF "purged $SPIO/photo* (argument 3)" && sq "$T/out" | grep -qxF "purged $SPAI/logo* (argument 7)" \
  && ok "each image's line names what was purged and its argument number" || bad "lines" "$(cat "$T/out")"
grep -q "purge-cdn-cache" "$T/out" && grep -qx "2 images: 2 purged, 0 not associated with the key, 0 failed; 0 bad inputs" "$T/out" \
  && ok "the mode line names the endpoint; the counts add up" || bad "summary" "$(cat "$T/out")"
[ "$(image_purges img.example.com)" = 1 ] && [ "$(image_purges www.img.example.com)" = 1 ] \
  && ok "the sandbox saw one image purge per client host (spio and spai URLs)" || bad "sandbox counts" "$(curl -sf "$SURL/_sandbox/state")"

# --- --urls FILE: comments, blank lines, a BOM and CRLF; bad lines, a
# duplicate and another user's image; the rest go on, exit 3
printf '\xef\xbb\xbf# images to purge\r\n\r\n%s/a.jpg   # replaced today\r\n%s/a.webp\r\nhttp://img.example.com/b.jpg\r\nhttps://theirs.example.com/c.jpg\r\nhttps://img.example.com/d.jpg?v=2\r\nhttps://img.example.com/e/\r\n' \
  "$SPIO" "$SPIO" >"$T/urls.txt"
mark
"$BIN" "$PURGE" --yes --urls "$T/urls.txt" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && ok "a bad line or an image not associated: exit 3" || bad "exit $st, want 3" "$(cat "$T/out" "$T/err")"
grep -q "skipped $T/urls.txt:5: url: must be an https:// URL" "$T/err" && grep -q "skipped $T/urls.txt:7: url: contains '?'" "$T/err" \
  && ok "bad URLs are reported as FILE:line with what is wrong" || bad "bad lines" "$(cat "$T/err")"
grep -qF "note: $SPIO/a* ($T/urls.txt:4) is already listed ($T/urls.txt:3): purged once" "$T/err" \
  && [ "$(sent | grep -c "/a\*$")" = 1 ] && ok "two URLs that purge the same image are sent once" || bad "duplicate" "$(cat "$T/err"; sent)"
sq "$T/out" | grep -qxF "purged $SPIO/a* ($T/urls.txt:3)" && sq "$T/out" | grep -qxF "purged https://img.example.com/e/* ($T/urls.txt:8)" \
  && ok "--urls: comments and blank lines skipped, line numbers right" || bad "file lines" "$(cat "$T/out")"
sq "$T/out" | grep -qF "not associated https://theirs.example.com/c* ($T/urls.txt:6) associated with another account" \
  && grep -qx "not associated with the key: theirs.example.com" "$T/out" \
  && ok "another user's image: not associated, its host listed" || bad "not associated" "$(cat "$T/out")"
grep -qx "3 images: 2 purged, 1 not associated with the key, 0 failed; 2 bad inputs" "$T/out" \
  && ok "the counts add up (3 images, 2 bad inputs)" || bad "counts" "$(cat "$T/out")"
[ "$(image_purges theirs.example.com)" = 0 ] && ok "the other user's image was not purged" || bad "theirs purged"
no_keys "$T/out" "$T/err" && ok "no key in the output" || bad "a key leaked" "$(cat "$T/out" "$T/err")"

# --- --dry-run and --json
mark
"$BIN" "$PURGE" --dry-run --url "$SPIO/photo.jpg" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && nothing_sent && sq "$T/out" | grep -qxF "would purge $SPIO/photo* (argument 3)" \
  && ok "--dry-run lists what each image sends, sends nothing, exit 0" || bad "dry run ($st)" "$(cat "$T/out" "$T/err"; sent)"
"$BIN" "$PURGE" --yes --json --url "$SPIO/photo.jpg" --url "http://x.example.com/a.jpg" >"$T/out" 2>"$T/err"; st=$?
python3 - "$T/out" "$SPIO" <<'PY' >"$T/json.check"
import json, sys
d = json.load(open(sys.argv[1])); spio = sys.argv[2]
u = d["urls"]
assert d["mode"] == "image", d["mode"]
assert len(u) == 1 and u[0]["url"] == spio + "/photo.jpg" and u[0]["purged"] == spio + "/photo*", u
assert u[0]["state"] == "purged" and u[0]["source"] == "argument 4" and u[0]["host"] == "img.example.com", u
assert d["bad"][0]["source"] == "argument 6" and d["bad"][0]["message"].startswith("url: "), d["bad"]
assert d["counts"] == {"purged": 1, "not_associated": 0, "failed": 0, "not_tried": 0, "bad_inputs": 1}, d["counts"]
assert d["not_associated"] == [], d["not_associated"]
print("ok")
PY
[ $st = 3 ] && [ "$(cat "$T/json.check")" = ok ] && ok "--json: one document, each image with what was purged, counts, bad inputs" \
  || bad "json ($st)" "$(cat "$T/out" "$T/err" "$T/json.check")"

# --- usage errors: exit 2, nothing sent
mark
"$BIN" "$PURGE" --yes --storage --url "$SPIO/photo.jpg" >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "^--storage and --url/--urls do not go together" "$T/out" && ok "--url with --storage is refused (exit 2)" || bad "--storage ($st)" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --url "$SPIO/photo.jpg" img.example.com >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "not both" "$T/out" && ok "--url with a domain is refused (exit 2)" || bad "url and domain ($st)" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --url "$SPIO/photo.jpg" --urls "$T/urls.txt" >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "not both" "$T/out" && ok "--url with --urls is refused (exit 2)" || bad "url and urls ($st)" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --urls "$T/missing.txt" >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "cannot read $T/missing.txt" "$T/out" && ok "an unreadable --urls file: exit 2" || bad "missing ($st)" "$(cat "$T/out")"
"$BIN" "$PURGE" --yes --url >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q -- "--url needs a value" "$T/out" && ok "--url without a URL: exit 2" || bad "--url alone ($st)" "$(cat "$T/out")"
nothing_sent && ok "usage errors send nothing" || bad "a usage error sent" "$(sent)"
"$BIN" "$PURGE" --yes --url "https://img.example.com/a b.jpg" >"$T/out" 2>"$T/err"; st=$?
[ $st = 3 ] && grep -q "skipped argument 3: url: contains a space" "$T/err" && grep -qx "0 images: 0 purged, 0 not associated with the key, 0 failed; 1 bad inputs" "$T/out" \
  && nothing_sent && ok "only bad URLs: reported, nothing sent, exit 3" || bad "only bad ($st)" "$(cat "$T/out" "$T/err"; sent)"

# --- Ctrl-C while purging: the images not tried are counted apart from the failed
start_fixture
curl -sf -X POST --data '[{"status":200,"body":"","delay":0.3,"repeat_all":true}]' "$URL/_fixture/queue" >/dev/null
CDNCTL_SHORTPIXEL_URL=$URL "$BIN" "$PURGE" --yes --concurrency 1 --url https://a.example.com/1.jpg --url https://a.example.com/2.jpg \
  --url https://a.example.com/3.jpg --url https://a.example.com/4.jpg >"$T/int.out" 2>"$T/int.err" &
RUN_PID=$!
cleanup_pid $RUN_PID
for _ in $(seq 200); do [ "$(curl -sf "$URL/_fixture/count")" -ge 1 ] 2>/dev/null && break; sleep 0.05; done
kill -INT $RUN_PID
wait $RUN_PID; st=$?
nt=$(grep -c '^not tried ' "$T/int.out")
[ $st = 130 ] && [ "$nt" -ge 1 ] \
  && grep -qE "^4 images: [0-9]+ purged, 0 not associated with the key, 0 failed, $nt not tried \(interrupted\); 0 bad inputs$" "$T/int.out" \
  && ok "after Ctrl-C, $nt images not tried (interrupted), counted apart from the failed: exit 130" \
  || bad "interrupted ($st)" "$(cat "$T/int.out" "$T/int.err")"

# --- columns wider than string.format pads (99): a long URL, a long domain
long=$(python3 -c "print('a' * 60 + '.' + 'b' * 50 + '.com')")
"$BIN" "$PURGE" --dry-run --url "https://img.example.com/$(printf 'c%.0s' $(seq 120)).jpg" --url "https://img.example.com/x.jpg" >"$T/out" 2>&1; st=$?
"$BIN" "$PURGE" --dry-run "$long" >"$T/out2" 2>&1; st2=$?
[ $st = 0 ] && [ $st2 = 0 ] && sq "$T/out2" | grep -qxF "would purge www.$long (argument 2)" \
  && ok "a URL or a domain longer than 99 characters is listed in its column" || bad "long ($st, $st2)" "$(cat "$T/out" "$T/out2")"

# --- --help says what each mode calls
"$BIN" "$PURGE" --help >"$T/out" 2>&1
grep -q -- "--url URL" "$T/out" && grep -q -- "--urls FILE" "$T/out" && grep -q "purge-cdn-cache/KEY/URL" "$T/out" \
  && ! grep -qi "no purge of the CDN cache alone" "$T/out" && ok "--help documents --url and --urls and their endpoint" || bad "help" "$(cat "$T/out")"
grep -qi "no purge of the CDN cache alone\|no CDN-only purge" "$PURGE" && bad "purge.lua still says there is no CDN-only purge" \
  || ok "purge.lua's header does not deny the per-image purge"

# --- on a terminal (tmux): the question lists the images; y purges, n sends nothing
n=0
screen() { tmux capture-pane -t "$S" -p -S -100 | tr -d '\n'; }
wait_for() { local i; for i in $(seq 200); do screen | grep -qF -- "$1" && return 0; sleep 0.05; done; return 1; }
on_tty() {
  n=$((n + 1)); S=cdnctl-purge-url-$$-$n
  local env="env HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=$SHORTPIXEL_API_KEY"
  env="$env CDNCTL_SHORTPIXEL_URL=$SURL CDNCTL_SHORTPIXEL_API_URL=$SURL CDNCTL_EASYIO_URL=$SURL"
  tmux new-session -d -s "$S" -x 250 -y 50 "$env $*; echo EXITED-\$?; sleep 30"
}
tty_bad() { bad "$1" "screen: $(tmux capture-pane -t "$S" -p -S -100 | grep -v '^$')"$'\n'"sent: $(sent)"; }
mark
on_tty "$BIN" "$PURGE" --url "https://img.example.com/x.jpg" --url "https://img.example.com/y.jpg"
wait_for "purge each of 2 images (and its variants) from ShortPixel's CDN cache: https://img.example.com/x.jpg, https://img.example.com/y.jpg? [y/N]" \
  && ok "on a terminal it asks, naming the images" || tty_bad "question"
tmux send-keys -t "$S" n Enter
wait_for 'EXITED-2' && nothing_sent && ok "answering n: exit 2, nothing sent" || tty_bad "declined"
on_tty "$BIN" "$PURGE" --url "https://img.example.com/x.jpg"
wait_for "purge https://img.example.com/x.jpg (and its variants) from ShortPixel's CDN cache? [y/N]" && tmux send-keys -t "$S" y Enter
wait_for 'EXITED-0' && [ "$(sent | grep -c '^GET /purge-cdn-cache/')" = 1 ] && ok "answering y purges the one image: exit 0" || tty_bad "confirmed"

finish
