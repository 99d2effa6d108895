/*
 * tests/c/codec.c: percent-encoding and form bodies (src/codec.c).
 *
 * codec_unescape is strict: a '%' not followed by two hex digits is an error
 * at its 1-based position, never a guess. cdnctl.codec.escape leaves only
 * RFC 3986's unreserved characters; parse_form reads x-www-form-urlencoded
 * bodies and reports malformed escapes at their position in the whole body.
 */
#include <stdlib.h>
#include "tcheck.h"

struct unescape_case {
  const char *in;
  size_t inlen;          /* 0: strlen(in) */
  int plus;
  const char *out;       /* NULL when malformed */
  size_t outlen;         /* 0: strlen(out) */
  int bad;               /* expected return: 0 or the position of the bad escape */
};

static const struct unescape_case unescape_cases[] = {
  {"", 0, 0, "", 0, 0},
  {"abc", 0, 0, "abc", 0, 0},
  {"a%20b", 0, 0, "a b", 0, 0},
  {"%41%62", 0, 0, "Ab", 0, 0},
  {"%e2%82%AC", 0, 0, "\xE2\x82\xAC", 0, 0},
  {"a+b", 0, 0, "a+b", 0, 0},
  {"a+b", 0, 1, "a b", 0, 0},
  {"%2B+", 0, 1, "+ ", 0, 0},
  {"%00x", 0, 0, "\0x", 2, 0},
  {"a\0b", 3, 0, "a\0b", 3, 0},
  {"%", 0, 0, NULL, 0, 1},
  {"a%", 0, 0, NULL, 0, 2},
  {"a%4", 0, 0, NULL, 0, 2},
  {"%4g", 0, 0, NULL, 0, 1},
  {"%g4", 0, 0, NULL, 0, 1},
  {"ab%zz", 0, 0, NULL, 0, 3},
  {"%41%", 0, 0, NULL, 0, 4},
  {"%41%4", 0, 0, NULL, 0, 4},
  {"%%41", 0, 0, NULL, 0, 1},
  {"100%", 0, 1, NULL, 0, 4},
  {"x+%2", 0, 1, NULL, 0, 3},
};

static void test_codec_unescape(void) {
  for (size_t i = 0; i < sizeof unescape_cases / sizeof unescape_cases[0]; i++) {
    const struct unescape_case *c = &unescape_cases[i];
    size_t inlen = c->inlen ? c->inlen : strlen(c->in);
    char *out = malloc(inlen + 1);   /* the documented room: len bytes (one more for malloc(0)) */
    size_t outlen = (size_t)-1;
    int bad = codec_unescape(c->in, inlen, out, &outlen, c->plus);
    char what[160];
    snprintf(what, sizeof what, "codec_unescape(\"%s\"%s) returns %d", c->in, c->plus ? ", plus" : "", c->bad);
    T_INT(bad, c->bad, what);
    if (c->out) {
      size_t wlen = c->outlen ? c->outlen : strlen(c->out);
      snprintf(what, sizeof what, "codec_unescape(\"%s\"%s) decodes exactly", c->in, c->plus ? ", plus" : "");
      T_LSTR(bad ? NULL : out, bad ? 0 : outlen, c->out, wlen, what);
    }
    free(out);
  }
}

/* Every byte value escapes and decodes back to itself. */
static void test_unescape_all_bytes(void) {
  char in[256 * 3], out[256 * 3];
  static const char hex[] = "0123456789abcdef";
  for (int b = 0; b < 256; b++) {
    in[b * 3] = '%';
    in[b * 3 + 1] = hex[b >> 4];
    in[b * 3 + 2] = hex[b & 15];
  }
  size_t outlen = 0;
  int bad = codec_unescape(in, sizeof in, out, &outlen, 1);
  int exact = bad == 0 && outlen == 256;
  for (int b = 0; exact && b < 256; b++) exact = (unsigned char)out[b] == b;
  T_OK(exact, "codec_unescape decodes %00..%ff to the 256 byte values");
}

struct lua_case {
  const char *what;
  const char *code;      /* a chunk returning a string, or nil and a message */
  const char *want;      /* the string, or NULL when nil is expected */
  const char *want_err;  /* the message when nil is expected */
};

#define FORM_DUMP \
  "local t, err = require('cdnctl.codec').parse_form(...) " \
  "if not t then return t, err end " \
  "local ks = {} for k, v in pairs(t) do assert(type(k) == 'string' and type(v) == 'string') ks[#ks + 1] = k end " \
  "table.sort(ks) for i, k in ipairs(ks) do ks[i] = string.format('[%s]=[%s]', k, t[k]) end " \
  "return table.concat(ks, ',')"

static const struct lua_case lua_cases[] = {
  {"escape('') is ''", "return require('cdnctl.codec').escape('')", "", NULL},
  {"escape keeps unreserved characters", "return require('cdnctl.codec').escape('azAZ09-._~')", "azAZ09-._~", NULL},
  {"escape of a space is %20, not +", "return require('cdnctl.codec').escape('a b')", "a%20b", NULL},
  {"escape of URL metacharacters", "return require('cdnctl.codec').escape('a/b?c#d@e:f')", "a%2Fb%3Fc%23d%40e%3Af", NULL},
  {"escape of form metacharacters", "return require('cdnctl.codec').escape('+&=%')", "%2B%26%3D%25", NULL},
  {"escape of NUL and 0xFF", "return require('cdnctl.codec').escape('\\0\\255')", "%00%FF", NULL},
  {"escape of UTF-8 is per byte, uppercase hex", "return require('cdnctl.codec').escape('\\u{20AC}')", "%E2%82%AC", NULL},
  {"escape of a number is its string", "return require('cdnctl.codec').escape(42)", "42", NULL},
  {"unescape keeps + by default", "return require('cdnctl.codec').unescape('a+b%21')", "a+b!", NULL},
  {"unescape with plus_is_space", "return require('cdnctl.codec').unescape('a+b%2B', true)", "a b+", NULL},
  {"unescape of a stray % at 1", "return require('cdnctl.codec').unescape('%zz')", NULL, "malformed percent-encoding at character 1"},
  {"unescape of a truncated escape at 4", "return require('cdnctl.codec').unescape('abc%4')", NULL, "malformed percent-encoding at character 4"},
  {"unescape(escape(all bytes)) is the identity",
   "local c = require('cdnctl.codec') local t = {} for b = 0, 255 do t[#t + 1] = string.char(b) end "
   "local s = table.concat(t) return c.unescape(c.escape(s)) == s and 'same' or 'different'", "same", NULL},
  {"escape output has only unreserved characters and %XX",
   "local c = require('cdnctl.codec') local t = {} for b = 0, 255 do t[#t + 1] = string.char(b) end "
   "local e = c.escape(table.concat(t)) return (e:gsub('%%%x%x', ''):match('^[A-Za-z0-9._~-]*$')) and #e .. '' or e", "636", NULL},
  {"idna of an internationalised name is punycode", "return require('cdnctl.codec').idna('b\\u{FC}cher.de')", "xn--bcher-kva.de", NULL},
  {"idna_unicode of punycode is the name in Unicode", "return require('cdnctl.codec').idna_unicode('xn--bcher-kva.de')", "b\xC3\xBC" "cher.de", NULL},
  {"idna_unicode of an ASCII name is the name", "return require('cdnctl.codec').idna_unicode('example.com')", "example.com", NULL},
  {"idna_unicode of broken punycode is an error", "return require('cdnctl.codec').idna_unicode('xn--zz-9999999999.de')", NULL, "punycode conversion resulted in overflow"},
};

struct form_case {
  const char *body;
  const char *want;      /* sorted dump, or NULL */
  const char *want_err;
};

static const struct form_case form_cases[] = {
  {"a=1&b=x+y&c", "[a]=[1],[b]=[x y],[c]=[]", NULL},
  {"", "", NULL},
  {"&&a=1&&", "[a]=[1]", NULL},
  {"a=1&a=2", "[a]=[2]", NULL},
  {"k%20e=v%3D1%26", "[k e]=[v=1&]", NULL},
  {"=v", "[]=[v]", NULL},
  {"a==b", "[a]=[=b]", NULL},
  {"api_key=ez-demo&site_url=https%3A%2F%2Fx.com%2F", "[api_key]=[ez-demo],[site_url]=[https://x.com/]", NULL},
  {"a=1&b=%zz", NULL, "malformed percent-encoding at character 7"},
  {"a%2=1", NULL, "malformed percent-encoding at character 2"},
  {"x=1&%g=2", NULL, "malformed percent-encoding at character 5"},
  {"x=1&y=2%", NULL, "malformed percent-encoding at character 8"},
};

static void test_lua(void) {
  lua_State *L = t_newstate();
  for (size_t i = 0; i < sizeof lua_cases / sizeof lua_cases[0]; i++) {
    const struct lua_case *c = &lua_cases[i];
    int top = lua_gettop(L);
    int n = t_lua(L, c->code, 0);
    if (n < 0) {
      t_report(0, __FILE__, __LINE__, c->what, "raised %s", lua_tostring(L, -1));
    } else if (c->want) {
      T_LSTR(lua_type(L, top + 1) == LUA_TSTRING ? lua_tostring(L, top + 1) : NULL,
             lua_rawlen(L, top + 1), c->want, strlen(c->want), c->what);
    } else {
      int ok = n == 2 && lua_isnil(L, top + 1) && lua_type(L, top + 2) == LUA_TSTRING &&
               strcmp(lua_tostring(L, top + 2), c->want_err) == 0;
      t_report(ok, __FILE__, __LINE__, c->what, "expected nil, \"%s\", got %s, %s", c->want_err,
               luaL_typename(L, top + 1), n == 2 ? luaL_tolstring(L, top + 2, NULL) : "(nothing)");
    }
    lua_settop(L, top);
  }
  for (size_t i = 0; i < sizeof form_cases / sizeof form_cases[0]; i++) {
    const struct form_case *c = &form_cases[i];
    char what[200];
    snprintf(what, sizeof what, "parse_form(\"%s\")", c->body);
    int top = lua_gettop(L);
    lua_pushstring(L, c->body);
    int n = t_lua(L, FORM_DUMP, 1);
    if (n < 0) {
      t_report(0, __FILE__, __LINE__, what, "raised %s", lua_tostring(L, -1));
    } else if (c->want) {
      T_STR(lua_type(L, top + 1) == LUA_TSTRING ? lua_tostring(L, top + 1) : NULL, c->want, what);
    } else {
      int ok = n == 2 && lua_isnil(L, top + 1) && lua_type(L, top + 2) == LUA_TSTRING &&
               strcmp(lua_tostring(L, top + 2), c->want_err) == 0;
      t_report(ok, __FILE__, __LINE__, what, "expected nil, \"%s\", got %s, %s", c->want_err,
               luaL_tolstring(L, top + 1, NULL), n == 2 ? luaL_tolstring(L, top + 2, NULL) : "(nothing)");
    }
    lua_settop(L, top);
  }
  /* Programming errors raise, naming the argument. */
  int n = t_lua(L, "return require('cdnctl.codec').escape({})", 0);
  t_report(n < 0 && strstr(lua_tostring(L, -1), "bad argument #1 to 'escape' (string expected, got table)") != NULL,
           __FILE__, __LINE__, "escape({}) raises a bad-argument error", "got %s", n < 0 ? lua_tostring(L, -1) : "no error");
  lua_settop(L, 0);
  lua_close(L);
}

int main(void) {
  test_codec_unescape();
  test_unescape_all_bytes();
  test_lua();
  return t_done();
}
