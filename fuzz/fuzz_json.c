/*
 * fuzz_json.c: the JSON decode path with its integer fix-up (src/json.c).
 *
 * json_decode_exact runs on the raw input (as the sandbox's server calls
 * it). When it fails, the message must be a string; when it succeeds, the
 * value must hold no marker byte (0xFF) anywhere, keys included, every
 * number must be what Lua's own reader makes of it, and
 * decode(encode(value)) must give an equal value: same types, integers
 * and floats kept apart.
 */
#include "fuzz_common.h"

static const char json_code[] =
  "local json = require 'cdnctl.json'\n"
  "local function walk(v, depth)\n"
  "  local t = type(v)\n"
  "  if t == 'string' then\n"
  "    if v:find('\\255', 1, true) then return string.format('decoded string %q holds the marker byte', v) end\n"
  "    if not utf8.len(v) then return string.format('decoded string %q is not UTF-8', v) end\n"
  "  elseif t == 'table' then\n"
  "    for k, x in pairs(v) do\n"
  "      if type(k) == 'string' then local bad = walk(k, depth) if bad then return 'key: ' .. bad end\n"
  "      elseif math.type(k) ~= 'integer' then return 'decoded key of type ' .. type(k) end\n"
  "      local bad = walk(x, depth + 1) if bad then return bad end\n"
  "    end\n"
  "  elseif t == 'number' then\n"
  "    if v ~= v then return 'decoded NaN' end\n"
  "  elseif t ~= 'boolean' and v ~= json.null then return 'decoded a ' .. t end\n"
  "end\n"
  "local function same(a, b)\n"
  "  if math.type(a) ~= math.type(b) then return false end\n"
  "  if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end\n"
  "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
  "  for k in pairs(b) do if a[k] == nil then return false end end\n"
  "  return true\n"
  "end\n"
  "return function(ok, v, text)\n"
  "  if not ok then\n"
  "    if type(v) ~= 'string' or v == '' then return 'decode failed without a message' end\n"
  "    return\n"
  "  end\n"
  "  local bad = walk(v, 0) if bad then return bad end\n"
  "  if type(v) == 'number' and not text:find('[%[{]') then\n"
  "    local tok = text:match('^[ \\t\\r\\n]*(%-?[0-9][0-9eE.+-]*)[ \\t\\r\\n]*$')\n"
  "    local n = tok and tonumber(tok)\n"
  "    if n and (math.type(n) ~= math.type(v) or n ~= v) then return 'number ' .. tok .. ' decoded as the ' .. math.type(v) .. ' ' .. tostring(v) end\n"
  "  end\n"
  "  local eok, enc = pcall(json.encode, v)\n"
  "  if not eok then return 'encode(decode(text)) raised: ' .. tostring(enc) end\n"
  "  local v2, err = json.decode(enc)\n"
  "  if v2 == nil and v ~= nil then return 'encode(decode(text)) does not decode: ' .. tostring(err) .. ' in ' .. enc end\n"
  "  if not same(v, v2) then return 'decode(encode(v)) differs from v; encode gave ' .. enc end\n"
  "end\n";

static lua_State *L;
static int check_ref;

/* (text) -> ok, value | message: json_decode_exact as C callers use it. */
static int fuzz_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int ok = json_decode_exact(L, s, n);
  lua_pushboolean(L, ok);
  lua_insert(L, -2);
  return 2;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = fuzz_newstate();
  check_ref = fuzz_load(L, "=fuzz_json", json_code);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int top = lua_gettop(L);
  lua_pushcfunction(L, host_msghandler);               /* h */
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);        /* h check */
  lua_pushcfunction(L, fuzz_decode);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {               /* h check ok value */
    fprintf(stderr, "\n== fuzz_json: json_decode_exact raised: %s\n", lua_tostring(L, -1));
    fuzz_print_input(data, size);
    abort();
  }
  lua_pushlstring(L, (const char *)data, size);        /* h check ok value text */
  if (lua_pcall(L, 3, 1, top + 1) != LUA_OK || lua_type(L, -1) == LUA_TSTRING) {
    fprintf(stderr, "\n== fuzz_json: %s\n", lua_tostring(L, -1));
    fuzz_print_input(data, size);
    abort();
  }
  lua_settop(L, top);
  return 0;
}
