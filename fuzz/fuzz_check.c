/*
 * fuzz_check.c: domain and key validation and URL building.
 *
 * The input goes to cdnctl.check's domain, hosts, key, site_id and site_url
 * (documented to return nil, message for bad input: a raise is a finding)
 * and to cdnctl.percent.escape, the one way cdnctl puts a value in a URL.
 * Invariants: what domain() accepts holds no '/', '?', '#', '%', '@', '\',
 * space, ':' or control character and escapes to itself; what key()
 * accepts is the input unchanged and free of URL metacharacters; what
 * site_url() accepts is an http(s) URL ending in '/'; every refusal names
 * its argument; escape() gives only unreserved characters and %XX, and
 * unescape() gives the input back.
 */
#include "fuzz_common.h"

static const char check_code[] =
  "local check, percent = require 'cdnctl.check', require 'cdnctl.percent'\n"
  "local function refused(v, err, argname)\n"
  "  if v ~= nil then return nil end\n"
  "  if type(err) ~= 'string' or err:sub(1, #argname + 2) ~= argname .. ': ' then\n"
  "    return argname .. ': refusal without a message naming the argument: ' .. tostring(err)\n"
  "  end\n"
  "end\n"
  "return function(s)\n"
  "  -- domain\n"
  "  local d, err = check.domain(s)\n"
  "  if d == nil then local bad = refused(d, err, 'domain') if bad then return bad end\n"
  "  else\n"
  "    if type(d) ~= 'string' then return 'domain: accepted as a ' .. type(d) end\n"
  "    if d == '' or #d > 253 then return 'domain: accepted a name of length ' .. #d end\n"
  "    local c = d:match('[/?#%%@\\\\%s%c:]')\n"
  "    if c then return string.format('domain: accepted %q, which holds %q', d, c) end\n"
  "    if percent.escape(d) ~= d then return string.format('domain: accepted %q, which escape() changes', d) end\n"
  "    if d ~= d:lower() then return string.format('domain: accepted %q, not lowercased', d) end\n"
  "    if check.domain(d) ~= d then return string.format('domain: %q is not a fixed point', d) end\n"
  "    local h = check.hosts(s)\n"
  "    if type(h) ~= 'table' or #h ~= 2 or h[2] ~= 'www.' .. h[1] then return 'hosts: not {apex, www.apex} for ' .. d end\n"
  "  end\n"
  "  local d2, err2 = check.domain(s, 'opts.host')\n"
  "  if d2 ~= d then return 'domain: the argument name changed the verdict' end\n"
  "  if d2 == nil then local bad = refused(d2, err2, 'opts.host') if bad then return bad end end\n"
  "  -- key\n"
  "  local k, kerr = check.key(s)\n"
  "  if k == nil then local bad = refused(k, kerr, 'key') if bad then return bad end\n"
  "  elseif k ~= s then return 'key: accepted but changed'\n"
  "  elseif k:find('[/?#&%s%c%%=+\\\\\"\\'<>\\128-\\255]') then return string.format('key: accepted %q', k) end\n"
  "  -- site_id from a string\n"
  "  local id, iderr = check.site_id(s)\n"
  "  if id == nil then local bad = refused(id, iderr, 'site_id') if bad then return bad end\n"
  "  elseif math.type(id) ~= 'integer' or id < 1 then return 'site_id: accepted ' .. tostring(id) end\n"
  "  -- site_url\n"
  "  local u, uerr = check.site_url(s)\n"
  "  if u == nil then local bad = refused(u, uerr, 'site_url') if bad then return bad end\n"
  "  else\n"
  "    if not (u:match('^https?://') and u:sub(-1) == '/') then return string.format('site_url: accepted %q', u) end\n"
  "    if u:find('[%s%c?#\"<>\\\\^`{|}]') then return string.format('site_url: accepted %q with a character a URL cannot hold', u) end\n"
  "    if check.site_url(u) ~= u then return string.format('site_url: %q is not a fixed point', u) end\n"
  "  end\n"
  "  -- escape / unescape\n"
  "  local e = percent.escape(s)\n"
  "  if e:gsub('%%%x%x', ''):find('[^A-Za-z0-9._~-]') then return 'escape: output has a reserved character: ' .. e end\n"
  "  if e:find('%%%x?[a-f]') then return 'escape: lowercase hex digit' end\n"
  "  local back, uerr2 = percent.unescape(e)\n"
  "  if back ~= s then return 'unescape(escape(s)) ~= s: ' .. tostring(uerr2) end\n"
  "  local back2 = percent.unescape(e, true)\n"
  "  if back2 ~= s then return 'unescape(escape(s), true) ~= s' end\n"
  "end\n";

static lua_State *L;
static int check_ref;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = fuzz_newstate();
  check_ref = fuzz_load(L, "=fuzz_check", check_code);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_call(L, check_ref, "fuzz_check", data, size);
  return 0;
}
