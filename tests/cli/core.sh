#!/usr/bin/env bash
# The binary from the outside: options, exit statuses, stdin scripts, arg,
# tracebacks, request traces, and API keys kept out of every output.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
expect_status() { # name want cmd...
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "exit $got, want $want; stderr: $(head -c 400 "$T/err")"; fi
}
contains() { grep -qF -- "$2" "$1"; }

start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
LEAK=LEAKCANARYk3y0123456789abcdef
export SHORTPIXEL_API_KEY=$LEAK EASYIO_API_KEY=${LEAK}ez

expect_status "--version exits 0" 0 "$BIN" --version
contains "$T/out" "cdnctl " && ok "--version prints the version" || bad "--version prints the version"
expect_status "--help exits 0" 0 "$BIN" --help
contains "$T/out" "usage: cdnctl" && ok "--help prints usage" || bad "--help prints usage"
expect_status "an unknown option is a usage error (2)" 2 "$BIN" --frobnicate
contains "$T/err" "unknown option '--frobnicate'" && ok "the usage error names the option" || bad "the usage error names the option"
expect_status "-e without code is a usage error" 2 "$BIN" -e
expect_status "a script error exits 1" 1 "$BIN" -e 'error("kaboom")'
contains "$T/err" "kaboom" && contains "$T/err" "stack traceback" && ok "a script error prints message and traceback on stderr" || bad "traceback" "$(cat "$T/err")"
expect_status "a missing script exits 1" 1 "$BIN" "$T/nope.lua"
expect_status "a syntax error exits 1" 1 "$BIN" -e 'x = = 1'
expect_status "cdnctl.exit(7) ends with status 7" 7 "$BIN" -e 'cdnctl.exit(7)'

printf 'print("from stdin", ...)\n' > "$T/s.lua"
expect_status "cdnctl - reads the script from stdin" 0 sh -c "'$BIN' - a b < '$T/s.lua'"
[ "$(cat "$T/out")" = "$(printf 'from stdin\ta\tb')" ] && ok "stdin script gets its arguments" || bad "stdin script args" "$(cat "$T/out")"
expect_status "piped stdin without a terminal runs as a script" 0 sh -c "echo 'print(1+1)' | '$BIN'"
[ "$(cat "$T/out")" = "2" ] && ok "echo 'print(1+1)' | cdnctl prints 2 and no prompt" || bad "piped stdin" "$(cat "$T/out")"
printf 'print(arg[0], arg[1], arg[2], #arg, arg[-1] ~= nil, select("#", ...))\n' > "$T/a.lua"
"$BIN" "$T/a.lua" x y >"$T/out" 2>&1
[ "$(cat "$T/out")" = "$(printf '%s\tx\ty\t2\ttrue\t2' "$T/a.lua")" ] && ok "arg is set as the lua interpreter does" || bad "arg" "$(cat "$T/out")"

# requests: traces and keys
expect_status "a binding against the fixture succeeds" 0 "$BIN" -e 'assert(shortpixel.add_domain("example.com")); assert(easyio.show_keys())'
CDNCTL_DEBUG=1 "$BIN" -e 'assert(shortpixel.add_domain("example.com")); assert(shortpixel.api_status()); assert(easyio.show_sites())' >"$T/out" 2>"$T/err"
grep -Eq '^cdnctl: GET http://127\.0\.0\.1:[0-9]+/add-domain/example\.com/\*\*\*\*cdef -> 200 \([0-9.]+ ms\)$' "$T/err" \
  && ok "CDNCTL_DEBUG traces method, masked URL, status and time" || bad "trace format" "$(cat "$T/err")"
grep -Eq '^cdnctl: POST http://127\.0\.0\.1:[0-9]+/v2/api-status\.php -> 200' "$T/err" && ! grep -q 'key=' "$T/err" \
  && ok "api-status's key travels in the POST body, out of the traced URL" || bad "api-status trace" "$(cat "$T/err")"
grep -q '^cdnctl: POST .*/exactdn/show.php -> 200' "$T/err" && ok "POSTs are traced" || bad "POST trace"
"$BIN" -v -e 'assert(shortpixel.read_domain("example.com"))' 2>"$T/err" >/dev/null
grep -q '^cdnctl: GET .*/read-domain/example.com -> 200' "$T/err" && ok "-v traces like CDNCTL_DEBUG" || bad "-v trace"

# every output path of a failing run, with the key in the server's answer
cat > "$T/leak.lua" <<LUA
local fx = require("fixture")
-- the server echoes the key in its error; the messages must not

require("cdnctl.sched").request{method="POST", url=os.getenv("CDNCTL_EASYIO_URL").."/_fixture/queue",
  body='[{"status":200,"body":"{\\\\"error\\\\": \\\\"API key $LEAK not found\\\\"}"},{"status":500,"body":"{\\\\"error\\\\": \\\\"$LEAK\\\\"}"}]'}
local r, err = easyio.show_keys({key = "$LEAK", attempts = 1})
print(r, err, err and err.message)
io.stderr:write(tostring(err), "\n")
local r2, err2 = shortpixel.read_domain("example.com", {attempts = 1})
print(tostring(err2))
error("fatal with key " .. os.getenv("SHORTPIXEL_API_KEY"))
LUA
CDNCTL_DEBUG=1 "$BIN" -e "$LUAP" "$T/leak.lua" >"$T/out" 2>"$T/err"
grep -q "not found" "$T/out" && ok "the leak script ran to its API errors" || bad "leak script ran" "$(cat "$T/out" "$T/err")"
if grep -qF "$LEAK" "$T/out" "$T/err"; then bad "the key never appears in stdout, stderr, traces or tracebacks" "$(grep -F "$LEAK" "$T/out" "$T/err" | head -3)"
else ok "the key never appears in stdout, stderr, traces or tracebacks"; fi
grep -q '\*\*\*\*cdef' "$T/err" && ok "the key is shown masked as ****cdef" || bad "masked form"

CDNCTL_DEBUG=2 "$BIN" -e 'assert(shortpixel.set_domain("example.com")); assert(easyio.show_keys())' >"$T/out" 2>"$T/err"
grep -q '^cdnctl: curl > GET /set-domain/example.com/\*\*\*\*cdef HTTP/1.1$' "$T/err" && ok "CDNCTL_DEBUG=2 adds libcurl's verbose output, masked" || bad "curl verbose" "$(head -20 "$T/err")"
grep -qF "$LEAK" "$T/err" && bad "libcurl's verbose output never shows the key" "$(grep -F "$LEAK" "$T/err" | head -2)" || ok "libcurl's verbose output never shows the key"

# call
expect_status "call prints the JSON answer" 0 "$BIN" call shortpixel.read_domain example.com
grep -q '"Status":2' "$T/out" && ok "call's JSON is compact when not on a terminal" || bad "call json" "$(cat "$T/out")"
expect_status "call with a bad domain exits 2" 2 "$BIN" call read_domain "bad domain"
expect_status "call with an unknown operation exits 2" 2 "$BIN" call shortpixel.nope
expect_status "call refuses key= on the command line" 2 "$BIN" call read_domain example.com key=abc
"$BIN" call --list >"$T/out"; [ "$(wc -l <"$T/out")" -eq 20 ] && ok "call --list lists the twenty operations" || bad "call --list" "$(wc -l <"$T/out")"

# plain http to a real host is refused unless --allow-http
CDNCTL_SHORTPIXEL_URL=http://192.0.2.1 "$BIN" -e 'local r, e = shortpixel.set_domain("example.com"); print(e.kind, e.message)' >"$T/out" 2>&1
grep -q "^invalid	refusing to send an API key over plain http to 192.0.2.1" "$T/out" && ok "a key is never sent over plain http to a non-loopback host" || bad "http refused" "$(cat "$T/out")"

# a key written on the command line warns (ps shows it); a variable named key does not
"$BIN" -e 'local t = { key = "sp-literal-key-1234" }' >"$T/out" 2>&1
grep -q "seems to hold an API key" "$T/out" && ok "a literal key in -e code warns" || bad "no warning for a literal key" "$(cat "$T/out")"
"$BIN" -e 'local key = "x"; local t = { key = key }' >"$T/out" 2>&1
[ ! -s "$T/out" ] && ok "{ key = key } names a variable: no warning" || bad "false warning" "$(cat "$T/out")"

# a script that prints or writes a known key itself shows it masked
OUTF="$T/written" SHORTPIXEL_API_KEY=sp-printed-key-5678 "$BIN" -e 'local k = os.getenv("SHORTPIXEL_API_KEY")
  print(k); io.write(k, "\n"); local f = assert(io.open(os.getenv("OUTF"), "w")); f:write("key=", k, "\n"); f:close()' >"$T/out" 2>&1
[ "$(cat "$T/out")" = "$(printf '****5678\n****5678')" ] && [ "$(cat "$T/written")" = "key=****5678" ] \
  && ok "print, io.write and file writes mask a known key" || bad "script output masking" "$(cat "$T/out" "$T/written")"

# The documented Easy IO host: a transport failure says where EWWW's plugin moved.
CDNCTL_EASYIO_URL=https://optimize.exactlywww.com:1 "$BIN" -e 'local r, e = easyio.show_sites(nil, { attempts = 1, timeout = 3 }); print(e)' >"$T/out" 2>&1
grep -q "moved to https://api.exactlywww.net in May 2026: set CDNCTL_EASYIO_URL=https://api.exactlywww.net" "$T/out" \
  && ok "a transport failure against the documented Easy IO host names the new one and how to use it" || bad "moved-host hint" "$(cat "$T/out")"
CDNCTL_EASYIO_URL=http://127.0.0.1:1 "$BIN" -e 'local r, e = easyio.show_sites(nil, { attempts = 1, timeout = 3 }); print(e)' >"$T/out" 2>&1
! grep -q "exactlywww" "$T/out" && grep -q "transport" "$T/out" \
  && ok "other hosts' transport failures carry no such hint" || bad "hint elsewhere" "$(cat "$T/out")"

# Did you mean: a misspelt binding in a script, an unknown option of a binding.
"$BIN" -e 'shortpixel.add_domian("example.com")' >"$T/out" 2>&1; st=$?
[ $st = 1 ] && grep -q "attempt to call a nil value (field 'add_domian') (did you mean shortpixel.add_domain?)" "$T/out" \
  && ok "a misspelt binding in a script: the error says did you mean shortpixel.add_domain?" || bad "did-you-mean in a script ($st)" "$(cat "$T/out")"
"$BIN" -e 'shortpixel.read_domain("example.com", { tmeout = 5 })' >"$T/out" 2>&1
grep -q "unknown option 'tmeout' (did you mean 'timeout'?)" "$T/out" && ok "an unknown option of a binding: did you mean 'timeout'?" || bad "option hint" "$(cat "$T/out")"

finish
