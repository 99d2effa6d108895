/*
 * fuzz_form.c: form bodies and percent-decoding, and the sandbox's router.
 *
 * cdnctl.percent.unescape (lua/cdnctl/percent.lua) runs on the raw input,
 * with and without plus_is_space, against a plain reference decoder in C:
 * the same bytes, or the same position of the first bad escape; then
 * cdnctl.percent.parse_form must give a table of strings, or nil and a
 * message whose position points at a '%', and a form rebuilt from the
 * table with escape() must parse back to the same table.
 *
 * The sandbox's router (lua/cdnctl/sandbox/init.lua), in a state of its
 * own as server.c gives it: require("cdnctl.sandbox").new("{}") makes the
 * handler; the first input byte picks GET or POST, the rest up to the
 * first newline is the URI and what follows the body. The handler must
 * return a table with an integer status, and never its "sandbox internal
 * error" (a Lua error inside a rule). Without the module the router part
 * is skipped with a message.
 */
#include <ctype.h>
#include "fuzz_common.h"

static const char form_code[] =
  "local percent = require 'cdnctl.percent'\n"
  "return function(s)\n"
  "  local t, err = percent.parse_form(s)\n"
  "  if t == nil then\n"
  "    local pos = type(err) == 'string' and tonumber(err:match('^malformed percent%-encoding at character (%d+)$'))\n"
  "    if not pos then return 'parse_form: unexpected message ' .. tostring(err) end\n"
  "    if s:sub(pos, pos) ~= '%' then return 'parse_form: position ' .. pos .. ' is not a %' end\n"
  "    if s:sub(pos + 1, pos + 2):match('^%x%x$') then return 'parse_form: the escape at ' .. pos .. ' is well-formed' end\n"
  "    return\n"
  "  end\n"
  "  if type(t) ~= 'table' then return 'parse_form returned a ' .. type(t) end\n"
  "  local parts = {}\n"
  "  for k, v in pairs(t) do\n"
  "    if type(k) ~= 'string' or type(v) ~= 'string' then return 'parse_form: a non-string pair' end\n"
  "    parts[#parts + 1] = percent.escape(k) .. '=' .. percent.escape(v)\n"
  "  end\n"
  "  local t2, err2 = percent.parse_form(table.concat(parts, '&'))\n"
  "  if not t2 then return 'parse_form of a rebuilt form failed: ' .. tostring(err2) end\n"
  "  for k, v in pairs(t) do if t2[k] ~= v then return string.format('rebuilt form: %q is %q, not %q', k, tostring(t2[k]), v) end end\n"
  "  for k in pairs(t2) do if t[k] == nil then return string.format('rebuilt form: extra name %q', k) end end\n"
  "end\n";

static const char router_code[] =
  "local handler\n"
  "local calls = 0\n"
  "return function(s)\n"
  "  if not handler or calls >= 256 then -- a fresh sandbox now and then: its state only grows\n"
  "    handler = assert(require('cdnctl.sandbox').new('{\"log\":\"/dev/null\",\"faults\":[{\"kind\":\"lost\",\"p\":0.1}]}'))\n"
  "    calls = 0\n"
  "  end\n"
  "  calls = calls + 1\n"
  "  local method = (s:byte(1) or 0) % 2 == 0 and 'GET' or 'POST'\n"
  "  local uri, body = s:sub(2):match('^([^\\n]*)\\n?(.*)$')\n"
  "  local resp = handler{ method = method, uri = uri, body = body, headers = { ['user-agent'] = 'fuzz' } }\n"
  "  if type(resp) ~= 'table' then return 'router returned a ' .. type(resp) end\n"
  "  if math.type(resp.status) ~= 'integer' then return 'router status is ' .. tostring(resp.status) end\n"
  "  if resp.status < 100 or resp.status > 599 then return 'router status ' .. resp.status end\n"
  "  if resp.body ~= nil and type(resp.body) ~= 'string' then return 'router body is a ' .. type(resp.body) end\n"
  "  if resp.status == 500 and tostring(resp.body):find('sandbox internal error', 1, true) then\n"
  "    return 'router: sandbox internal error (a Lua error in a rule; its message is on stderr above)'\n"
  "  end\n"
  "end\n";

/* percent.unescape(s, plus) -> the decoded string | the bad position */
static const char unescape_code[] =
  "local percent = require 'cdnctl.percent'\n"
  "return function(s, plus)\n"
  "  local out, err = percent.unescape(s, plus)\n"
  "  if out then return out end\n"
  "  return math.tointeger(tonumber(tostring(err):match('^malformed percent%-encoding at character (%d+)$') or '-1'))\n"
  "end\n";

static lua_State *L, *SL;   /* percent's state; the sandbox's own state, or NULL */
static int form_ref, router_ref, unescape_ref;

/* The reference decoder: what RFC 3986 says, written plainly. */
static int ref_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t *outlen, int plus) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '%') {
      if (i + 2 >= len) return (int)i + 1;
      if (!isxdigit(in[i + 1]) || !isxdigit(in[i + 2])) return (int)i + 1;
      char hex[3] = {(char)in[i + 1], (char)in[i + 2], 0};
      out[o++] = (uint8_t)strtol(hex, NULL, 16);
      i += 2;
    } else {
      out[o++] = plus && in[i] == '+' ? ' ' : in[i];
    }
  }
  *outlen = o;
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = fuzz_newstate();
  form_ref = fuzz_load(L, "=fuzz_form", form_code);
  unescape_ref = fuzz_load(L, "=fuzz_unescape", unescape_code);
  SL = fuzz_newstate();
  lua_getglobal(SL, "require");
  lua_pushliteral(SL, "cdnctl.sandbox");
  if (host_docall(SL, 1, 1) != LUA_OK) {
    fprintf(stderr, "fuzz_form: SKIPPING the sandbox router: require('cdnctl.sandbox') failed: %s\n",
            lua_tostring(SL, -1));
    lua_close(SL);
    SL = NULL;
    return 0;
  }
  lua_pop(SL, 1);
  router_ref = fuzz_load(SL, "=fuzz_router", router_code);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int plus = 0; plus <= 1; plus++) {
    uint8_t *ref = malloc(size ? size : 1);
    size_t reflen = (size_t)-1;
    int refbad = ref_unescape(data, size, ref, &reflen, plus);
    lua_rawgeti(L, LUA_REGISTRYINDEX, unescape_ref);
    lua_pushlstring(L, (const char *)data, size);
    lua_pushboolean(L, plus);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      fprintf(stderr, "\n== fuzz_form: percent.unescape(plus=%d) raised %s\n", plus, lua_tostring(L, -1));
      fuzz_print_input(data, size);
      abort();
    }
    size_t outlen = 0;
    const char *out = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &outlen) : NULL;
    int bad = out ? 0 : (int)lua_tointeger(L, -1);
    if (bad != refbad || (!bad && (outlen != reflen || memcmp(out, ref, outlen) != 0))) {
      fprintf(stderr, "\n== fuzz_form: percent.unescape(plus=%d) gave %d (length %zu), the reference %d (length %zu)\n",
              plus, bad, bad ? 0 : outlen, refbad, refbad ? 0 : reflen);
      fuzz_print_input(data, size);
      abort();
    }
    lua_pop(L, 1);
    free(ref);
  }
  fuzz_call(L, form_ref, "fuzz_form", data, size);
  if (SL) fuzz_call(SL, router_ref, "fuzz_form (sandbox router)", data, size);
  return 0;
}
