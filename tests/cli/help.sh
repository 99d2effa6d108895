#!/usr/bin/env bash
# help() everywhere: every documented function has an entry, help("word")
# searches names and descriptions, and a binding's help lists its options.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config
for f in cdnctl.parallel cdnctl.retry cdnctl.meta cdnctl.json cdnctl.sleep cdnctl.number cdnctl.exit cdnctl.debug \
         cdnctl.write_unmasked shortpixel.hosts shortpixel.STATUS cdnctl.json.encode cdnctl.json.decode \
         cdnctl.check.same_site help; do
  "$BIN" -e "help($f)" >"$T/out" 2>&1
  name=${f#cdnctl.json.}
  grep -q "^$f\|^${f}(" "$T/out" && ! grep -q "^no help" "$T/out" && [ "$(wc -l <"$T/out")" -ge 2 ] \
    && ok "help($f) explains it" || bad "help($f)" "$(cat "$T/out")"
  "$BIN" -e "help('$f')" >"$T/out2" 2>&1
  cmp -s "$T/out" "$T/out2" && ok "help('$f') by name gives the same" || bad "help('$f') by name" "$(cat "$T/out2")"
done
"$BIN" -e 'help("purge")' >"$T/out" 2>&1
grep -q "shortpixel.purge_storage_bulk" "$T/out" && grep -q "shortpixel.purge_cdn_cache_bulk" "$T/out" && ! grep -q "shortpixel.add_domain(" "$T/out" \
  && ok "help(\"purge\") lists what mentions purge, and only that" || bad "help(purge)" "$(cat "$T/out")"
"$BIN" -e 'help("sub-key")' >"$T/out" 2>&1
grep -q "easyio.create_key" "$T/out" && grep -q "easyio.change_key" "$T/out" && ok "help searches the descriptions too" || bad "help(sub-key)" "$(cat "$T/out")"
"$BIN" -e 'help("zzzqqq")' >"$T/out" 2>&1
grep -q 'nothing matches "zzzqqq"' "$T/out" && ok "a search that finds nothing says so" || bad "no match" "$(cat "$T/out")"
"$BIN" -e 'help(shortpixel.read_domain)' >"$T/out" 2>&1
grep -q "options: .*deadline" "$T/out" && grep -q "options: .*refresh" "$T/out" && ok "a binding's help lists every option (deadline, refresh)" || bad "options" "$(cat "$T/out")"
"$BIN" -e 'help("add_domian")' >"$T/out" 2>&1
grep -q "did you mean shortpixel.add_domain" "$T/out" && ok "help of a misspelt name suggests the right one" || bad "help misspelt" "$(cat "$T/out")"
finish
