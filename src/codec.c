/*
 * codec.c: the byte-level codecs cdnctl needs on both sides of HTTP:
 * percent-encoding (RFC 3986), form bodies (application/x-www-form-urlencoded)
 * and internationalised domain names (IDNA 2008 through libidn2).
 * Decoders are strict: a stray '%' or a bad hex digit is an error with its
 * position, never a guess. Malformed input is the sandbox's daily bread.
 * Also SHA-256 through OpenSSL's libcrypto, for fingerprints that name a key
 * without revealing it (a journal records which key did a step).
 */
#include <idn2.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

static int codec_hex(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decode in[0..len) into out (room for len bytes). Returns 0, or the
 * 1-based position of a malformed escape. */
int codec_unescape(const char *in, size_t len, char *out, size_t *outlen, int plus_is_space) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '%') {
      int hi = -1;
      if (len - i < 3 || (hi = codec_hex((unsigned char)in[i + 1])) < 0 ||
          codec_hex((unsigned char)in[i + 2]) < 0)
        return (int)(i + 1);
      out[o++] = (char)(hi * 16 + codec_hex((unsigned char)in[i + 2]));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out[o++] = ' ';
    } else {
      out[o++] = in[i];
    }
  }
  *outlen = o;
  return 0;
}

/* codec.escape(s) -> s with every byte but A-Z a-z 0-9 - . _ ~ as %XX */
static int codec_lua_escape(lua_State *L) {
  static const char hexdig[] = "0123456789ABCDEF";
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      luaL_addchar(&b, (char)c);
    } else {
      luaL_addchar(&b, '%');
      luaL_addchar(&b, hexdig[c >> 4]);
      luaL_addchar(&b, hexdig[c & 15]);
    }
  }
  luaL_pushresult(&b);
  return 1;
}

/* Push the decoding of s[0..len); on failure push nil, message and return 2. */
static int codec_push_unescaped(lua_State *L, const char *s, size_t len, int plus, size_t base) {
  char *buf = lua_newuserdatauv(L, len + 1, 0); /* scratch owned by Lua: freed even if we raise */
  size_t outlen;
  int bad = codec_unescape(s, len, buf, &outlen, plus);
  if (bad) {
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_pushfstring(L, "malformed percent-encoding at character %d", (int)(base + bad));
    return 2;
  }
  lua_pushlstring(L, buf, outlen);
  lua_remove(L, -2);
  return 1;
}

/* codec.unescape(s [, plus_is_space]) -> decoded | nil, message */
static int codec_lua_unescape(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  return codec_push_unescaped(L, s, len, lua_toboolean(L, 2), 0);
}

/* codec.parse_form(body) -> {name = value} | nil, message.
 * "a=1&b=x+y&c" gives {a="1", b="x y", c=""}; a repeated name keeps the last
 * value, as PHP does; empty pairs are skipped. */
static int codec_lua_parse_form(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_newtable(L);
  size_t i = 0;
  while (i <= len) {
    size_t j = i;
    while (j < len && s[j] != '&') j++;
    if (j > i) {
      const char *eq = memchr(s + i, '=', j - i);
      size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
      if (codec_push_unescaped(L, s + i, klen, 1, i) == 2) return 2;
      if (eq) {
        if (codec_push_unescaped(L, eq + 1, (size_t)(s + j - eq - 1), 1, (size_t)(eq + 1 - s)) == 2)
          return 2;
      } else {
        lua_pushliteral(L, "");
      }
      lua_rawset(L, -3);
    }
    i = j + 1;
  }
  return 1;
}

/* One libidn2 conversion of the string at 1 -> result | nil, message. */
static int codec_idn2(lua_State *L, int (*convert)(const char *, char **, int), int flags) {
  const char *s = luaL_checkstring(L, 1);
  char *out = NULL;
  int rc = convert(s, &out, flags);
  if (rc != IDN2_OK) {
    lua_pushnil(L);
    lua_pushstring(L, idn2_strerror(rc));
    return 2;
  }
  lua_pushstring(L, out);
  idn2_free(out);
  return 1;
}

/* codec.idna(name) -> ASCII (punycode) form | nil, message.
 * Lowercases and maps with UTS#46 non-transitional rules, as browsers do. */
static int codec_lua_idna(lua_State *L) {
  return codec_idn2(L, idn2_to_ascii_8z, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
}

/* codec.idna_unicode(name) -> the name in Unicode (UTF-8) | nil, message.
 * The inverse of codec.idna, for showing names to people (bücher.de). */
static int codec_lua_idna_unicode(lua_State *L) {
  return codec_idn2(L, idn2_to_unicode_8z8z, 0);
}

/* codec.sha256_hex(data) -> the SHA-256 of data as 64 lowercase hex digits.
 * Raises only on a failure of libcrypto itself (out of memory). */
static int codec_lua_sha256_hex(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1) return luaL_error(L, "sha256: libcrypto failed");
  static const char digits[] = "0123456789abcdef";
  char hex[2 * EVP_MAX_MD_SIZE];
  for (unsigned int i = 0; i < mdlen; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  lua_pushlstring(L, hex, 2 * (size_t)mdlen);
  return 1;
}

int luaopen_cdnctl_codec(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"escape", codec_lua_escape}, {"unescape", codec_lua_unescape},
    {"parse_form", codec_lua_parse_form}, {"idna", codec_lua_idna},
    {"idna_unicode", codec_lua_idna_unicode}, {"sha256_hex", codec_lua_sha256_hex}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
