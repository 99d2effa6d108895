/*
 * tests/c/json.c: exact numbers in JSON (src/json.c).
 *
 * Debian's lua-cjson decodes every number as a float and encodes 14 digits;
 * json.c fixes both at the boundary. Whole numbers decode as Lua integers,
 * exact to 2^63-1 and -2^63, and encode back digit for digit; floats stay
 * floats and encode in the shortest form that reads back exactly. Invalid
 * UTF-8 and invalid JSON are errors with their positions.
 */
#include <math.h>
#include <stdint.h>
#include <lualib.h>
#include "tcheck.h"

/* decode(text) -> ok, value | message: json_decode_exact under lua_pcall. */
static int t_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int ok = json_decode_exact(L, s, n);     /* text value|msg */
  lua_pushboolean(L, ok);
  lua_insert(L, -2);                       /* text ok value|msg */
  return 2;
}

/* Decode s[0..len) with json_decode_exact; pushes ok and the value or the
 * message. Returns ok, or -1 if it raised (message pushed). */
static int decode(lua_State *L, const char *s, size_t len) {
  lua_pushcfunction(L, t_decode);
  lua_pushlstring(L, s, len);
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) return -1;
  return lua_toboolean(L, -2);
}

enum kind { INT, FLT, ERR };
struct num_case {
  const char *text;
  enum kind kind;
  long long i;           /* INT */
  double f;              /* FLT */
  const char *str;       /* ERR: the message; INT/FLT: what encode gives back */
};

static const struct num_case num_cases[] = {
  {"0", INT, 0, 0, "0"},
  {"-0", INT, 0, 0, "0"},
  {"42", INT, 42, 0, "42"},
  {"9007199254740992", INT, 9007199254740992LL, 0, "9007199254740992"},
  {"9007199254740993", INT, 9007199254740993LL, 0, "9007199254740993"},
  {"-9007199254740993", INT, -9007199254740993LL, 0, "-9007199254740993"},
  {"9223372036854775807", INT, INT64_MAX, 0, "9223372036854775807"},
  {"-9223372036854775808", INT, INT64_MIN, 0, "-9223372036854775808"},
  {"9223372036854775808", FLT, 0, 9223372036854775808.0, "9.223372036854776e+18"},
  {"1.5", FLT, 0, 1.5, "1.5"},
  {"0.1", FLT, 0, 0.1, "0.1"},
  {"1e300", FLT, 0, 1e300, "1e+300"},
  {"-2.5e-3", FLT, 0, -2.5e-3, "-0.0025"},
  {"1E2", FLT, 0, 100.0, "100.0"},
  {"100.0", FLT, 0, 100.0, "100.0"},
  {"-0.0", FLT, 0, -0.0, "-0.0"},
  {"0.30000000000000004", FLT, 0, 0.30000000000000004, "0.30000000000000004"},
  {"[1,]", ERR, 0, 0, "Expected value but found T_ARR_END at character 4"},
  {"", ERR, 0, 0, "Expected value but found T_END at character 1"},
  {"[1 2]", ERR, 0, 0, "Expected comma or array end but found T_NUMBER at character 4"},
  {"01", ERR, 0, 0, "Expected value but found invalid number at character 1"},
  {"-", ERR, 0, 0, "invalid number at character 1"},
  {"[1.]", ERR, 0, 0, "invalid number at character 2"},
  {"-.5", ERR, 0, 0, "invalid number at character 1"},
  {"+1", ERR, 0, 0, "Expected value but found invalid token at character 1"},
  {"{\"a\":}", ERR, 0, 0, "Expected value but found T_OBJ_END at character 6"},
  {"[\"\\uD800\"]", ERR, 0, 0, "Expected value but found invalid unicode escape code at character 3"},
  {"\"\xC3\"", ERR, 0, 0, "invalid UTF-8 in a string at character 2"},
  {"[\"ok\",\"\xFF\"]", ERR, 0, 0, "invalid UTF-8 in a string at character 8"},
  {"\"\xC0\xAF\"", ERR, 0, 0, "invalid UTF-8 in a string at character 2"},
  {"\"\xED\xA0\x80\"", ERR, 0, 0, "invalid UTF-8 in a string at character 2"},
  {"\"\xF4\x90\x80\x80\"", ERR, 0, 0, "invalid UTF-8 in a string at character 2"},
  {"{\"k\":\"a\xE2\x82\"}", ERR, 0, 0, "invalid UTF-8 in a string at character 8"},
};

static void test_numbers(lua_State *L) {
  for (size_t i = 0; i < sizeof num_cases / sizeof num_cases[0]; i++) {
    const struct num_case *c = &num_cases[i];
    char what[200], text[80];
    t_esc(text, sizeof text, c->text);
    int top = lua_gettop(L);
    int ok = decode(L, c->text, strlen(c->text));
    if (c->kind == ERR) {
      snprintf(what, sizeof what, "decode('%s') fails with its message", text);
      T_STR(ok == 0 ? lua_tostring(L, -1) : NULL, c->str, what);
      lua_settop(L, top);
      continue;
    }
    snprintf(what, sizeof what, "decode('%s') is a%s %s", text, c->kind == INT ? "n" : "",
             c->kind == INT ? "integer" : "float");
    if (ok != 1) {
      t_report(0, __FILE__, __LINE__, what, "failed: %s", lua_tostring(L, -1));
      lua_settop(L, top);
      continue;
    }
    if (c->kind == INT) {
      int isint = lua_isinteger(L, -1);
      long long v = (long long)lua_tointeger(L, -1);
      t_report(isint && v == c->i, __FILE__, __LINE__, what, "expected integer %lld, got %s %s",
               c->i, isint ? "integer" : "float", luaL_tolstring(L, -1, NULL));
    } else {
      double v = lua_tonumber(L, -1);
      int same = !lua_isinteger(L, -1) && lua_type(L, -1) == LUA_TNUMBER && v == c->f &&
                 signbit(v) == signbit(c->f);
      t_report(same, __FILE__, __LINE__, what, "expected float %.17g, got %s", c->f, luaL_tolstring(L, -1, NULL));
    }
    lua_settop(L, top);
    /* and back: encode(decode(text)) */
    lua_pushlstring(L, c->text, strlen(c->text));
    int n = t_lua(L, "local j = require 'cdnctl.json' return j.encode((j.decode(...)))", 1);
    snprintf(what, sizeof what, "encode(decode('%s')) is '%s'", text, c->str);
    T_STR(n == 1 ? lua_tostring(L, -1) : NULL, c->str, what);
    lua_settop(L, top);
  }
}

/* Containers: numbers inside arrays and objects are fixed too, and the
 * text encodes back byte for byte. */
static const char *const round_trips[] = {
  "[9007199254740993,9223372036854775807,-9223372036854775808,1.5,0.1,1e+300]",
  "{\"bytes\":9007199254740993}",
  "{\"a\":[1,2,{\"b\":[0.1,-0.0,12345678901234567]}]}",
  "[[[[[[[[[[9007199254740993]]]]]]]]]]",
  "[\"caf\\u00e9 9007199254740993\",\"\xE2\x82\xAC\",true,false,null]",
  "[]",
  "{\"sites\":[]}",
  "[[],{},[[]],{\"a\":[],\"b\":{}}]",
  "[\"[]\",\"{}\"]",
};

static void test_round_trips(lua_State *L) {
  for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
    int top = lua_gettop(L);
    lua_pushstring(L, round_trips[i]);
    int n = t_lua(L, "local j = require 'cdnctl.json' return j.encode(assert(j.decode(...)))", 1);
    char what[200], text[160];
    snprintf(what, sizeof what, "encode(decode(%s)) is the same text", t_esc(text, sizeof text, round_trips[i]));
    const char *want = round_trips[i];
    if (i == 4) want = "[\"caf\xC3\xA9 9007199254740993\",\"\xE2\x82\xAC\",true,false,null]"; /* cjson writes UTF-8, not \u */
    T_STR(n == 1 ? lua_tostring(L, -1) : lua_tostring(L, -1), want, what);
    lua_settop(L, top);
  }
}

struct lua_case {
  const char *what;
  const char *code;   /* returns a string */
  const char *want;
};

static const struct lua_case lua_cases[] = {
  {"encode(2^53 + 1) as an integer", "return require('cdnctl.json').encode(9007199254740993)", "9007199254740993"},
  {"encode(math.maxinteger)", "return require('cdnctl.json').encode(math.maxinteger)", "9223372036854775807"},
  {"encode(math.mininteger)", "return require('cdnctl.json').encode(math.mininteger)", "-9223372036854775808"},
  {"encode(2^53) as a float keeps a '.0'", "return require('cdnctl.json').encode(2^53)", "9007199254740992.0"},
  {"encode(1/3) reads back exactly", "return require('cdnctl.json').encode(1/3)", "0.3333333333333333"},
  {"encode(0.1)", "return require('cdnctl.json').encode(0.1)", "0.1"},
  {"encode(1e300)", "return require('cdnctl.json').encode(1e300)", "1e+300"},
  {"encode(empty_array) is []", "local j = require('cdnctl.json') return j.encode({a = j.empty_array})", "{\"a\":[]}"},
  {"an empty array decoded with spaces in it encodes as []",
   "local j = require('cdnctl.json') return j.encode(j.decode(' { \"sites\" : [ \\n\\t ] } '))", "{\"sites\":[]}"},
  {"encode_php keeps a decoded empty array an array",
   "local j = require('cdnctl.json') local s = j.encode_php(j.decode('{\"sites\":[],\"n\":{}}')) "
   "return tostring(s:find('\"sites\":[]', 1, true) ~= nil) .. ' ' .. tostring(s:find('\"n\":{}', 1, true) ~= nil) .. ' ' .. #s",
   "true true 19"},
  {"a decoded empty array is an empty table that ipairs, # and table.insert take",
   "local j = require('cdnctl.json') local v = j.decode('{\"sites\":[]}') local n = 0 "
   "for _ in ipairs(v.sites) do n = n + 1 end table.insert(v.sites, 7) "
   "return type(v.sites) .. ' ' .. n .. ' ' .. #v.sites .. ' ' .. j.encode(v)", "table 0 1 {\"sites\":[7]}"},
  {"a decoded empty array given a member becomes an object",
   "local j = require('cdnctl.json') local v = j.decode('[]') v.x = 1 return j.encode(v) .. ' ' .. j.encode_php(v)",
   "{\"x\":1} {\"x\":1}"},
  {"decode keeps integer and float apart",
   "local v = require('cdnctl.json').decode('[9007199254740993,1.0,1]') "
   "return math.type(v[1]) .. ' ' .. math.type(v[2]) .. ' ' .. math.type(v[3]) .. ' ' .. tostring(v[1] == 9007199254740993)",
   "integer float integer true"},
  {"every float of a sample round-trips exactly",
   "local j = require('cdnctl.json') local bad = 0 "
   "for _, x in ipairs{0.1, 0.2, 0.3, 1/3, 2/3, 1e-300, 5e-324, 1.7976931348623157e308, 123456.789, -1e-7, 2^53, 2^63, 3.14159} do "
   "local y = j.decode(j.encode(x)) if y ~= x or math.type(y) ~= 'float' then bad = bad + 1 end end return bad .. ' bad'",
   "0 bad"},
  {"every integer of a sample round-trips exactly",
   "local j = require('cdnctl.json') local bad = 0 "
   "for _, x in ipairs{0, -1, (1 << 53) + 1, -(1 << 53) - 1, math.maxinteger, math.mininteger, math.maxinteger - 1, 1 << 62} do "
   "local y = j.decode(j.encode({x}))[1] if y ~= x or math.type(y) ~= 'integer' then bad = bad + 1 end end return bad .. ' bad'",
   "0 bad"},
  {"decode returns nil and the message",
   "local v, err = require('cdnctl.json').decode('{') return tostring(v) .. ' | ' .. err",
   "nil | Expected object key string but found T_END at character 2"},
  {"encode(NaN) raises", "local ok, e = pcall(require('cdnctl.json').encode, 0/0) return tostring(ok) .. ' ' .. e:match('json.encode: .*')",
   "false json.encode: cannot encode NaN or infinity"},
  {"encode(math.huge) raises", "local ok, e = pcall(require('cdnctl.json').encode, {math.huge}) return tostring(ok) .. ' ' .. e:match('json.encode: .*')",
   "false json.encode: cannot encode NaN or infinity"},
  {"encode of a string with 0xFF raises", "local ok, e = pcall(require('cdnctl.json').encode, 'a\\255') return tostring(ok) .. ' ' .. e:match('json.encode: .*')",
   "false json.encode: string is not valid UTF-8 (byte 0xFF)"},
  {"encode of a cycle raises", "local t = {} t[1] = t local ok, e = pcall(require('cdnctl.json').encode, t) return tostring(ok) .. ' ' .. e:match('json.encode: .*')",
   "false json.encode: tables nested deeper than 1000 (a cycle?)"},
};

static void test_lua(lua_State *L) {
  for (size_t i = 0; i < sizeof lua_cases / sizeof lua_cases[0]; i++) {
    const struct lua_case *c = &lua_cases[i];
    int n = t_lua(L, c->code, 0);
    T_STR(n >= 1 || n < 0 ? lua_tostring(L, -1) : NULL, c->want, c->what);
    lua_settop(L, 0);
  }
}

/* Regressions (found by fuzz_json): the number-marking pre-pass turned a
 * number used as an object key into a string key, so invalid JSON decoded;
 * encode did not check keys for the marker byte, so it wrote invalid JSON;
 * a number past the double range decoded to infinity. */
static void test_regressions(lua_State *L) {
  int ok = decode(L, "{1:2}", 5);
  T_OK(ok == 0 && strcmp(lua_tostring(L, -1), "Expected object key string but found T_NUMBER at character 2") == 0,
       "decode('{1:2}') fails: a number is not an object key");
  lua_settop(L, 0);
  ok = decode(L, "[1, 3e1031]", 11);
  T_OK(ok == 0 && strcmp(lua_tostring(L, -1), "number out of range at character 5") == 0,
       "decode('[1, 3e1031]') fails: no number is infinity");
  lua_settop(L, 0);
  int n = t_lua(L, "local ok, e = pcall(require('cdnctl.json').encode, {['\\255x'] = 1}) return tostring(ok) .. ' ' .. tostring(e):gsub('^.-json%.encode', 'json.encode')", 0);
  T_OK(n >= 1 && strcmp(lua_tostring(L, 1), "false json.encode: key is not valid UTF-8 (byte 0xFF)") == 0,
       "encode of a key with 0xFF raises instead of writing {x:1}");
  lua_settop(L, 0);
}

/* An allocator that puts a canary after every block and checks it when the
 * block is freed or moved: Debian's liblua is not instrumented, so a push
 * past the end of a Lua stack (a missing lua_checkstack) writes into the
 * canary where ASan cannot see it. */
#define CANARY 4096
static int canary_broken;
static void *canary_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr) {
    const unsigned char *c = (const unsigned char *)ptr + osize;
    for (int i = 0; i < CANARY; i++) if (c[i] != 0xA5) { canary_broken = 1; break; }
  }
  if (nsize == 0) { free(ptr); return NULL; }
  unsigned char *p = realloc(ptr, nsize + CANARY);
  if (p) memset(p + nsize, 0xA5, CANARY);
  return p;
}

/* Regression (found by fuzzing: ASan's allocator check failed inside
 * liblua's free): the walk that turns marked strings back into numbers
 * pushed two values per level of nesting without lua_checkstack, so deep
 * input wrote past the end of a fresh state's small stack. */
static void test_deep_nesting_stack(void) {
  lua_State *L = lua_newstate(canary_alloc, NULL);
  luaL_openlibs(L);
  luaL_requiref(L, "cdnctl.json", luaopen_cdnctl_json, 0);
  lua_settop(L, 0);
  char text[2 * 100 + 8];
  size_t n = 0;
  for (int i = 0; i < 100; i++) text[n++] = '[';
  text[n++] = '1';
  for (int i = 0; i < 100; i++) text[n++] = ']';
  int ok = decode(L, text, n);
  T_OK(ok == 1, "decode of 100 nested arrays succeeds");
  lua_settop(L, 0);
  lua_close(L);
  T_OK(!canary_broken, "decode of 100 nested arrays stays within the Lua stack (lua_checkstack per level)");
}

int main(void) {
  test_deep_nesting_stack();
  lua_State *L = t_newstate();
  if (t_lua(L, "require 'cdnctl.json'", 0) < 0) {   /* json_decode_exact needs the module loaded */
    printf("FAIL - require 'cdnctl.json': %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_settop(L, 0);
  test_numbers(L);
  test_round_trips(L);
  test_lua(L);
  test_regressions(L);
  lua_close(L);
  return t_done();
}
