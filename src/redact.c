/*
 * redact.c: keeps API keys out of everything cdnctl prints.
 *
 * Every key the host learns (from options, the environment, a profile, or a
 * sub-key in an answer) is registered here; error messages, traces,
 * tracebacks and everything a script writes pass through redact_mask_*
 * before they reach a file descriptor. A key is shown as "****" plus at most
 * its last four characters (none for short keys).
 *
 * Texts and secrets are byte strings (a NUL is a byte like another). A key
 * is found raw and in the encodings a URL, a form or a JSON text gives it:
 * %XX (either case), '+' for a space, and JSON's backslash escapes; masking
 * never makes a text longer. The registry grows as needed up to REDACT_MAX
 * keys, then refuses more loudly. Lookup goes through a hash of each key's
 * first four bytes, so a text is read once whatever the number of keys.
 * The registry is process-wide (the sandbox's thread masks too), so a mutex
 * guards it; it owns copies of the secrets and wipes them on clear.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define REDACT_MIN_LEN 4 /* shorter strings are not worth masking (and would mask everything) */
#define REDACT_CUT_MIN 6 /* a key's first characters cut short by "..." are masked from this many */
#define REDACT_NONE ((size_t)-1)

/* One registered secret. Owner: the registry (s is wiped and freed on clear). */
struct redact_secret {
  char *s;          /* the bytes */
  size_t len;
  uint32_t head;    /* its first four bytes */
  uint64_t hash;    /* of all its bytes, to find duplicates fast */
  size_t next;      /* next secret in the same chain, or REDACT_NONE */
  char shown[9];    /* "****" and maybe the last four characters */
};

static pthread_mutex_t redact_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redact_secret *redact_list; /* redact_count used of redact_cap */
static size_t redact_count, redact_cap;
static size_t *redact_chains;             /* heads of the chains, by head hash */
static size_t redact_nchains;             /* a power of two, >= redact_count */

/* The masked form of a secret: "****" and the last 4 characters when the
 * secret has at least 12 of them. Writes at most 9 bytes with the NUL. */
static void redact_short(const char *secret, size_t len, char out[9]) {
  memcpy(out, "****", 5);
  if (len >= 12) { memcpy(out + 4, secret + len - 4, 4); out[8] = '\0'; }
}

static uint32_t redact_head(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t redact_chain_of(uint32_t head) {
  uint32_t h = head * 2654435761u;
  return (size_t)(h ^ (h >> 15)) & (redact_nchains - 1);
}

static uint64_t redact_hash(const char *s, size_t len) {
  uint64_t h = 14695981039346656037u;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

/* Fill in a secret's fields but the chain link. */
static void redact_init(struct redact_secret *r, const char *s, size_t len) {
  r->s = (char *)s;
  r->len = len;
  r->head = redact_head((const unsigned char *)s);
  r->hash = redact_hash(s, len);
  r->next = REDACT_NONE;
  redact_short(s, len, r->shown);
}

/* Room for one more secret and a chain table no fuller than one per chain.
 * Returns 0, or -1 when memory is short (nothing changed then). */
static int redact_grow(void) {
  if (redact_count == redact_cap) {
    size_t cap = redact_cap ? redact_cap * 2 : 64;
    struct redact_secret *v = realloc(redact_list, cap * sizeof *v);
    if (!v) return -1;
    redact_list = v;
    redact_cap = cap;
  }
  if (redact_count + 1 > redact_nchains) {
    size_t n = redact_nchains ? redact_nchains * 2 : 64;
    size_t *c = malloc(n * sizeof *c);
    if (!c) return -1;
    free(redact_chains);
    redact_chains = c;
    redact_nchains = n;
    for (size_t i = 0; i < n; i++) c[i] = REDACT_NONE;
    for (size_t i = 0; i < redact_count; i++) {   /* rebuild every chain */
      size_t k = redact_chain_of(redact_list[i].head);
      redact_list[i].next = c[k];
      c[k] = i;
    }
  }
  return 0;
}

/* Register secret[0..len) for masking. Returns 0 (registered, known
 * already, or too short to mask), -1 when REDACT_MAX secrets are
 * registered already, -2 when memory is short. */
int redact_add_secretn(const char *secret, size_t len) {
  if (!secret || len < REDACT_MIN_LEN) return 0;
  int rc = 0;
  pthread_mutex_lock(&redact_lock);
  uint64_t hash = redact_hash(secret, len);
  uint32_t head = redact_head((const unsigned char *)secret);
  size_t i = redact_nchains ? redact_chains[redact_chain_of(head)] : REDACT_NONE;
  for (; i != REDACT_NONE; i = redact_list[i].next)
    if (redact_list[i].hash == hash && redact_list[i].len == len && memcmp(redact_list[i].s, secret, len) == 0) break;
  if (i != REDACT_NONE) goto done;                  /* known */
  if (redact_count >= REDACT_MAX) { rc = -1; goto done; }
  char *copy = malloc(len);
  if (!copy || redact_grow() != 0) { free(copy); rc = -2; goto done; }
  memcpy(copy, secret, len);
  struct redact_secret *r = &redact_list[redact_count];
  redact_init(r, copy, len);
  size_t k = redact_chain_of(head);
  r->next = redact_chains[k];
  redact_chains[k] = redact_count++;
done:
  pthread_mutex_unlock(&redact_lock);
  return rc;
}

int redact_add_secret(const char *secret) {
  return redact_add_secretn(secret, secret ? strlen(secret) : 0);
}

void redact_clear(void) {
  pthread_mutex_lock(&redact_lock);
  for (size_t i = 0; i < redact_count; i++) {
    volatile char *p = redact_list[i].s;
    for (size_t n = redact_list[i].len; n--;) *p++ = 0;
    free(redact_list[i].s);
  }
  free(redact_list);
  free(redact_chains);
  redact_list = NULL;
  redact_chains = NULL;
  redact_count = redact_cap = redact_nchains = 0;
  pthread_mutex_unlock(&redact_lock);
}

static int redact_hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* An escape at t[i..len): %XX, '+' (a space in a form), or a JSON escape
 * (\" \\ \/ \b \f \n \r \t \uXXXX, the last as UTF-8). Puts the bytes it
 * stands for in out (1 to 3) and their count in *nout; returns the
 * escape's length in t, 0 when t[i] starts none. */
static size_t redact_unit(const unsigned char *t, size_t len, size_t i, unsigned char out[3], size_t *nout) {
  *nout = 1;
  if (t[i] == '+') { out[0] = ' '; return 1; }
  if (t[i] == '%' && len - i >= 3 && redact_hex(t[i + 1]) >= 0 && redact_hex(t[i + 2]) >= 0) {
    out[0] = (unsigned char)(redact_hex(t[i + 1]) << 4 | redact_hex(t[i + 2]));
    return 3;
  }
  if (t[i] != '\\' || len - i < 2) return 0;
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *p = memchr(from, t[i + 1], sizeof from - 1);
  if (p) { out[0] = (unsigned char)to[p - from]; return 2; }
  if (t[i + 1] != 'u' || len - i < 6) return 0;
  unsigned cp = 0;
  for (int k = 2; k < 6; k++) {
    int h = redact_hex(t[i + k]);
    if (h < 0) return 0;
    cp = cp << 4 | (unsigned)h;
  }
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;       /* surrogates: not a character alone */
  if (cp < 0x80) out[0] = (unsigned char)cp;
  else if (cp < 0x800) { out[0] = (unsigned char)(0xC0 | cp >> 6); out[1] = (unsigned char)(0x80 | (cp & 0x3F)); *nout = 2; }
  else {
    out[0] = (unsigned char)(0xE0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    *nout = 3;
  }
  return 6;
}

/* The first four bytes t[i..) stands for once decoded; 0 if fewer. */
static int redact_decoded_head(const unsigned char *t, size_t len, size_t i, uint32_t *head) {
  unsigned char b[6];
  size_t n = 0;
  while (n < 4 && i < len) {
    unsigned char u[3];
    size_t nu, step = redact_unit(t, len, i, u, &nu);
    if (step) { memcpy(b + n, u, nu); n += nu; i += step; }
    else b[n++] = t[i++];
  }
  if (n < 4) return 0;
  *head = redact_head(b);
  return 1;
}

/* Length of text at t[i..) that is secret r, raw or encoded (each byte
 * raw or escaped); 0 if none. */
static size_t redact_match(const unsigned char *t, size_t len, size_t i, const struct redact_secret *r) {
  const unsigned char *s = (const unsigned char *)r->s;
  if (len - i >= r->len && memcmp(t + i, s, r->len) == 0) return r->len;
  size_t j = 0, p = i;
  while (j < r->len) {
    if (p >= len) return 0;
    unsigned char u[3];
    size_t nu, step = redact_unit(t, len, p, u, &nu);
    if (step && nu <= r->len - j && memcmp(u, s + j, nu) == 0) { p += step; j += nu; continue; }
    if (t[p] != s[j]) return 0;
    p++, j++;
  }
  return p - i;
}

/* Length of the start of secret r (at least REDACT_CUT_MIN bytes, not all
 * of it) found raw at t[i..len) and followed by "...", as Lua shortens
 * chunk names in messages and tracebacks; 0 if none. */
static size_t redact_cut_prefix(const unsigned char *t, size_t len, size_t i, const struct redact_secret *r) {
  size_t p = 0;
  while (p < r->len && i + p < len && t[i + p] == (unsigned char)r->s[p]) p++;
  if (p < REDACT_CUT_MIN || p == r->len) return 0;
  if (len - (i + p) >= 3 && memcmp(t + i + p, "...", 3) == 0) return p;
  return 0;
}

/* The best secret at t[i..): the longest match among extra and the
 * registered secrets whose first four bytes fit (raw or decoded). Sets
 * *shown to its masked form and returns the length of text it covers;
 * failing a match, the start of a secret cut by "..." ("****"); 0 if none. */
static size_t redact_best(const unsigned char *t, size_t len, size_t i, const struct redact_secret *extra,
                          int registry, const char **shown) {
  if (len - i < REDACT_MIN_LEN) return 0;
  uint32_t raw = redact_head(t + i), dec;
  int has_dec = redact_decoded_head(t, len, i, &dec) && dec != raw;
  size_t best = 0, m;
  if (extra && (extra->head == raw || (has_dec && extra->head == dec)) && (m = redact_match(t, len, i, extra)) > 0) {
    best = m;
    *shown = extra->shown;
  }
  for (int pass = 0; registry && redact_nchains && pass < 1 + has_dec; pass++) {
    uint32_t head = pass ? dec : raw;
    for (size_t k = redact_chains[redact_chain_of(head)]; k != REDACT_NONE; k = redact_list[k].next)
      if (redact_list[k].head == head && (m = redact_match(t, len, i, &redact_list[k])) > best) {
        best = m;
        *shown = redact_list[k].shown;
      }
  }
  if (best) return best;
  *shown = "****";
  if (extra && extra->head == raw && (m = redact_cut_prefix(t, len, i, extra)) > 0) return m;
  if (registry && redact_nchains)
    for (size_t k = redact_chains[redact_chain_of(raw)]; k != REDACT_NONE; k = redact_list[k].next)
      if (redact_list[k].head == raw && (m = redact_cut_prefix(t, len, i, &redact_list[k])) > 0) return m;
  return 0;
}

/* Mask text[0..len) into out (at most outsz bytes with a final NUL, which
 * the result may also hold inside), like snprintf: returns the length the
 * result needs, never more than len. With registry set, the caller holds
 * redact_lock. */
static size_t redact_scan(const char *text, size_t len, const struct redact_secret *extra, int registry,
                          char *out, size_t outsz) {
  const unsigned char *t = (const unsigned char *)text;
  size_t o = 0, m;
  const char *shown;
  for (size_t i = 0; i < len;) {
    if ((m = redact_best(t, len, i, extra, registry, &shown)) > 0) {
      for (; *shown; shown++, o++)
        if (o + 1 < outsz) out[o] = *shown;
      i += m;
    } else {
      if (o + 1 < outsz) out[o] = text[i];
      o++, i++;
    }
  }
  if (outsz) out[o < outsz ? o : outsz - 1] = '\0';
  return o;
}

/* A secret usable as extra, or NULL when too short to mask. */
static const struct redact_secret *redact_extra(struct redact_secret *r, const char *s, size_t len) {
  if (!s || len < REDACT_MIN_LEN) return NULL;
  redact_init(r, s, len);
  return r;
}

/* Replace every occurrence of secret (raw or encoded) in text[0..len) and
 * write the result into out (at most outsz bytes with the NUL). Returns
 * the length the result needs, like snprintf; it is never more than len.
 * The start of a secret cut short by "..." becomes "****" too. */
size_t redact_mask_into(const char *text, size_t len, const char *secret, char *out, size_t outsz) {
  struct redact_secret x;
  return redact_scan(text, len, redact_extra(&x, secret, secret ? strlen(secret) : 0), 0, out, outsz);
}

/* A malloc'd copy of text[0..len) with every registered secret and extra
 * (elen bytes) masked, NUL-terminated, its length in *outlen (may be
 * NULL); NULL on out of memory. The caller frees it. */
char *redact_mask_dupn(const char *text, size_t len, const char *extra, size_t elen, size_t *outlen) {
  char *out = malloc(len + 1);
  if (!out) return NULL;
  struct redact_secret x;
  const struct redact_secret *ex = redact_extra(&x, extra, elen);
  pthread_mutex_lock(&redact_lock);
  size_t n = redact_scan(text ? text : "", text ? len : 0, ex, 1, out, len + 1);
  pthread_mutex_unlock(&redact_lock);
  if (outlen) *outlen = n;
  return out;
}

/* A malloc'd copy of the C string text with every registered secret and
 * extra_secret masked; NULL on out of memory. The caller frees it. */
char *redact_mask_dup(const char *text, const char *extra_secret) {
  return redact_mask_dupn(text, text ? strlen(text) : 0, extra_secret,
                          extra_secret ? strlen(extra_secret) : 0, NULL);
}

/* redact.mask(text [, secret]) -> text with registered secrets (and secret)
 * masked, in every encoding; any bytes. */
static int redact_lua_mask(lua_State *L) {
  size_t len, elen = 0;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *extra = luaL_optlstring(L, 2, NULL, &elen);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, len + 1); /* may raise: before the lock */
  struct redact_secret x;
  const struct redact_secret *ex = redact_extra(&x, extra, elen);
  pthread_mutex_lock(&redact_lock);
  size_t n = redact_scan(text, len, ex, 1, out, len + 1);
  pthread_mutex_unlock(&redact_lock);
  luaL_pushresultsize(&b, n);
  return 1;
}

/* redact.add(secret): mask this string (any bytes) in everything printed
 * from now on. One call per key; raises when the registry is full. */
static int redact_lua_add(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int rc = redact_add_secretn(s, len);
  if (rc == -1) return luaL_error(L, "cdnctl.redact: cannot mask more than %d keys in one process", REDACT_MAX);
  if (rc != 0) return luaL_error(L, "not enough memory");
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

/* redact.count() -> how many secrets are registered (it only grows, so a
 * change says that something printed earlier may now need masking) */
static int redact_lua_count(lua_State *L) {
  pthread_mutex_lock(&redact_lock);
  lua_Integer n = (lua_Integer)redact_count;
  pthread_mutex_unlock(&redact_lock);
  lua_pushinteger(L, n);
  return 1;
}

int luaopen_cdnctl_redact(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"mask", redact_lua_mask}, {"add", redact_lua_add}, {"short", redact_lua_short},
    {"count", redact_lua_count}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
