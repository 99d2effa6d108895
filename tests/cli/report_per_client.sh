#!/usr/bin/env bash
# report.lua --per-client DIR: one client-ready page per client (its own
# domains and site only), named after the client made safe for a file name
# (two that clean up alike get -2), written into DIR (made if missing;
# refused when it is a file), with the client view on; --client-view alone:
# no agency e-mail, no shared credit pool, no developer error text (a host
# that cannot be read is "not available"; the reason stays in the CSV).
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_sandbox rp --pending 0
use "$SURL"
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001 HOME=$T XDG_CONFIG_HOME=$T/config
unset CDNCTL_PROFILE
cd "$T" || exit 1
"$BIN" -e 'for _, d in ipairs { "bistro.example", "shop.example" } do
  for _, h in ipairs(shortpixel.hosts(d)) do assert(shortpixel.add_domain(h)) end
  assert(easyio.create_site("https://www." .. d .. "/")) end' >/dev/null || bad "setup"
printf 'client,domain\nBistro & Co,bistro.example\nShop/Online,shop.example\nBistro  Co,other.example\n' >clients.csv
"$BIN" "$SRC/scripts/report.lua" clients.csv --per-client pages --csv all.csv >out 2>err; st=$?
[ -d pages ] && [ -f "pages/Bistro-Co.html" ] && [ -f "pages/Shop-Online.html" ] && [ -f "pages/Bistro-Co-2.html" ] \
  && [ "$(ls pages | wc -l)" = 3 ] \
  && ok "a page per client in a folder made for them, names made safe, -2 for the second that cleans up alike (exit $st)" \
  || bad "pages" "exit $st; $(ls -la pages; cat out err)"
grep -q 'bistro.example' pages/Bistro-Co.html && ! grep -q 'shop.example' pages/Bistro-Co.html \
  && grep -q 'www.bistro.example' pages/Bistro-Co.html && ! grep -q 'https://www.shop.example/' pages/Bistro-Co.html \
  && grep -q 'https://www.shop.example/' pages/Shop-Online.html \
  && ok "each page holds its client's domains and site only" || bad "page contents" "$(grep -o 'example[^<]*' pages/Bistro-Co.html | sort -u)"
! grep -q 'agency@example.com' pages/*.html && ! grep -q 'Credits are shared' pages/*.html \
  && ok "the client view: no agency e-mail, no shared credit pool" || bad "client view" "$(grep -l agency@ pages/*.html)"
grep -q 'not available' pages/Bistro-Co-2.html && ! grep -qi 'associated with another\|not_owner\|read_domain' pages/Bistro-Co-2.html \
  && grep -q 'other.example' all.csv \
  && ok "a host that cannot be read is 'not available' on the page" || bad "not available" "$(grep -o 'class="err">[^<]*' pages/Bistro-Co-2.html)"
"$BIN" "$SRC/scripts/report.lua" clients.csv --client-view --html one.html >/dev/null 2>&1
! grep -q 'agency@example.com' one.html && grep -q 'bistro.example' one.html && grep -q 'shop.example' one.html \
  && ok "--client-view alone: one page without the agency's e-mail" || bad "--client-view" "$(grep -c agency@ one.html)"
"$BIN" "$SRC/scripts/report.lua" clients.csv --html agency.html >/dev/null 2>&1
grep -q 'agency@example.com' agency.html && ok "without it, the agency's page keeps its e-mail" || bad "agency page"
: >afile
"$BIN" "$SRC/scripts/report.lua" clients.csv --per-client afile >out2 2>&1; st=$?
[ $st = 2 ] && grep -q 'not a folder' out2 && [ ! -s afile ] && ok "--per-client of a file: refused, exit 2, the file untouched" || bad "file" "exit $st; $(cat out2)"
if command -v chromium >/dev/null 2>&1; then
  timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --dump-dom "file://$T/pages/Bistro-Co.html" >dom.html 2>/dev/null
  grep -q '<h1>CDN report: Bistro &amp; Co</h1>' dom.html && ok "a client page renders in headless Chromium with its client's title" \
    || bad "chromium render" "$(head -c 400 dom.html)"
fi
finish
