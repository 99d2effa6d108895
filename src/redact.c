/*
 * redact.c: keeps API keys out of everything cdnctl prints.
 *
 * Every key the host learns (from options, the environment or a profile) is
 * registered here; error messages, traces and tracebacks pass through
 * redact_mask_* before they reach a file descriptor. A key is shown as
 * "****" plus at most its last four characters (none for short keys).
 * The list is process-wide (the sandbox's thread masks too), so a mutex
 * guards it; it owns copies of the secrets and wipes them on clear.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define REDACT_MAX 64
#define REDACT_MIN_LEN 4 /* shorter strings are not worth masking (and would mask everything) */
#define REDACT_CUT_MIN 6 /* a key's first characters cut short by "..." are masked from this many */

static pthread_mutex_t redact_lock = PTHREAD_MUTEX_INITIALIZER;
static char *redact_secrets[REDACT_MAX];
static int redact_count;

/* The masked form of a secret: "****" and the last 4 characters when the
 * secret has at least 12 of them. Writes at most 9 bytes with the NUL. */
static void redact_short(const char *secret, size_t len, char out[9]) {
  memcpy(out, "****", 5);
  if (len >= 12) memcpy(out + 4, secret + len - 4, 5);
}

void redact_add_secret(const char *secret) {
  size_t len = secret ? strlen(secret) : 0;
  if (len < REDACT_MIN_LEN) return;
  pthread_mutex_lock(&redact_lock);
  int known = 0;
  for (int i = 0; i < redact_count; i++)
    if (strcmp(redact_secrets[i], secret) == 0) known = 1;
  if (!known && redact_count < REDACT_MAX) {
    char *copy = strdup(secret);
    if (copy) redact_secrets[redact_count++] = copy;
  }
  pthread_mutex_unlock(&redact_lock);
}

void redact_clear(void) {
  pthread_mutex_lock(&redact_lock);
  for (int i = 0; i < redact_count; i++) {
    size_t n = strlen(redact_secrets[i]);
    volatile char *p = redact_secrets[i];
    while (n--) *p++ = 0;
    free(redact_secrets[i]);
    redact_secrets[i] = NULL;
  }
  redact_count = 0;
  pthread_mutex_unlock(&redact_lock);
}

/* Length of the start of secret (at least REDACT_CUT_MIN characters, not
 * all of it) found at text[i..len) and followed by "...", as Lua shortens
 * chunk names in messages and tracebacks; 0 if none. */
static size_t redact_cut_prefix(const char *text, size_t len, size_t i, const char *secret, size_t slen) {
  size_t p = 0;
  while (p < slen && i + p < len && text[i + p] == secret[p]) p++;
  if (p < REDACT_CUT_MIN || p == slen) return 0;
  if (len - (i + p) >= 3 && memcmp(text + i + p, "...", 3) == 0) return p;
  return 0;
}

/* Replace every occurrence of secret in text[0..len) and write the result
 * into out (at most outsz bytes with the NUL). Returns the length the
 * result needs, like snprintf; masking never makes text longer than
 * len + 9 per occurrence, and usually shorter. The start of a secret cut
 * short by "..." becomes "****" too. */
size_t redact_mask_into(const char *text, size_t len, const char *secret,
                        char *out, size_t outsz) {
  size_t slen = secret ? strlen(secret) : 0, o = 0, cut;
  char masked[9];
  if (slen >= REDACT_MIN_LEN) redact_short(secret, slen, masked);
  for (size_t i = 0; i < len;) {
    if (slen >= REDACT_MIN_LEN && len - i >= slen && memcmp(text + i, secret, slen) == 0) {
      for (const char *m = masked; *m; m++, o++)
        if (o + 1 < outsz) out[o] = *m;
      i += slen;
    } else if (slen >= REDACT_MIN_LEN && (cut = redact_cut_prefix(text, len, i, secret, slen)) > 0) {
      for (const char *m = "****"; *m; m++, o++)
        if (o + 1 < outsz) out[o] = *m;
      i += cut;
    } else {
      if (o + 1 < outsz) out[o] = text[i];
      o++, i++;
    }
  }
  if (outsz) out[o < outsz ? o : outsz - 1] = '\0';
  return o;
}

/* Mask one secret in a malloc'd string, returning a new malloc'd string. */
static char *redact_one(char *text, const char *secret) {
  size_t len = strlen(text);
  size_t need = redact_mask_into(text, len, secret, NULL, 0);
  char *out = malloc(need + 1);
  if (!out) { free(text); return NULL; }
  redact_mask_into(text, len, secret, out, need + 1);
  free(text);
  return out;
}

/* A malloc'd copy of text with every registered secret and extra_secret
 * masked; NULL on out of memory. The caller frees it. */
char *redact_mask_dup(const char *text, const char *extra_secret) {
  char *cur = strdup(text ? text : "");
  if (!cur) return NULL;
  if (extra_secret) cur = redact_one(cur, extra_secret);
  pthread_mutex_lock(&redact_lock);
  for (int i = 0; cur && i < redact_count; i++) cur = redact_one(cur, redact_secrets[i]);
  pthread_mutex_unlock(&redact_lock);
  return cur;
}

/* redact.mask(text [, secret]) -> text with registered secrets (and secret) masked */
static int redact_lua_mask(lua_State *L) {
  const char *text = luaL_checkstring(L, 1);
  const char *extra = luaL_optstring(L, 2, NULL);
  char *out = redact_mask_dup(text, extra);
  if (!out) return luaL_error(L, "not enough memory");
  lua_pushstring(L, out);
  free(out);
  return 1;
}

/* redact.add(secret): mask this string in everything printed from now on */
static int redact_lua_add(lua_State *L) {
  redact_add_secret(luaL_checkstring(L, 1));
  return 0;
}

/* redact.short(secret) -> "****abcd": how a key is shown to people */
static int redact_lua_short(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char out[9];
  redact_short(s, len, out);
  lua_pushstring(L, out);
  return 1;
}

int luaopen_cdnctl_redact(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"mask", redact_lua_mask}, {"add", redact_lua_add}, {"short", redact_lua_short},
    {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
