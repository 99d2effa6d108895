/*
 * tests/c/redact.c: masking of secrets (src/redact.c).
 *
 * A secret anywhere in a text becomes "****" plus its last four characters
 * (only "****" when it has fewer than 12); a secret shorter than 4 is never
 * masked. redact_mask_into works like snprintf: it returns the length the
 * result needs and never writes more than outsz bytes, NUL included.
 * Texts and secrets are byte strings (NUL bytes included); the registry
 * takes 1,000 keys and more, and refuses past REDACT_MAX; a key is masked
 * raw, percent-encoded, form-encoded and JSON-escaped, or any mix.
 */
#include <stdlib.h>
#include "tcheck.h"

struct mask_case {
  const char *what;
  const char *text;
  const char *secret;
  const char *want;
};

static const struct mask_case mask_cases[] = {
  {"a long secret keeps its last 4", "key=spDemoAgency00000001", "spDemoAgency00000001", "key=****0001"},
  {"a secret at the start", "abcdefghijklmnop tail", "abcdefghijklmnop", "****mnop tail"},
  {"a secret in the middle", "GET /add-domain/x.com/abcdefghijkl9xyz -> 200", "abcdefghijkl9xyz", "GET /add-domain/x.com/****9xyz -> 200"},
  {"every occurrence", "A0123456789ABC|A0123456789ABC", "A0123456789ABC", "****9ABC|****9ABC"},
  {"a secret of 11 shows nothing", "[0123456789a]", "0123456789a", "[****]"},
  {"a secret of exactly 12 shows 4", "[0123456789ab]", "0123456789ab", "[****89ab]"},
  {"a secret of 4 is masked", "x1234y", "1234", "x****y"},
  {"a secret of 3 is not masked", "x123y", "123", "x123y"},
  {"no secret: text unchanged", "nothing to hide", NULL, "nothing to hide"},
  {"the whole text is the secret", "0123456789abcdef", "0123456789abcdef", "****cdef"},
  {"a partial secret is not masked", "0123456789abcde", "0123456789abcdef", "0123456789abcde"},
  {"overlapping occurrences are masked left to right", "aaaaaaaaa", "aaaa", "********a"},
  {"empty text", "", "0123456789abcdef", ""},
  {"the start of a secret cut short by ... is masked", "at \"spDemoAgenc...\":1", "spDemoAgency00000001", "at \"****...\":1"},
  {"a cut start under 6 characters is kept", "at spDem...", "spDemoAgency00000001", "at spDem..."},
};

static void test_mask_into(void) {
  for (size_t i = 0; i < sizeof mask_cases / sizeof mask_cases[0]; i++) {
    const struct mask_case *c = &mask_cases[i];
    char out[128];
    size_t need = redact_mask_into(c->text, strlen(c->text), c->secret, out, sizeof out);
    T_STR(out, c->want, c->what);
    char what[160];
    snprintf(what, sizeof what, "%s: returns the length %zu", c->what, strlen(c->want));
    T_INT(need, strlen(c->want), what);
  }
}

/* Every output size from 0 to the full length: exact prefix, NUL, no byte
 * past outsz written (a canary fills the rest), the full length returned. */
static void test_short_buffers(void) {
  const char *text = "token 0123456789abcdef in the middle";
  const char *secret = "0123456789abcdef";
  const char *want = "token ****cdef in the middle";
  size_t wlen = strlen(want);
  int all_ok = 1;
  char detail[200] = "";
  for (size_t outsz = 0; outsz <= wlen + 2; outsz++) {
    char *buf = malloc(outsz + 8);      /* outsz usable bytes, then 8 canary bytes */
    memset(buf, 0x5A, outsz + 8);
    size_t need = redact_mask_into(text, strlen(text), secret, outsz ? buf : NULL, outsz);
    size_t copied = outsz ? (outsz - 1 < wlen ? outsz - 1 : wlen) : 0;
    int ok = need == wlen;
    if (outsz) ok = ok && memcmp(buf, want, copied) == 0 && buf[copied] == '\0';
    for (size_t k = outsz; k < outsz + 8; k++) ok = ok && buf[k] == 0x5A;
    if (!ok && all_ok) snprintf(detail, sizeof detail, "outsz %zu: need %zu, buffer '%.*s'", outsz, need, (int)copied, buf);
    all_ok = all_ok && ok;
    free(buf);
  }
  t_report(all_ok, __FILE__, __LINE__, "redact_mask_into never writes past outsz and always terminates", "%s", detail);

  /* The same with a secret that straddles the end of the room. */
  char small[10];
  memset(small, 0x5A, sizeof small);
  size_t need = redact_mask_into("xx0123456789abcdef", 18, secret, small, 5);
  T_INT(need, 10, "a mask cut by the end of the buffer: full length returned");
  T_STR(small, "xx**", "a mask cut by the end of the buffer: prefix and NUL");
  T_INT(small[5], 0x5A, "a mask cut by the end of the buffer: byte 5 untouched");
}

static void test_registry(void) {
  char *s;
  redact_clear();
  redact_add_secret("spDemoAgency00000001");
  redact_add_secret("ez-demo-account-0001");
  redact_add_secret("spDemoAgency00000001");          /* twice: kept once */
  redact_add_secret("abc");                          /* too short: ignored */
  redact_add_secret(NULL);
  s = redact_mask_dup("a=spDemoAgency00000001 b=ez-demo-account-0001 c=abc", NULL);
  T_STR(s, "a=****0001 b=****0001 c=abc", "registered secrets are masked everywhere in a text");
  free(s);
  s = redact_mask_dup("k=0123456789zyxw and spDemoAgency00000001", "0123456789zyxw");
  T_STR(s, "k=****zyxw and ****0001", "an extra secret is masked with the registered ones");
  free(s);
  s = redact_mask_dup(NULL, NULL);
  T_STR(s, "", "a NULL text gives an empty string");
  free(s);
  /* A text holding many secrets back to back grows nothing and loses nothing. */
  char big[20 * 20 + 1] = "";
  for (int i = 0; i < 20; i++) strcat(big, "spDemoAgency00000001");
  s = redact_mask_dup(big, NULL);
  char want[20 * 8 + 1] = "";
  for (int i = 0; i < 20; i++) strcat(want, "****0001");
  T_STR(s, want, "twenty secrets back to back");
  free(s);
  redact_clear();
  s = redact_mask_dup("a=spDemoAgency00000001", NULL);
  T_STR(s, "a=spDemoAgency00000001", "after redact_clear nothing is masked");
  free(s);
}

/* The same masking through Lua: cdnctl.redact and the message handler. */
static void test_lua(void) {
  lua_State *L = t_newstate();
  int n = t_lua(L, "local r = require 'cdnctl.redact' r.add('ez-demo-subkey-0001') "
                   "return r.mask('key ez-demo-subkey-0001!'), r.short('ez-demo-subkey-0001'), r.short('shortkey'), "
                   "r.mask('x 0123456789zzzz y', '0123456789zzzz')", 0);
  T_INT(n, 4, "redact.mask/short return one value each");
  if (n == 4) {
    T_STR(lua_tostring(L, 1), "key ****0001!", "redact.mask masks a registered key");
    T_STR(lua_tostring(L, 2), "****0001", "redact.short of a long key");
    T_STR(lua_tostring(L, 3), "****", "redact.short of a key under 12 characters");
    T_STR(lua_tostring(L, 4), "x ****zzzz y", "redact.mask with an explicit secret");
  }
  lua_settop(L, 0);
  n = t_lua(L, "error('failed with ez-demo-subkey-0001 inside')", 0);
  const char *msg = n < 0 ? lua_tostring(L, -1) : "";
  T_OK(n < 0 && strstr(msg, "failed with ****0001 inside") && !strstr(msg, "subkey"),
       "the message handler masks keys in errors and tracebacks");
  lua_settop(L, 0);
  lua_close(L);
  redact_clear();
}


/* Texts and secrets are byte strings: a NUL byte is one byte like another,
 * before, inside or after a secret, through C and through Lua. */
static void test_binary(void) {
  static const char text[] = "A\0B\0spDemoAgency00000001\0C";
  char out[64];
  size_t need = redact_mask_into(text, sizeof text - 1, "spDemoAgency00000001", out, sizeof out);
  T_LSTR(out, need, "A\0B\0****0001\0C", 14, "redact_mask_into masks past NUL bytes");
  redact_clear();
  redact_add_secret("spDemoAgency00000001");
  size_t outlen = 0;
  char *s = redact_mask_dupn(text, sizeof text - 1, NULL, 0, &outlen);
  T_LSTR(s, outlen, "A\0B\0****0001\0C", 14, "redact_mask_dupn keeps every byte after a NUL");
  free(s);
  lua_State *L = t_newstate();
  int n = t_lua(L, "local r = require 'cdnctl.redact' "
                   "r.add('ab\\0cdefghij0123') "
                   "return r.mask('A\\0B\\0C'), r.mask('x spDemoAgency00000001\\0y'), r.mask('<ab\\0cdefghij0123>')", 0);
  T_INT(n, 3, "redact.mask on byte strings returns one value each");
  if (n == 3) {
    size_t l1, l2, l3;
    const char *a = lua_tolstring(L, 1, &l1), *b = lua_tolstring(L, 2, &l2), *c = lua_tolstring(L, 3, &l3);
    T_LSTR(a, l1, "A\0B\0C", 5, "redact.mask of a text with NUL bytes and no secret gives it back whole");
    T_LSTR(b, l2, "x ****0001\0y", 12, "redact.mask masks a secret followed by a NUL byte");
    T_LSTR(c, l3, "<****0123>", 10, "a secret holding a NUL byte is registered and masked whole");
  }
  lua_close(L);
  redact_clear();
}

/* No small cap: hundreds of keys are all masked; the cap (REDACT_MAX, far
 * beyond any real use) is reported, not silently ignored. */
static void test_many(void) {
  redact_clear();
  char key[32], text[64];
  int refused = 0;
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "client%04dKey%07d", i, i * 7919);
    refused += redact_add_secret(key) != 0;
  }
  T_INT(refused, 0, "1000 keys are registered without a refusal");
  int all = 1, first_bad = -1;
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "client%04dKey%07d", i, i * 7919);
    snprintf(text, sizeof text, "k=%s;", key);
    char *s = redact_mask_dup(text, NULL);
    if (!s || strstr(s, key) || strncmp(s, "k=****", 6) != 0) { if (all) first_bad = i; all = 0; }
    free(s);
  }
  t_report(all, __FILE__, __LINE__, "1000 registered keys are all masked (the 65th included)", "key %d in clear", first_bad);
  redact_clear();
  int full = 0, at = -1;
  for (long i = 0; i <= REDACT_MAX; i++) {
    snprintf(key, sizeof key, "%08lxcap%08lx", (unsigned long)(i * 2654435761u), (unsigned long)i);
    if (redact_add_secret(key) != 0) { full = 1; at = (int)i; break; }
  }
  T_OK(full && at == REDACT_MAX, "registering past REDACT_MAX keys fails instead of passing silently");
  char *s = redact_mask_dup("x 00000000cap00000000 y", NULL);
  T_STR(s, "x ****0000 y", "keys registered before the cap are still masked");
  free(s);
  redact_clear();
  lua_State *L = t_newstate();
  int n = t_lua(L, "local r = require 'cdnctl.redact' "
                   "for i = 0, 70000 do r.add(string.format('%08xlua%08x', (i * 2654435761) & 0xffffffff, i)) end", 0);
  const char *msg = n < 0 ? lua_tostring(L, -1) : "";
  T_OK(n < 0 && strstr(msg, "cannot mask more than"), "redact.add raises when the registry is full");
  lua_close(L);
  redact_clear();
}

struct enc_case {
  const char *what;
  const char *text;
  const char *want;
};

/* A registered key is masked in every encoding a server or a trace may
 * show it in: raw, percent-encoded (either case of hex), form-encoded,
 * JSON-escaped. The key here holds the characters that change. */
static const struct enc_case enc_cases[] = {
  {"raw", "k=ab:cd@ef/gh 1234!", "k=****1234!"},
  {"percent-encoded, upper-case hex", "/x/ab%3Acd%40ef%2Fgh%201234/", "/x/****1234/"},
  {"percent-encoded, lower-case hex", "?key=ab%3acd%40ef%2fgh%201234&", "?key=****1234&"},
  {"percent-encoded, every byte", "%61%62%3A%63%64%40%65%66%2F%67%68%20%31%32%33%34", "****1234"},
  {"form-encoded (space as +)", "api_key=ab%3Acd%40ef%2Fgh+1234&x=1", "api_key=****1234&x=1"},
  {"JSON-escaped (\\/ as cjson writes it)", "{\"k\":\"ab:cd@ef\\/gh 1234\"}", "{\"k\":\"****1234\"}"},
  {"JSON \\u escapes", "\"\\u0061b:cd\\u0040ef/gh\\u00201234\"", "\"****1234\""},
  {"a partial encoding is left alone", "ab%3Acd%40ef", "ab%3Acd%40ef"},
};

static void test_encodings(void) {
  redact_clear();
  T_INT(redact_add_secret("ab:cd@ef/gh 1234"), 0, "a key with URL metacharacters is registered");
  for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0]; i++) {
    char *s = redact_mask_dup(enc_cases[i].text, NULL);
    T_STR(s, enc_cases[i].want, enc_cases[i].what);
    free(s);
  }
  char out[64];
  const char *t = "GET /add/ab%3Acd%40ef%2Fgh%201234 -> 200";
  size_t need = redact_mask_into(t, strlen(t), "ab:cd@ef/gh 1234", out, sizeof out);
  T_LSTR(out, need, "GET /add/****1234 -> 200", 24, "redact_mask_into masks an extra secret percent-encoded too");
  redact_clear();
}

/* Random texts (fixed seed) holding a key with each byte raw or escaped at
 * random (%XX in either case, \u00XX, '+' for a space) between random
 * bytes: the result is exactly the bytes around it and the masked key. */
static void test_random_mixes(void) {
  static const char key[] = "mixKey-0123 abc.~_9";
  redact_clear();
  redact_add_secret(key);
  unsigned long seed = 12345;
#define RND() ((seed = seed * 6364136223846793005ul + 1442695040888963407ul) >> 33)
  int all = 1;
  char bad[200] = "";
  for (int round = 0; round < 3000 && all; round++) {
    char text[512], want[512];
    size_t n = 0, w = 0, pre = RND() % 40, post = RND() % 40;
    for (size_t i = 0; i < pre; i++) want[w++] = text[n++] = (char)(RND() % 256);
    for (const char *k = key; *k; k++) {
      unsigned long how = RND() % 5;
      if (how == 0) text[n++] = *k;
      else if (how == 1 || how == 2) n += (size_t)snprintf(text + n, 8, how == 1 ? "%%%02X" : "%%%02x", (unsigned char)*k);
      else if (how == 3) n += (size_t)snprintf(text + n, 8, "\\u%04x", (unsigned char)*k);
      else text[n++] = *k == ' ' ? '+' : *k;
    }
    memcpy(want + w, "****.~_9", 8);
    w += 8;
    for (size_t i = 0; i < post; i++) want[w++] = text[n++] = (char)(RND() % 256);
    size_t outlen;
    char *out = redact_mask_dupn(text, n, NULL, 0, &outlen);
    if (!out || outlen != w || memcmp(out, want, w) != 0) {
      all = 0;
      snprintf(bad, sizeof bad, "round %d: %zu bytes out, %zu expected", round, outlen, w);
    }
    free(out);
  }
#undef RND
  t_report(all, __FILE__, __LINE__, "3000 random mixes of raw and escaped bytes between random bytes: the key is masked", "%s", bad);
  redact_clear();
}

int main(void) {
  test_mask_into();
  test_short_buffers();
  test_registry();
  test_lua();
  test_binary();
  test_many();
  test_encodings();
  test_random_mixes();
  return t_done();
}
