#!/usr/bin/env bash
# Key hygiene: with a recognisable key from the environment, from opts.key,
# from a profile and from a profile's key command, every output path is
# searched for the key and for its first 8 characters: stdout, stderr, API
# errors, tracebacks, errors inside cdnctl.parallel, CDNCTL_DEBUG=1 and =2
# traces (also of URLs and headers long enough to be cut), `cdnctl call`,
# `cdnctl profiles`, the prompt's screen and history. Also: core dumps are
# off, plain http to a non-loopback host is refused unless --allow-http (a
# local proxy proves nothing was sent), and a key on the command line warns.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
unset SHORTPIXEL_API_KEY EASYIO_API_KEY CDNCTL_PROFILE CDNCTL_DEBUG
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
KEY=sp-SECRET-canary-7f3a9c
EZKEY=ez-SECRET-canary-2b8e41
printf '%s\n' "$KEY" >"$T/key.sp"
printf '%s\n' "$EZKEY" >"$T/key.ez"
PATTERNS=("$KEY" "${KEY:0:8}" "$EZKEY" "${EZKEY:0:8}")
no_key_in() { # files...: 0 when neither key nor its first 8 characters appear
  local p
  for p in "${PATTERNS[@]}"; do grep -qF -- "$p" "$@" && return 1; done
  return 0
}
leaks() { grep -nF -e "${KEY:0:8}" -e "${EZKEY:0:8}" "$@" | head -3; }
check_clean() { # name files...
  local name=$1; shift
  no_key_in "$@" && ok "$name" || bad "$name" "$(leaks "$@")"
}

start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL
mkdir -p "$T/log"
python3 "$SRC/tests/lib/hostile_server.py" "$T/log" >"$T/ports" 2>"$T/server.err" &
cleanup_pid $!
wait_file "$T/ports" || { echo "the hostile server did not start: $(cat "$T/server.err")"; exit 1; }
read -r HPORT TPORT _ <"$T/ports"
HBASE=http://127.0.0.1:$HPORT

# The audit script: every way a key could come back out. AUDIT_MODE says
# where the key comes from: env, opts (a literal read from a file), profile.
cat >"$T/audit.lua" <<'LUA'
local mode = os.getenv("AUDIT_MODE")
local function slurp(p) local f = assert(io.open(p)); local s = f:read("l"); f:close(); return s end
local T = os.getenv("T")
local key, ezkey = slurp(T .. "/key.sp"), slurp(T .. "/key.ez")
local function o(extra)
  local t = {}
  if mode == "opts" then t.key = (extra and extra.ez) and ezkey or key end
  for k, v in pairs(extra or {}) do if k ~= "ez" then t[k] = v end end
  return t
end
-- successes, each traced under CDNCTL_DEBUG
assert(shortpixel.add_domain("example.com", o()))
assert(shortpixel.api_status(o()))
assert(easyio.show_keys(o({ ez = true })))
print("results", cdnctl.json.encode(assert(shortpixel.set_domain("example.com", o()))))
-- the server echoes the key in its errors: the messages must not
local sched = require "cdnctl.sched"
sched.request { method = "POST", url = require("cdnctl.config").url(cdnctl.settings, "ez") .. "/_fixture/queue",
  body = cdnctl.json.encode({ { status = 200, body = '{"error": "API key ' .. ezkey .. ' not found"}' },
                              { status = 500, body = '{"error": "' .. ezkey .. '"}' } }) }
local r, err = easyio.show_keys(o({ ez = true, attempts = 1 }))
print("api error", err, err and err.message)
io.stderr:write("stderr ", tostring(err), "\n")
local r2, err2 = easyio.show_keys(o({ ez = true, attempts = 1 }))
print("http error", err2)
-- a refused key (bad characters) names no key
local r3, err3 = shortpixel.set_domain("example.com", { key = key .. "/x" })
print("invalid", err3)
-- an error raised inside cdnctl.parallel
local _, errs = cdnctl.parallel({ 1 }, function() error("bad key in a worker: " .. key) end)
print("parallel", errs[1])
-- a chunk named after its source, shortened by Lua with "..."
local ok, msg = xpcall(assert(load("error('x') -- padding padding padding " .. key)), require("cdnctl.host").traceback)
print("chunk name", msg)
-- and the script's own fatal error: message and traceback
error("fatal with keys " .. key .. " and " .. ezkey)
LUA
export T

run_audit() { # mode debug
  local mode=$1 dbg=$2 name="$1, CDNCTL_DEBUG=$2"
  AUDIT_MODE=$mode CDNCTL_DEBUG=$dbg "$BIN" "$T/audit.lua" >"$T/out" 2>"$T/err"
  local st=$?
  [ "$st" = 1 ] && grep -q '^results' "$T/out" && grep -q 'stack traceback' "$T/err" \
    && ok "$name: the audit script ran to its final error" || bad "$name: the audit ran" "exit $st; $(head -c 800 "$T/err")"
  check_clean "$name: no key in stdout, stderr, errors, traces or the traceback" "$T/out" "$T/err"
  grep -q '^cdnctl: fatal with keys \*\*\*\*3a9c and \*\*\*\*8e41\|^cdnctl: .*fatal with keys \*\*\*\*3a9c and \*\*\*\*8e41' "$T/err" \
    && ok "$name: the fatal error shows both keys masked" || bad "$name: fatal error masked" "$(grep fatal "$T/err")"
  grep -q '^parallel.*bad key in a worker: \*\*\*\*3a9c' "$T/out" && ok "$name: an error inside cdnctl.parallel is masked" || bad "$name: parallel error" "$(grep parallel "$T/out")"
  grep -q '^chunk name.*\*\*\*\*\.\.\.' "$T/out" && ok "$name: a key cut short by Lua's \"...\" is masked" || bad "$name: cut chunk name" "$(grep -A1 'chunk name' "$T/out")"
  if [ "$dbg" != 0 ]; then
    grep -q '^cdnctl: GET .*/set-domain/example.com/\*\*\*\*3a9c -> 200' "$T/err" && ok "$name: the trace shows the key masked" || bad "$name: trace" "$(head -5 "$T/err")"
  fi
  if [ "$dbg" = 2 ]; then
    grep -q '^cdnctl: curl > GET /set-domain/example.com/\*\*\*\*3a9c HTTP/1.1' "$T/err" && ok "$name: libcurl's verbose output is there, masked" || bad "$name: verbose" "$(head -20 "$T/err")"
  fi
}

# 1. the key from the environment
for d in 0 1 2; do SHORTPIXEL_API_KEY=$KEY EASYIO_API_KEY=$EZKEY run_audit env $d; done
# 2. the key from opts.key only
for d in 0 1 2; do run_audit opts $d; done
# 3. the key from a profile (mode 0600: no warning)
mkdir -p "$T/config/cdnctl"
CFG=$T/config/cdnctl/config.lua
# a profile's key goes to the profile's URLs, never to the environment's
U="shortpixel_url = \"$URL\", shortpixel_api_url = \"$URL\", easyio_url = \"$URL\""
printf 'return { default_profile = "a", profiles = { a = { shortpixel_key = "%s", easyio_key = "%s", %s },\n  b = { shortpixel_key_cmd = "cat %s", easyio_key_cmd = "cat %s", %s } } }\n' \
  "$KEY" "$EZKEY" "$U" "$T/key.sp" "$T/key.ez" "$U" >"$CFG"
unset CDNCTL_SHORTPIXEL_URL CDNCTL_SHORTPIXEL_API_URL CDNCTL_EASYIO_URL
chmod 600 "$CFG"
for d in 0 1 2; do run_audit profile $d; done
grep -q 'others can read it' "$T/err" && bad "a profile of mode 0600 gets no warning" || ok "a profile of mode 0600 gets no warning"
# 4. the key from a profile's key command
for d in 0 2; do CDNCTL_PROFILE=b run_audit profile $d; done
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL

"$BIN" profiles >"$T/out" 2>"$T/err"
grep -q '\*\*\*\*3a9c' "$T/out" && ok "cdnctl profiles shows keys masked" || bad "cdnctl profiles" "$(cat "$T/out" "$T/err")"
check_clean "cdnctl profiles never shows a key" "$T/out" "$T/err"
chmod 644 "$CFG"
"$BIN" -e 'assert(shortpixel.set_domain("example.com"))' >"$T/out" 2>"$T/err"
grep -q 'holds API keys and others can read it (mode 644); run: chmod 600' "$T/err" \
  && ok "a profile others can read gets a warning" || bad "permission warning" "$(cat "$T/err")"
check_clean "the permission warning names no key" "$T/out" "$T/err"
rm -f "$CFG"

export SHORTPIXEL_API_KEY=$KEY EASYIO_API_KEY=$EZKEY

# cdnctl call: output, errors and traces
CDNCTL_DEBUG=2 "$BIN" call shortpixel.set_domain example.com >"$T/out" 2>"$T/err"
[ $? = 0 ] && grep -q '"Status"' "$T/out" && ok "cdnctl call answers" || bad "cdnctl call answers" "$(cat "$T/out" "$T/err" | head -5)"
check_clean "cdnctl call (CDNCTL_DEBUG=2): no key in its output or traces" "$T/out" "$T/err"
for fmt in json table csv; do
  "$BIN" call easyio.show_keys --output $fmt >"$T/out" 2>"$T/err"
  check_clean "cdnctl call --output $fmt: no key" "$T/out" "$T/err"
done
CDNCTL_EASYIO_URL=$HBASE/redirect307 "$BIN" call easyio.show_sites >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q '^cdnctl: easyio.show_sites: HTTP 307; the answer says: moved to http://127.0.0.2:.* (http)' "$T/err" && ok "cdnctl call reports an HTTP error" || bad "call http error" "$(cat "$T/err")"
check_clean "cdnctl call's error names no key" "$T/out" "$T/err"

# a key on the command line warns (ps shows it) and is refused by call
"$BIN" call shortpixel.set_domain example.com key=$KEY >"$T/out" 2>"$T/err"
st=$?
[ $st = 2 ] && ok "call refuses key= on the command line (exit 2)" || bad "call key= refused" "exit $st"
grep -q 'warning: argument .* seems to hold an API key; other users can see it in ps' "$T/err" \
  && ok "call with key=... warns that ps shows it" || bad "call key= warns" "$(cat "$T/err")"
check_clean "the warning does not repeat the key" "$T/out" "$T/err"
"$BIN" call easyio.show_keys api_key=$EZKEY >"$T/out" 2>"$T/err"
grep -q 'seems to hold an API key' "$T/err" && ok "call with api_key=... warns too" || bad "api_key= warns" "$(cat "$T/err")"
check_clean "that warning does not repeat the key" "$T/out" "$T/err"
"$BIN" -e "assert(shortpixel.set_domain('example.com', {key = '$KEY'}))" >"$T/out" 2>"$T/err"
grep -q 'seems to hold an API key' "$T/err" && ok "-e code with a literal key = '...' warns" || bad "-e literal key warns" "$(cat "$T/err")"
check_clean "-e with a literal key: no key in the output" "$T/out" "$T/err"
"$BIN" -e 'assert(shortpixel.set_domain("example.com"))' >"$T/out" 2>"$T/err"
grep -q 'seems to hold an API key' "$T/err" && bad "no warning when the key comes from the environment" "$(cat "$T/err")" || ok "no warning when the key comes from the environment"

# traces of long URLs and headers: a key straddling any cut stays masked
pad() { head -c "$1" /dev/zero | tr '\0' a; }
P1=$(( 1013 - ${#HBASE} - 37 )) # puts the key across byte 1023 of the trace line
CDNCTL_DEBUG=1 CDNCTL_SHORTPIXEL_URL=$HBASE/$(pad $P1) "$BIN" -e 'assert(shortpixel.set_domain("example.com"))' >"$T/out" 2>"$T/err"
grep -q '/set-domain/example.com/\*\*\*\*3a9c -> 200' "$T/err" && ok "a trace line over 1 KiB is printed whole, masked" || bad "long trace" "$(cut -c 990-1100 "$T/err")"
check_clean "a key across the 1 KiB mark of a trace line stays masked" "$T/out" "$T/err"
CDNCTL_DEBUG=2 CDNCTL_SHORTPIXEL_URL=$HBASE/$(pad 2008) "$BIN" -e 'assert(shortpixel.set_domain("example.com"))' >"$T/out" 2>"$T/err"
grep -q '^cdnctl: curl > GET /a*/set-domain/example.com/\*\*\*\*3a9c HTTP/1.1$' "$T/err" && ok "a request head over 2 KiB is shown whole, masked" || bad "long request head" "$(grep 'curl >' "$T/err" | cut -c 1990-2100)"
check_clean "a key across the 2 KiB mark of libcurl's output stays masked" "$T/out" "$T/err"
CDNCTL_DEBUG=2 CDNCTL_SHORTPIXEL_URL=$HBASE/longheader "$BIN" -e 'assert(shortpixel.set_domain("example.com"))' >"$T/out" 2>"$T/err"
grep -q '^cdnctl: curl < X-Echo: p*/longheader/set-domain/example.com/\*\*\*\*3a9c$' "$T/err" && ok "a response header over 2 KiB echoing the key is shown masked" || bad "long header" "$(grep 'X-Echo' "$T/err" | cut -c 2000-2100)"
check_clean "a key across the 2 KiB mark of a response header stays masked" "$T/out" "$T/err"

# print and io.write are 8-bit clean: NUL bytes pass, keys after them are masked
"$BIN" -e 'print("A\0B\0C"); io.write("x\0", os.getenv("SHORTPIXEL_API_KEY"), "\0y\n")' >"$T/out" 2>"$T/err"
printf 'A\0B\0C\nx\0****3a9c\0y\n' >"$T/want"
cmp -s "$T/out" "$T/want" && ok "print and io.write write every byte after a NUL and mask the key there" \
  || bad "NUL-safe output" "$(od -c "$T/out" | head -5)"
check_clean "NUL-safe output: no key" "$T/out" "$T/err"

# a server message that echoes the key percent-encoded (every byte, lower-case
# hex) or JSON-escaped is masked like the raw key
cat >"$T/echo.lua" <<'LUA'
local k = os.getenv("EASYIO_API_KEY")
local pct = k:gsub(".", function(c) return string.format("%%%02x", c:byte()) end)
local esc = k:gsub("%-", "\\u002d")
require("cdnctl.sched").request { method = "POST", url = os.getenv("CDNCTL_EASYIO_URL") .. "/_fixture/queue",
  body = cdnctl.json.encode({ { status = 200, body = '{"error": "no such key: ' .. pct .. '"}' },
                              { status = 200, body = '{"error": "key ' .. esc .. ' refused"}' } }) }
for _ = 1, 2 do
  local _, err = easyio.show_keys({ attempts = 1 })
  print("echo", err)
end
LUA
"$BIN" "$T/echo.lua" >"$T/out" 2>"$T/err"
[ "$(grep -c '^echo	easyio.show_keys: .*\*\*\*\*8e41' "$T/out")" = 2 ] && ! grep -qi -e '%65%7a' -e 'SECRET' "$T/out" "$T/err" \
  && ok "a server message echoing the key percent-encoded or JSON-escaped shows it masked" || bad "encoded echo" "$(cat "$T/out" "$T/err")"

# key shapes: a ShortPixel key that is not 20 letters and digits warns once
# per key per run, masked, and is used anyway; metacharacters are refused
cat >"$T/shape.lua" <<'LUA'
for i = 1, 3 do assert(shortpixel.set_domain("example.com")) end
assert(shortpixel.set_domain("example.com", {key = "other-shape-key-0042"}))
assert(shortpixel.set_domain("example.com", {key = "abcdefghij0123456789"}))
assert(easyio.show_keys())
LUA
"$BIN" "$T/shape.lua" >"$T/out" 2>"$T/err"
st=$?
[ $st = 0 ] && ok "keys of an odd shape are used, not refused" || bad "odd shapes used" "exit $st: $(cat "$T/err")"
[ "$(grep -c 'warning: the ShortPixel key \*\*\*\*3a9c (from SHORTPIXEL_API_KEY) does not look like one: ShortPixel keys are 20 letters and digits' "$T/err")" = 1 ] \
  && ok "an odd-shaped ShortPixel key warns once per run, masked" || bad "shape warning once" "$(cat "$T/err")"
[ "$(grep -c 'warning: the ShortPixel key \*\*\*\*0042 (from opts.key)' "$T/err")" = 1 ] \
  && ok "each odd-shaped key warns once" || bad "second key warns" "$(cat "$T/err")"
[ "$(grep -c 'warning:' "$T/err")" = 2 ] && ok "no warning for a 20-character ShortPixel key nor for Easy IO keys" || bad "warnings" "$(cat "$T/err")"
check_clean "the shape warning names no key" "$T/out" "$T/err"
for k in 'abcdefghij:123456789' 'abcdefghij@123456789' 'abcdefghij(12345678)' 'abcdefghij,12345;789'; do
  printf "local r, e = shortpixel.set_domain('example.com', {key = '%s'})\nio.stderr:write(tostring(e), '\\\\n')\nos.exit(r and 0 or 1)\n" "$k" >"$T/meta.lua"
  "$BIN" "$T/meta.lua" >"$T/out" 2>"$T/err"
  [ $? = 1 ] && grep -q "invalid" "$T/err" && ! grep -qF -e "$k" -e "${k:0:11}" "$T/err" \
    && ok "a key with URL metacharacters ($k) is refused, named masked" || bad "metacharacter key $k" "$(cat "$T/err")"
done

# core dumps are off while a key is in memory
"$BIN" -e 'print(io.open("/proc/self/limits"):read("a"))' >"$T/out" 2>"$T/err"
grep -Eq '^Max core file size +0 +0 ' "$T/out" && ok "core dumps are off (soft and hard limit 0)" || bad "core dumps off" "$(grep -i core "$T/out")"

# plain http to a non-loopback host: refused unless --allow-http. libcurl is
# pointed at a local proxy (the 127.0.0.2 listener), so that even a request
# that should not go anywhere is caught on loopback and nothing leaves.
: >"$T/log/target.log"
PROXY="http_proxy=http://127.0.0.2:$TPORT HTTP_PROXY=http://127.0.0.2:$TPORT"
env $PROXY CDNCTL_SHORTPIXEL_URL=http://example.invalid "$BIN" -e 'local r, e = shortpixel.set_domain("example.com"); print(e and e.kind, e and e.message)' >"$T/out" 2>"$T/err"
grep -q '^invalid	refusing to send an API key over plain http to example.invalid' "$T/out" && ok "http://example.invalid is refused without --allow-http" || bad "http refused" "$(cat "$T/out" "$T/err")"
[ ! -s "$T/log/target.log" ] && ok "nothing was sent (the proxy saw no connection)" || bad "nothing sent" "$(head -3 "$T/log/target.log")"
check_clean "the refusal names no key" "$T/out" "$T/err"
env $PROXY CDNCTL_EASYIO_URL=http://example.invalid "$BIN" -e 'local r, e = easyio.show_sites(); print(e and e.kind)' >"$T/out" 2>&1
grep -q '^invalid' "$T/out" && [ ! -s "$T/log/target.log" ] && ok "a POST with api_key in its body is refused the same way" || bad "POST refused" "$(cat "$T/out")"
env $PROXY CDNCTL_SHORTPIXEL_URL=http://example.invalid "$BIN" --allow-http -e 'local r, e = shortpixel.set_domain("example.com"); print(r and "sent" or tostring(e))' >"$T/out" 2>"$T/err"
grep -q 'warning: --allow-http' "$T/err" && ok "--allow-http warns" || bad "--allow-http warns" "$(cat "$T/err")"
grep -q 'GET http://example.invalid/set-domain/example.com/' "$T/log/target.log" && ok "with --allow-http the request is sent (to the local proxy here)" || bad "allow-http sends" "$(cat "$T/out" "$T/log/target.log")"
check_clean "--allow-http: no key in the output" "$T/out" "$T/err"
# look-alikes of loopback: a name starting with 127. and userinfo before the host
for u in http://127.0.0.1.example.invalid http://127.0.0.1@example.invalid; do
  : >"$T/log/target.log"
  env $PROXY CDNCTL_SHORTPIXEL_URL=$u "$BIN" -e 'local r, e = shortpixel.set_domain("example.com"); print(e and e.kind or "sent")' >"$T/out" 2>&1
  grep -q '^invalid' "$T/out" && [ ! -s "$T/log/target.log" ] && ok "$u is not taken for loopback" \
    || bad "$u taken for loopback: sent $(grep -c . "$T/log/target.log") line(s) to the proxy" "$(cat "$T/out")"
done
: >"$T/log/target.log"

# the prompt: screen and history
if command -v tmux >/dev/null; then
  S=cdnctl-keyaudit-$$
  export TMUX_TMPDIR=$T
  trap 'tmux kill-server 2>/dev/null; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
  screen() { tmux capture-pane -t $S -p -S -200; }
  wait_for() { local i; for i in $(seq $(( ${2:-5} * 20 ))); do screen | grep -qE -- "$1" && return 0; sleep 0.05; done; return 1; }
  type_line() { tmux send-keys -t $S -l -- "$1"; tmux send-keys -t $S Enter; }
  tmux new-session -d -s $S -x 200 -y 50 \
    "env HOME=$T XDG_STATE_HOME=$T/state SHORTPIXEL_API_KEY=$KEY EASYIO_API_KEY=$EZKEY CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_EASYIO_URL=$URL $BIN; echo EXITED-\$?; sleep 30"
  wait_for '^> ?$' && ok "the prompt starts" || bad "the prompt starts"
  type_line 'error("bad " .. os.getenv("SHORTPIXEL_API_KEY"))'
  wait_for 'bad \*\*\*\*3a9c' && ok "the prompt shows an error with the key masked" || bad "prompt error" "$(screen | tail -5)"
  type_line 'shortpixel.set_domain("example.com")'
  wait_for 'Status' && ok "the prompt shows a binding's result" || bad "prompt result" "$(screen | tail -5)"
  type_line "x = easyio.show_keys({key = \"$EZKEY\"})"
  type_line "local k = '$KEY'"
  type_line 'CDNCTL_DONE = 1 print("typed-" .. "all")'
  wait_for '^typed-all$' # every line typed has run: now end the prompt
  tmux send-keys -t $S C-d
  wait_for 'EXITED-0' && ok "the prompt exits" || bad "the prompt exits" "$(screen | tail -5)"
  # the typed lines echo (a line typed before its prompt appears has no "> ")
  screen | grep -v -e '^>' -e "local k = '" -e 'show_keys({key = ' >"$T/screen"
  check_clean "the prompt's output (not the typed lines) shows no key" "$T/screen"
  H=$T/state/cdnctl/history
  grep -q 'CDNCTL_DONE' "$H" 2>/dev/null && ok "the history holds the session" || bad "history saved" "$(cat "$H" 2>&1)"
  check_clean "the history file holds no key, typed or from the environment" "$H"
else
  echo "# tmux not found: the prompt's part is skipped"
fi

finish
