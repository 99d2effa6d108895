#!/usr/bin/env bash
# One image purged on ShortPixel's CDN: `cdnctl call shortpixel.purge_cdn_cache`
# (asks first, --dry-run shows the exact request, bad URLs send nothing), its
# place in help, the man page and completion (scripts/purge.lua --url and
# --urls: tests/cli/purge_url.sh).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config SHORTPIXEL_API_KEY=spDemoAgency00000001
unset CDNCTL_HAR CDNCTL_DEBUG
SPIO=https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/img.example.com/wp-content/uploads
start_sandbox sb --log "$T/log"
use "$SURL"
"$BIN" -e 'assert(shortpixel.add_domain("img.example.com")); assert(shortpixel.add_domain("theirs.example.com", { key = "spDemoOther000000002" }))' \
  || { echo "setup failed"; exit 1; }
sent() { wc -l <"$T/log"; }
image_purges() { curl -sf "$SURL/_sandbox/state" | python3 -c "import json,sys; d=json.load(sys.stdin)['shortpixel']['domains'].get('$1') or {}; print((d.get('purges') or {}).get('image', 0))"; }

# --- cdnctl call
n=$(sent)
"$BIN" call shortpixel.purge_cdn_cache "$SPIO/photo.jpg" </dev/null >"$T/out" 2>"$T/err"; st=$?
[ $st = 2 ] && [ "$(sent)" = "$n" ] && grep -q "purge $SPIO/photo.jpg (and its variants) from ShortPixel's CDN cache needs confirmation" "$T/err" \
  && ok "call asks first: without a terminal and --yes nothing is sent (exit 2), the question names the URL" || bad "no confirmation ($st)" "$(cat "$T/err")"
"$BIN" call --dry-run shortpixel.purge_cdn_cache "$SPIO/photo.jpg" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && [ "$(sent)" = "$n" ] && grep -qF "GET $SURL/purge-cdn-cache/****0001/$SPIO/photo*" "$T/out" \
  && ! grep -q spDemoAgency00000001 "$T/out" && ok "--dry-run prints the exact request, key masked, URL unencoded with '*'" || bad "dry run ($st)" "$(cat "$T/out" "$T/err")"
"$BIN" call --dry-run shortpixel.purge_cdn_cache "$SPIO/photo.jpg" exact=true >"$T/out" 2>"$T/err"
grep -qF "/purge-cdn-cache/****0001/$SPIO/photo.jpg" "$T/out" && ok "exact=true sends the URL unchanged" || bad "exact" "$(cat "$T/out" "$T/err")"
"$BIN" call --yes shortpixel.purge_cdn_cache "$SPIO/photo.jpg" >"$T/out" 2>"$T/err"; st=$?
[ $st = 0 ] && grep -qF "\"purged\"" "$T/out" && [ "$(image_purges img.example.com)" = 1 ] \
  && ok "--yes purges: the result names what was sent" || bad "--yes ($st)" "$(cat "$T/out" "$T/err")"
n=$(sent)
for u in "https://img.example.com/a b.jpg" "https://img.example.com/a.jpg?v=1" "http://img.example.com/a.jpg" "https://img.example.com/"; do
  "$BIN" call --yes shortpixel.purge_cdn_cache "$u" >"$T/out" 2>"$T/err"; st=$?
  [ $st = 2 ] && grep -q "url: " "$T/err" || bad "bad URL '$u' ($st)" "$(cat "$T/err")"
done
[ "$(sent)" = "$n" ] && ok "bad URLs: exit 2 with what is wrong, nothing sent" || bad "bad URLs sent something"
"$BIN" call --yes shortpixel.purge_cdn_cache "https://theirs.example.com/a.jpg" >"$T/out" 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q "not associated with this API key" "$T/err" && ok "another user's host: refused (exit 1)" || bad "theirs ($st)" "$(cat "$T/err")"

# --- help, man page, completion
"$BIN" call --names >"$T/names.txt"; grep -qx shortpixel.purge_cdn_cache "$T/names.txt" && ok "completion offers it (call --names)" || bad "names"
"$BIN" call shortpixel.purge_cdn_cache --help >"$T/out" 2>&1
grep -q "GET https://no-cdn.shortpixel.ai/purge-cdn-cache/KEY/URL" "$T/out" && grep -q "destructive: costly" "$T/out" \
  && ok "call --help: its endpoint and that it costs" || bad "help" "$(cat "$T/out")"
"$BIN" -e 'help("purge_cdn_cache")' >"$T/help.txt"; grep -q "opts.exact" "$T/help.txt" && ok "help() has its rules" || bad "help()"
man_page=$("$BIN" -e 'io.write(require("cdnctl.front.man").page())')
grep -q "shortpixel.purge_cdn_cache(url, \[opts\])" <<<"$man_page" && grep -q "The twenty bindings below .* six of which destroy or cost" <<<"$man_page" \
  && ok "the man page lists it, twenty bindings, six that destroy or cost" || bad "man page"
finish
