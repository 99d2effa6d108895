/*
 * json.c: JSON through lua-cjson, with exact numbers.
 *
 * Debian 12's lua-cjson 2.1.0 decodes every number as a float and encodes at
 * most 14 significant digits, which breaks byte counts and quotas. The fix
 * sits here, at the boundary, and nowhere else:
 *  - decode: a pre-pass copies the text, turning each number token into a
 *    string "\xFF<token>" (0xFF never occurs in UTF-8, and the pre-pass
 *    rejects invalid UTF-8 in strings); after cjson decodes, a walk turns each
 *    such string back into a number with lua_stringtonumber, which yields an
 *    integer for "123" and a float for "1.5" exactly as Lua's own lexer does.
 *  - encode: a copy of the value has integers as "\xFF<digits>" and floats as
 *    "\xFF" and the shortest of %.15g to %.17g that reads back exactly (with
 *    ".0" when that reads as an integer); after cjson encodes, a post-pass
 *    drops the quotes and marker. A value cjson writes exactly as it is
 *    (integers of at most 14 digits, no float, no 0xFF byte) skips the copy
 *    and the post-pass (json_plain).
 * On a decode error the original text is decoded again by cjson alone, so the
 * message's "at character N" points into the caller's text.
 *
 * cjson 2.1.0 also decodes [] and {} alike, as an empty table, so an answer's
 * "sites":[] would be written back as {}. The pre-pass marks an empty array
 * too ("\xFF[]"), and the walk turns it into an empty table whose metatable
 * is json.array_mt (shared, in the registry): both encoders write an empty
 * table with that metatable as []. Only empty arrays carry it (config.lua's
 * note_secrets skips tables with a metatable; an empty one holds no key);
 * once given a member, the table is encoded by its keys like any other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define JSON_MARK '\xFF'
#define JSON_MAX_DEPTH 1000

static const char json_key_decode = 'd'; /* registry: cjson instance's decode */
static const char json_empty_array = 'a'; /* json.empty_array: encodes as [] */
static const char json_key_array_mt = 'm'; /* registry: json.array_mt, of decoded empty arrays */

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t json_utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t need; unsigned min, cp;
  if (c >= 0xC2 && c <= 0xDF) { need = 2; cp = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { need = 3; cp = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { need = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need;
}

static int json_isdigit(char c) { return c >= '0' && c <= '9'; }

/* The index of the first byte at or after j that is not JSON whitespace. */
static size_t json_skip_space(const char *s, size_t j, size_t n) {
  while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
  return j;
}

/* Length of a JSON number token at s (grammar of RFC 8259), 0 if none. */
static size_t json_number_len(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-') i++;
  if (i < n && s[i] == '0') i++;
  else if (i < n && json_isdigit(s[i])) while (i < n && json_isdigit(s[i])) i++;
  else return 0;
  if (i < n && s[i] == '.') {
    size_t j = i + 1;
    if (j >= n || !json_isdigit(s[j])) return 0;
    while (j < n && json_isdigit(s[j])) j++;
    i = j;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < n && (s[j] == '+' || s[j] == '-')) j++;
    if (j >= n || !json_isdigit(s[j])) return 0;
    while (j < n && json_isdigit(s[j])) j++;
    i = j;
  }
  return i;
}

/* Whether the number token s[0..k) overflows a double (1e400): such a
 * number has no Lua value, so decoding refuses it. */
static int json_number_overflows(const char *s, size_t k) {
  char small[64];
  char *tmp = k < sizeof small ? small : malloc(k + 1);
  if (!tmp) return 0;                      /* cannot tell: let it through */
  memcpy(tmp, s, k);
  tmp[k] = 0;
  int inf = isinf(strtod(tmp, NULL));
  if (tmp != small) free(tmp);
  return inf;
}

/* Length of an empty array ('[', whitespace, ']') at s[i], 0 if none. */
static size_t json_empty_array_len(const char *s, size_t i, size_t n) {
  size_t j = json_skip_space(s, i + 1, n);
  return j < n && s[j] == ']' ? j + 1 - i : 0;
}

/* The pre-pass: copy s into b with numbers and empty arrays marked. Returns
 * 0, or the 1-based position of the first invalid UTF-8 byte inside a
 * string or of a number that is malformed or out of range (*why says which).
 * A number where an object key belongs is copied as it is, for cjson to
 * reject. */
static size_t json_mark(luaL_Buffer *b, const char *s, size_t n, const char **why) {
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      size_t start = i++;
      while (i < n && s[i] != '"') {
        if (s[i] == '\\') { i += (i + 1 < n) ? 2 : 1; continue; }
        size_t k = json_utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0) { *why = "invalid UTF-8 in a string"; return i + 1; }
        i += k;
      }
      if (i < n) i++; /* closing quote; an unterminated string is cjson's to report */
      luaL_addlstring(b, s + start, i - start);
    } else if (c == '-' || json_isdigit(c)) {
      size_t k = json_number_len(s + i, n - i);
      if (k == 0) { *why = "invalid number"; return i + 1; } /* "1.", "-", ".5": cjson would guess */
      size_t j = json_skip_space(s, i + k, n);
      if (j < n && s[j] == ':') {         /* a number as an object key: cjson's to refuse */
        luaL_addlstring(b, s + i, k);
        i += k;
        continue;
      }
      if (json_number_overflows(s + i, k)) { *why = "number out of range"; return i + 1; }
      luaL_addchar(b, '"');
      luaL_addchar(b, JSON_MARK);
      luaL_addlstring(b, s + i, k);
      luaL_addchar(b, '"');
      i += k;
    } else if (c == '[' && json_empty_array_len(s, i, n)) {
      luaL_addchar(b, '"');
      luaL_addchar(b, JSON_MARK);
      luaL_addstring(b, "[]\"");
      i += json_empty_array_len(s, i, n);
    } else {
      luaL_addchar(b, c);
      i++;
    }
  }
  return 0;
}

/* Turn a marked string at the top of the stack into its value in place: a
 * number, or an empty table with json.array_mt. Pushes two values at most. */
static void json_unmark_top(lua_State *L) {
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (len > 1 && s[0] == JSON_MARK) {
    if (s[1] == '[') {
      lua_createtable(L, 0, 0);
      lua_rawgetp(L, LUA_REGISTRYINDEX, &json_key_array_mt);
      lua_setmetatable(L, -2);
    } else if (lua_stringtonumber(L, s + 1) == 0) {
      lua_pushnumber(L, strtod(s + 1, NULL));
    }
    lua_replace(L, -2);
  }
}

/* Whether the value at idx is an empty table with json.array_mt. Needs
 * two free stack slots. */
static int json_is_empty_array(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_key_array_mt);
  int marked = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!marked) return 0;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return 1;
  lua_pop(L, 2);
  return 0;
}

/* Walk a decoded value (at the top) and unmark every number in it. cjson
 * already bounded the depth, so the recursion is bounded too. Each level
 * holds a key and a value on the stack and briefly two more: the stack is
 * grown for them first (a fresh state's stack is small, and a push past
 * its end writes into memory nothing checks). -> 1, or 0 when the stack
 * cannot grow. */
static int json_unmark(lua_State *L, int depth) {
  if (!lua_checkstack(L, 4)) return 0;
  if (lua_type(L, -1) == LUA_TSTRING) { json_unmark_top(L); return 1; }
  if (lua_type(L, -1) != LUA_TTABLE || depth > JSON_MAX_DEPTH + 1) return 1;
  lua_pushnil(L);                          /* t nil */
  while (lua_next(L, -2)) {                /* t k v */
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
      json_unmark_top(L);                  /* t k v' */
      lua_pushvalue(L, -2);                /* t k v' k */
      lua_insert(L, -2);                   /* t k k v' */
      lua_rawset(L, -4);                   /* t k (assigning an existing field is safe in lua_next) */
    } else {
      if (t == LUA_TTABLE && !json_unmark(L, depth + 1)) { lua_pop(L, 2); return 0; }
      lua_pop(L, 1);                       /* t k */
    }
  }
  return 1;
}

/* Call cjson's decode on s; leaves the value or the error message. */
static int json_cjson_decode(lua_State *L, const char *s, size_t n) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_key_decode);
  lua_pushlstring(L, s, n);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

int json_decode_exact(lua_State *L, const char *s, size_t len) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char *why = NULL;
  size_t bad = json_mark(&b, s, len, &why);
  if (bad) {
    luaL_pushresult(&b);
    lua_pop(L, 1);
    lua_pushfstring(L, "%s at character %d", why, (int)bad);
    return 0;
  }
  luaL_pushresult(&b);                     /* marked */
  size_t mlen;
  const char *marked = lua_tolstring(L, -1, &mlen);
  if (!json_cjson_decode(L, marked, mlen)) { /* marked err */
    lua_pop(L, 2);
    json_cjson_decode(L, s, len);          /* the message, with positions in s */
    if (lua_type(L, -1) != LUA_TSTRING) {  /* marking changed validity: should not happen */
      lua_pop(L, 1);
      lua_pushliteral(L, "invalid JSON");
    }
    return 0;
  }
  lua_remove(L, -2);                       /* value */
  if (!json_unmark(L, 0)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "JSON nested too deeply for the Lua stack");
    return 0;
  }
  return 1;
}

/* json.decode(text) -> value | nil, message */
static int json_lua_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (json_decode_exact(L, s, len)) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* The number at idx as JSON text into num (at least 40 bytes): an integer
 * as its digits, a float in the shortest form that reads back exactly
 * (with ".0" when that form looks like an integer); raises on NaN or
 * infinity. -> its length */
static size_t json_format_number(lua_State *L, int idx, char *num, size_t size) {
  if (lua_isinteger(L, idx)) return (size_t)snprintf(num, size, "%lld", (long long)lua_tointeger(L, idx));
  double d = lua_tonumber(L, idx);
  if (!isfinite(d)) luaL_error(L, "json.encode: cannot encode NaN or infinity");
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) { /* the shortest form that reads back exactly */
    n = snprintf(num, size, "%.*g", prec, d);
    if (strtod(num, NULL) == d) break;
  }
  if (!strpbrk(num, ".eE") && (size_t)n + 3 <= size) { strcat(num, ".0"); n += 2; }
  return (size_t)n;
}

/* Push the number at idx as a marked string (the marker, then its JSON text). */
static void json_push_marked_number(lua_State *L, int idx) {
  char num[64];
  num[0] = JSON_MARK;
  json_format_number(L, idx, num + 1, sizeof num - 1);
  lua_pushstring(L, num);
}

static void json_copy_marked(lua_State *L, int idx, int depth);

/* Push a copy of the table at idx (an absolute index) with its values
 * copied by json_copy_marked; raises on a key holding 0xFF or past
 * JSON_MAX_DEPTH. */
static void json_copy_marked_table(lua_State *L, int idx, int depth) {
  if (depth >= JSON_MAX_DEPTH)
    luaL_error(L, "json.encode: tables nested deeper than %d (a cycle?)", JSON_MAX_DEPTH);
  luaL_checkstack(L, 4, "json.encode");
  if (json_is_empty_array(L, idx)) {       /* a decoded [] */
    lua_pushfstring(L, "%c[]", JSON_MARK);
    return;
  }
  lua_newtable(L);                         /* copy */
  lua_pushnil(L);
  while (lua_next(L, idx)) {               /* copy k v */
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t klen;
      const char *k = lua_tolstring(L, -2, &klen);
      if (memchr(k, (unsigned char)JSON_MARK, klen))
        luaL_error(L, "json.encode: key is not valid UTF-8 (byte 0xFF)");
    }
    json_copy_marked(L, -1, depth + 1);    /* copy k v v' */
    lua_remove(L, -2);                     /* copy k v' */
    lua_pushvalue(L, -2);                  /* copy k v' k */
    lua_insert(L, -2);                     /* copy k k v' */
    lua_rawset(L, -4);                     /* copy k */
  }
}

/* Push a copy of the value at idx with numbers marked; raises on a value
 * JSON cannot hold. Depth-bounded, so a cycle is an error, not a hang. */
static void json_copy_marked(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    json_push_marked_number(L, idx);
    return;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (memchr(s, (unsigned char)JSON_MARK, len))
      luaL_error(L, "json.encode: string is not valid UTF-8 (byte 0xFF)");
    lua_pushvalue(L, idx);
    return;
  }
  case LUA_TTABLE:
    json_copy_marked_table(L, idx, depth);
    return;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == (void *)&json_empty_array) { /* cjson 2.1.0 writes {} for any empty table */
      lua_pushfstring(L, "%c[]", JSON_MARK);
      return;
    }
    lua_pushvalue(L, idx);
    return;
  case LUA_TNIL: case LUA_TBOOLEAN:
    lua_pushvalue(L, idx);
    return;
  default:
    luaL_error(L, "json.encode: cannot encode a %s", luaL_typename(L, idx));
  }
}

/* Whether cjson can encode the value at idx exactly as it is: every number
 * an integer of at most 14 digits (cjson's %.14g writes those exactly), no
 * float, no 0xFF byte, no empty_array nor decoded [], not too deep. Then
 * encode skips the marked copy and the post-pass: the common case (API
 * answers) costs half. */
static int json_plain(lua_State *L, int idx, int depth) {
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER: {
    if (!lua_isinteger(L, idx)) return 0;
    lua_Integer v = lua_tointeger(L, idx);
    return v > -100000000000000LL && v < 100000000000000LL;
  }
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return memchr(s, (unsigned char)JSON_MARK, len) == NULL;
  }
  case LUA_TNIL: case LUA_TBOOLEAN: return 1;
  case LUA_TLIGHTUSERDATA: return lua_touserdata(L, idx) == NULL; /* cjson's null */
  case LUA_TTABLE: {
    if (depth >= JSON_MAX_DEPTH || !lua_checkstack(L, 3) || json_is_empty_array(L, idx)) return 0;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {             /* k v */
      if (!json_plain(L, -2, depth + 1) || !json_plain(L, -1, depth + 1)) { lua_pop(L, 2); return 0; }
      lua_pop(L, 1);
    }
    return 1;
  }
  default: return 0;
  }
}

/* json.encode_php(value) -> text as PHP's json_encode writes it ('/' as
 * an escaped slash), keys in no set order: the sandbox's answers. Raises on
 * values JSON cannot hold. */
static int json_lua_encode_php(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));   /* v encode */
  if (json_plain(L, 1, 0)) {               /* v encode: cjson alone is exact */
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  json_copy_marked(L, 1, 0);               /* v encode copy */
  lua_call(L, 1, 1);                       /* v text */
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"' && i + 1 < n && s[i + 1] == JSON_MARK) {
      size_t j = i + 2;
      while (j < n && s[j] != '"') j++;
      luaL_addlstring(&b, s + i + 2, j - (i + 2));
      i = j;
    } else {
      luaL_addchar(&b, s[i]);
    }
  }
  luaL_pushresult(&b);
  return 1;
}

/*
 * The stable encoder (json.encode): what cdnctl writes itself. Object keys
 * are sorted bytewise at every depth and '/' stays '/', so the same value
 * gives the same text on every run (outputs diff and commit cleanly).
 * Tables are read raw, as cjson reads them: keys 1..n are an array (nil
 * holes as null, no sparser than cjson allows), an empty table is {}, any
 * other table an object whose keys are strings or numbers.
 */

/* The text being written: a growable buffer in a userdata at stack slot
 * `slot`, replaced by a larger one as it grows, so an error half-way
 * leaves nothing to free (the state collects it). */
struct json_out {
  lua_State *L;
  int slot;
  char *p;
  size_t len, cap;
};

static void json_out_reserve(struct json_out *o, size_t more) {
  if (o->cap - o->len >= more) return;
  size_t cap = o->cap ? o->cap : 256;
  while (cap - o->len < more) {
    if (cap > ((size_t)-1) / 4) luaL_error(o->L, "json.encode: the text is too large");
    cap *= 2;
  }
  char *p = lua_newuserdatauv(o->L, cap, 0);
  if (o->len) memcpy(p, o->p, o->len);
  lua_replace(o->L, o->slot);
  o->p = p;
  o->cap = cap;
}

static void json_out_add(struct json_out *o, const char *s, size_t n) {
  json_out_reserve(o, n);
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

/* A string, quoted and escaped: ", \ and control characters (as cjson does:
 * \b \f \n \r \t, the rest and DEL as \u00XX), never '/'. Raises on the
 * byte 0xFF, which no UTF-8 text holds (what: "string" or "key"). */
static void json_out_string(struct json_out *o, const char *s, size_t n, const char *what) {
  if (memchr(s, (unsigned char)JSON_MARK, n))
    luaL_error(o->L, "json.encode: %s is not valid UTF-8 (byte 0xFF)", what);
  json_out_reserve(o, n + 2);
  o->p[o->len++] = '"';
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    json_out_add(o, s + run, i - run);
    run = i + 1;
    char esc[8];
    const char *short_esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
    if (!short_esc) snprintf(esc, sizeof esc, "\\u%04x", c);
    json_out_add(o, short_esc ? short_esc : esc, strlen(short_esc ? short_esc : esc));
  }
  json_out_add(o, s + run, n - run);
  json_out_add(o, "\"", 1);
}

/* One key of an object, for sorting: a string key points into the table's
 * own string; a number key is written into num (a struct moves when it is
 * sorted, so text() finds num afresh). */
struct json_key {
  const char *s;
  size_t len;
  int type;            /* LUA_TSTRING or LUA_TNUMBER */
  int is_int;
  lua_Integer i;
  lua_Number d;
  char num[40];
};

static const char *json_key_text(const struct json_key *k) { return k->s ? k->s : k->num; }

static int json_key_cmp(const void *a, const void *b) {
  const struct json_key *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(json_key_text(x), json_key_text(y), n);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* The key at the top of the stack into k; raises on a key JSON cannot hold. */
static void json_key_read(lua_State *L, struct json_key *k) {
  memset(k, 0, sizeof *k);
  k->type = lua_type(L, -1);
  if (k->type == LUA_TSTRING) {
    k->s = lua_tolstring(L, -1, &k->len);
  } else if (k->type == LUA_TNUMBER) {
    k->is_int = lua_isinteger(L, -1);
    if (k->is_int) k->i = lua_tointeger(L, -1); else k->d = lua_tonumber(L, -1);
    k->len = json_format_number(L, -1, k->num, sizeof k->num);
  } else {
    luaL_error(L, "json.encode: a table key must be a number or a string, not a %s", luaL_typename(L, -1));
  }
}

/* The table at idx: its number of keys into *count, and its array length
 * (keys 1..n, n at most twice the count or at most 10, as cjson allows),
 * or -1 when it is an object; raises on an array sparser than that. */
static lua_Integer json_array_length(lua_State *L, int idx, size_t *count) {
  lua_Integer max = 0;
  int object = 0;
  *count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {               /* k v */
    lua_pop(L, 1);
    (*count)++;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    } else {
      object = 1;
    }
  }
  if (object || *count == 0) return -1;
  if (max > 10 && (lua_Unsigned)max > 2 * (lua_Unsigned)*count) luaL_error(L, "json.encode: excessively sparse array");
  return max;
}

static void json_write(struct json_out *o, int idx, int depth);

/* The object at idx, its count keys sorted. */
static void json_write_object(struct json_out *o, int idx, size_t count, int depth) {
  lua_State *L = o->L;
  if (count > ((size_t)-1) / sizeof(struct json_key)) luaL_error(L, "json.encode: too many keys");
  struct json_key *keys = lua_newuserdatauv(L, count * sizeof *keys, 0); /* keys: the state owns them */
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {               /* keys k v */
    lua_pop(L, 1);
    if (n < count) json_key_read(L, &keys[n++]);
  }
  qsort(keys, n, sizeof *keys, json_key_cmp);
  json_out_add(o, "{", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) json_out_add(o, ",", 1);
    if (keys[i].type == LUA_TSTRING) {
      json_out_string(o, keys[i].s, keys[i].len, "key");
      lua_pushlstring(L, keys[i].s, keys[i].len);
    } else {
      json_out_add(o, "\"", 1);
      json_out_add(o, keys[i].num, keys[i].len);
      json_out_add(o, "\"", 1);
      if (keys[i].is_int) lua_pushinteger(L, keys[i].i); else lua_pushnumber(L, keys[i].d);
    }
    json_out_add(o, ":", 1);
    lua_rawget(L, idx);                    /* keys v */
    json_write(o, -1, depth + 1);
    lua_pop(L, 1);                         /* keys */
  }
  json_out_add(o, "}", 1);
  lua_pop(L, 1);
}

/* The table at idx (absolute) as an array or an object. */
static void json_write_table(struct json_out *o, int idx, int depth) {
  lua_State *L = o->L;
  if (depth >= JSON_MAX_DEPTH)
    luaL_error(L, "json.encode: tables nested deeper than %d (a cycle?)", JSON_MAX_DEPTH);
  luaL_checkstack(L, 6, "json.encode");
  size_t count;
  lua_Integer n = json_array_length(L, idx, &count);
  if (n < 0) {
    if (count == 0) json_out_add(o, json_is_empty_array(L, idx) ? "[]" : "{}", 2);
    else json_write_object(o, idx, count, depth);
    return;
  }
  json_out_add(o, "[", 1);
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) json_out_add(o, ",", 1);
    lua_rawgeti(L, idx, i);
    json_write(o, -1, depth + 1);
    lua_pop(L, 1);
  }
  json_out_add(o, "]", 1);
}

/* The value at idx as JSON text into o; raises on a value JSON cannot hold. */
static void json_write(struct json_out *o, int idx, int depth) {
  lua_State *L = o->L;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNIL: json_out_add(o, "null", 4); return;
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, idx)) json_out_add(o, "true", 4); else json_out_add(o, "false", 5);
    return;
  case LUA_TNUMBER: {
    char num[40];
    size_t n = json_format_number(L, idx, num, sizeof num);
    json_out_add(o, num, n);
    return;
  }
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    json_out_string(o, s, n, "string");
    return;
  }
  case LUA_TTABLE: json_write_table(o, idx, depth); return;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) == NULL) { json_out_add(o, "null", 4); return; }        /* json.null */
    if (lua_touserdata(L, idx) == (void *)&json_empty_array) { json_out_add(o, "[]", 2); return; }
    /* fall through */
  default:
    luaL_error(L, "json.encode: cannot encode a %s", luaL_typename(L, idx));
  }
}

/* json.encode(value) -> text, keys sorted and '/' unescaped; raises on
 * values JSON cannot hold */
static int json_lua_encode(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_pushnil(L);                          /* v buffer */
  struct json_out o = { L, 2, NULL, 0, 0 };
  json_write(&o, 1, 0);
  lua_pushlstring(L, o.p ? o.p : "", o.len);
  return 1;
}

/* Call cjson_instance[name](arg...) for configuration. */
static void json_configure(lua_State *L, int inst, const char *name, int a, int b) {
  lua_getfield(L, inst, name);
  lua_pushinteger(L, a);
  if (b >= 0) lua_pushinteger(L, b);
  lua_call(L, b >= 0 ? 2 : 1, 0);
}

int luaopen_cjson(lua_State *L);

int luaopen_cdnctl_json(lua_State *L) {
  luaL_requiref(L, "cjson", luaopen_cjson, 0); /* cjson */
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);                       /* cjson inst: our own instance, untouched by scripts */
  int inst = lua_gettop(L);
  lua_getfield(L, inst, "decode_invalid_numbers");
  lua_pushboolean(L, 0);
  lua_call(L, 1, 0);
  lua_getfield(L, inst, "encode_invalid_numbers");
  lua_pushboolean(L, 0);
  lua_call(L, 1, 0);
  json_configure(L, inst, "decode_max_depth", JSON_MAX_DEPTH, -1);
  json_configure(L, inst, "encode_max_depth", JSON_MAX_DEPTH + 1, -1);
  lua_getfield(L, inst, "decode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &json_key_decode);

  lua_newtable(L);                         /* cjson inst M */
  lua_pushcfunction(L, json_lua_decode);
  lua_setfield(L, -2, "decode");
  lua_getfield(L, inst, "encode");
  lua_pushcclosure(L, json_lua_encode_php, 1);
  lua_setfield(L, -2, "encode_php");
  lua_pushcfunction(L, json_lua_encode);
  lua_setfield(L, -2, "encode");
  lua_getfield(L, inst, "null");
  lua_setfield(L, -2, "null");
  lua_pushlightuserdata(L, (void *)&json_empty_array);
  lua_setfield(L, -2, "empty_array");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_key_array_mt); /* one per state, whoever opens the module first */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "cdnctl.json.array");
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &json_key_array_mt);
  }
  lua_setfield(L, -2, "array_mt");
  return 1;
}
