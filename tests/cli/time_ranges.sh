#!/usr/bin/env bash
# Time is bounded: every time value is checked (finite, within its range) or
# is an argument error naming the option; nothing waits forever. Each run is
# bounded by a generous watchdog (timeout 60): a hang fails, it never blocks.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
start_fixture
export CDNCTL_SHORTPIXEL_URL=$URL CDNCTL_SHORTPIXEL_API_URL=$URL CDNCTL_EASYIO_URL=$URL
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ezDemoKey00000000001

# refused NAME PATTERN CODE: CODE raises an error matching PATTERN (grep -E)
refused() {
  timeout 60 "$BIN" -e "local ok, e = pcall(function() $3 end) print(ok, e)" >"$T/out" 2>"$T/err"
  local st=$?
  if [ $st = 0 ] && grep -qE "^false	.*$2" "$T/out"; then ok "$1"
  else bad "$1" "exit $st; out: $(head -c 400 "$T/out"); err: $(head -c 400 "$T/err")"; fi
}
# accepted NAME CODE: CODE runs without error (and ends)
accepted() {
  timeout 60 "$BIN" -e "$2" >"$T/out" 2>"$T/err"; local st=$?
  [ $st = 0 ] && ok "$1" || bad "$1" "exit $st; err: $(head -c 400 "$T/err")"
}

SLEEP="bad argument #1 to 'sleep' \(seconds must be a number in \[0, 86400\]"
refused "cdnctl.sleep(0/0) is an argument error (it used to hang)" "$SLEEP" 'cdnctl.sleep(0/0)'
refused "cdnctl.sleep(-1) is an argument error" "$SLEEP" 'cdnctl.sleep(-1)'
refused "cdnctl.sleep(1/0) is an argument error" "$SLEEP" 'cdnctl.sleep(1/0)'
refused "cdnctl.sleep(86401) is an argument error" "$SLEEP" 'cdnctl.sleep(86401)'
refused "cdnctl.sleep('1') is an argument error" "$SLEEP" 'cdnctl.sleep("1")'
refused "cdnctl.sleep(0/0) inside parallel is an argument error" "$SLEEP" \
  'local _, e = cdnctl.parallel({ 1 }, function() cdnctl.sleep(0/0) end) error(e[1])'
accepted "cdnctl.sleep(0) returns" 'cdnctl.sleep(0)'
accepted "cdnctl.sleep(0) inside parallel yields to the other workers" '
local order = {}
cdnctl.parallel({ 1, 2 }, function(x) if x == 1 then cdnctl.sleep(0) end order[#order + 1] = x end)
assert(order[1] == 2 and order[2] == 1, "order " .. table.concat(order, ","))'

for k in base cap retry_after_cap; do
  MSG="bad argument #1 to 'retry' \($k must be a number of seconds in \[0, 3600\]"
  refused "cdnctl.retry{$k = 0/0} is an argument error (it used to hang the first retry)" "$MSG" "cdnctl.retry{ $k = 0/0 }"
  refused "cdnctl.retry{$k = -1} is an argument error" "$MSG" "cdnctl.retry{ $k = -1 }"
  refused "cdnctl.retry{$k = 3601} is an argument error" "$MSG" "cdnctl.retry{ $k = 3601 }"
  accepted "cdnctl.retry{$k = 0} and {$k = 3600} are accepted" "cdnctl.retry{ $k = 0 } cdnctl.retry{ $k = 3600 }"
done
MSG="bad argument #1 to 'retry' \(timeout must be a number of seconds in \[0.001, 86400\]"
refused "cdnctl.retry{timeout = 0.0005} is an argument error" "$MSG" 'cdnctl.retry{ timeout = 0.0005 }'
refused "cdnctl.retry{timeout = 0/0} is an argument error" "$MSG" 'cdnctl.retry{ timeout = 0/0 }'
refused "cdnctl.retry{timeout = 86401} is an argument error" "$MSG" 'cdnctl.retry{ timeout = 86401 }'
accepted "cdnctl.retry{timeout = 0.001} and {timeout = 86400} are accepted" 'cdnctl.retry{ timeout = 0.001 } cdnctl.retry{ timeout = 86400 }'
refused "cdnctl.retry{attempts = 0} is an argument error" "attempts must be a positive integer" 'cdnctl.retry{ attempts = 0 }'

MSG="bad argument #2 to 'shortpixel.read_domain' \(option 'timeout' must be a number of seconds in \[0.001, 86400\]"
refused "a binding's timeout under a millisecond is an argument error (it meant no timeout)" "$MSG" \
  'shortpixel.read_domain("a.example.com", { timeout = 0.0005 })'
refused "a binding's timeout of 0/0 is an argument error" "$MSG" 'shortpixel.read_domain("a.example.com", { timeout = 0/0 })'
refused "a binding's timeout over a day is an argument error" "$MSG" 'shortpixel.read_domain("a.example.com", { timeout = 86401 })'
accepted "a binding's timeout of 0.001 s is accepted" 'shortpixel.read_domain("a.example.com", { timeout = 0.001 })'
refused "http.start's timeout under a millisecond is an argument error" "timeout must be a number of seconds in \[0.001, 86400\]" \
  'require("cdnctl.http").start{ url = "'"$URL"'/x", timeout = 0.0005 }'

MSG="bad argument #3 to 'parallel' \(rate must be a number of requests per second in \(0, 1000000\]"
refused "parallel's rate 0/0 is an argument error" "$MSG" 'cdnctl.parallel({}, print, { rate = 0/0 })'
refused "parallel's rate 0 is an argument error" "$MSG" 'cdnctl.parallel({}, print, { rate = 0 })'
refused "parallel's rate over 1e6 is an argument error" "$MSG" 'cdnctl.parallel({}, print, { rate = 1e6 + 1 })'
accepted "parallel's rate 1e6 is accepted" 'cdnctl.parallel({ 1 }, function() end, { rate = 1e6 })'

finish
