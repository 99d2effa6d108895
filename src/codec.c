/*
 * codec.c: the codecs cdnctl takes from libraries: internationalised domain
 * names (IDNA 2008 through libidn2) and SHA-256 through OpenSSL's libcrypto,
 * for fingerprints that name a key without revealing it (a journal records
 * which key did a step). Percent-encoding and form bodies are string work:
 * lua/cdnctl/percent.lua.
 */
#include <idn2.h>
#include <openssl/evp.h>
#include "host.h"

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
    {"idna", codec_lua_idna}, {"idna_unicode", codec_lua_idna_unicode},
    {"sha256_hex", codec_lua_sha256_hex}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
