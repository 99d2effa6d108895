#!/usr/bin/env bash
# help() everywhere: every documented function has an entry, help("word")
# searches names and descriptions, and a binding's help lists its options;
# cdnctl help [COMMAND | BINDING] and cdnctl run --help on the command line.
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
# --- cdnctl help on the command line
for c in call whoami sandbox run version help; do
  "$BIN" $c --help >"$T/want" 2>&1
  "$BIN" help $c >"$T/out" 2>&1; st=$?
  [ $st = 0 ] && [ -s "$T/out" ] && cmp -s "$T/out" "$T/want" && grep -qi "usage" "$T/out" \
    && ok "cdnctl help $c prints cdnctl $c --help" || bad "help $c ($st)" "$(diff "$T/out" "$T/want" | head)"
done
"$BIN" help profiles >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "usage: cdnctl .*profiles" "$T/out" && ok "cdnctl help profiles" || bad "help profiles ($st)" "$(cat "$T/out")"
"$BIN" help >"$T/out" 2>&1; st=$?
"$BIN" --help >"$T/want" 2>&1
[ $st = 0 ] && cmp -s "$T/out" "$T/want" && ok "cdnctl help alone is cdnctl --help" || bad "help alone ($st)" "$(head -3 "$T/out")"
"$BIN" help shortpixel.read_domain >"$T/out" 2>&1; st=$?
"$BIN" -e 'help(shortpixel.read_domain)' >"$T/want" 2>&1
[ $st = 0 ] && cmp -s "$T/out" "$T/want" && grep -q "endpoint:" "$T/out" && ok "cdnctl help BINDING is help(BINDING)" || bad "help binding ($st)" "$(cat "$T/out")"
"$BIN" help add_domain >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "^shortpixel.add_domain(" "$T/out" && ok "cdnctl help by a binding's short name" || bad "help short ($st)" "$(cat "$T/out")"
"$BIN" help cdnctl.parallel >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "^cdnctl.parallel" "$T/out" && ok "cdnctl help cdnctl.parallel" || bad "help parallel ($st)" "$(cat "$T/out")"
"$BIN" help report >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "usage: .*report" "$T/out" && ok "cdnctl help SCRIPT is run SCRIPT --help" || bad "help report ($st)" "$(cat "$T/out")"
"$BIN" help cal >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean 'call'" "$T/out" && ok "cdnctl help cal: did you mean call (exit 2)" || bad "help cal ($st)" "$(cat "$T/out")"
"$BIN" help shortpixel.add_domian >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "did you mean 'shortpixel.add_domain'" "$T/out" && ok "cdnctl help of a misspelt binding" || bad "help misspelt binding ($st)" "$(cat "$T/out")"
"$BIN" help zzzqqq >"$T/out" 2>&1; st=$?
[ $st = 2 ] && grep -q "nothing matches" "$T/out" && ok "cdnctl help WORD that matches nothing: exit 2" || bad "help nothing ($st)" "$(cat "$T/out")"
"$BIN" run --help >"$T/out" 2>&1; st=$?
[ $st = 0 ] && grep -q "^usage: cdnctl .*run NAME" "$T/out" && grep -q "report" "$T/out" && ! grep -q "no ready script" "$T/out" \
  && ok "cdnctl run --help prints run's usage and the ready scripts" || bad "run --help ($st)" "$(cat "$T/out")"
"$BIN" --help >"$T/out" 2>&1
grep -q "cdnctl \[options\] version" "$T/out" && grep -q "cdnctl \[options\] help" "$T/out" \
  && grep -q "options go before or after a subcommand" "$T/out" && ok "cdnctl --help names version and help, and where options go" || bad "--help" "$(cat "$T/out")"
"$BIN" --man >"$T/out" 2>&1
grep -q 'fBversion' "$T/out" && grep -q 'fBhelp' "$T/out" && grep -q 'fBrun' "$T/out" \
  && ok "the man page's SYNOPSIS has version, help and run" || bad "man synopsis" "$(sed -n '/SYNOPSIS/,/DESCRIPTION/p' "$T/out")"
finish
