# tests/lib/harness.sh: what the shell tests share. Source it first:
#   . "$CDNCTL_SOURCE_DIR/tests/lib/harness.sh"
# gives BIN, SRC, a temporary folder T removed on exit (with every process
# registered by `cleanup_pid`), ok/bad counters, `finish` (the closing line
# "N passed, N failed" and the exit status), start_sandbox, use and start_fixture.
set -uo pipefail
BIN=${CDNCTL_BIN:?CDNCTL_BIN must name the binary}
SRC=${CDNCTL_SOURCE_DIR:?CDNCTL_SOURCE_DIR must name the source tree}
T=$(mktemp -d)
_pids=()
cleanup_pid() { _pids+=("$1"); }
trap 'for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass+1)); echo "ok - $1"; }
bad() { fail=$((fail+1)); echo "not ok - $1"; if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/#   /'; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }
LUAP="package.path='$SRC/tests/lib/?.lua;'..package.path"

# wait_file FILE: until FILE is not empty (a watchdog of 30 s)
wait_file() { local i; for i in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

# start_sandbox NAME [OPTIONS...]: `cdnctl sandbox OPTIONS` in the background
# (stopped on exit); sets SURL, and NAME_PID for kill tests
start_sandbox() {
  local name=$1; shift
  rm -f "$T/$name.url" # a second start under the same name must not read the first one's URL
  "$BIN" sandbox "$@" >"$T/$name.url" 2>"$T/$name.err" &
  cleanup_pid $!
  eval "${name}_PID=$!"
  wait_file "$T/$name.url" || { echo "sandbox did not start: $(cat "$T/$name.err")"; exit 1; }
  SURL=$(head -1 "$T/$name.url")
}

# use URL: point the three base URLs at URL (a sandbox)
use() { export CDNCTL_SHORTPIXEL_URL=$1 CDNCTL_SHORTPIXEL_API_URL=$1 CDNCTL_EASYIO_URL=$1; }

# start_fixture: the fixture server as a process; sets URL
start_fixture() {
  rm -f "$T/fixture.url" # the file of a fixture started earlier in the same test is not this one's
  "$BIN" -e "$LUAP" "$SRC/tests/lib/fixture_server.lua" >"$T/fixture.url" 2>"$T/fixture.err" &
  cleanup_pid $!
  wait_file "$T/fixture.url" || { echo "the fixture server did not start: $(cat "$T/fixture.err")"; exit 1; }
  URL=$(head -1 "$T/fixture.url")
}

# write_profiles URL DEFAULT NAME=SHORTPIXEL_KEY:EASYIO_KEY...: the config
# file $T/config/cdnctl/config.lua (mode 0600) with these profiles, every
# base URL at URL, DEFAULT its default_profile ("" for none).
write_profiles() {
  local u=$1 def=$2 a; shift 2
  mkdir -p "$T/config/cdnctl"
  { printf 'local u = "%s"\n' "$u"
    echo 'local function p(sp, ez) return { shortpixel_key = sp, easyio_key = ez, shortpixel_url = u, shortpixel_api_url = u, easyio_url = u } end'
    echo 'return { profiles = {'
    for a in "$@"; do local k=${a#*=}; printf '  %s = p("%s", "%s"),\n' "${a%%=*}" "${k%%:*}" "${k#*:}"; done
    printf '}, default_profile = %s }\n' "$([ -n "$def" ] && printf '"%s"' "$def" || echo nil)"
  } >"$T/config/cdnctl/config.lua"
  chmod 600 "$T/config/cdnctl/config.lua"
}

# go ARGS...: cdnctl with the config of write_profiles as its only source
# (no key, URL or profile from the environment), standard input closed.
go() {
  env -u CDNCTL_PROFILE -u SHORTPIXEL_API_KEY -u EASYIO_API_KEY -u CDNCTL_SHORTPIXEL_URL -u CDNCTL_SHORTPIXEL_API_URL \
    -u CDNCTL_EASYIO_URL -u CDNCTL_HAR HOME=$T XDG_CONFIG_HOME=$T/config "$BIN" "$@" </dev/null
}
