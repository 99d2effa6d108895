/*
 * jq.c: jq filters through Debian's libjq (1.6), for --jq EXPR.
 *
 *   jq.compile(expr)              -> filter | nil, message
 *   filter:run(json [, indent])   -> {output JSON text...} | nil, message
 *   filter:close()                   (also __gc and __close)
 *
 * A filter owns its jq_state (compiled once: libjq 1.6 compiles its
 * builtins with every program, tens of milliseconds), held by a userdata
 * whose __gc tears it down, so an error raised anywhere (out of memory)
 * leaks nothing. Messages
 * are libjq's (its compile errors are collected from its error callback;
 * runtime errors are the invalid value's message). Outputs are dumped with
 * their keys sorted, indented by two spaces when asked; libjq never escapes
 * '/'. libjq computes with doubles: integers above 2^53 lose precision
 * inside a filter. What to print, and how a string prints, is the caller's
 * (lua/cdnctl/front/output.lua).
 */
#include <stdlib.h>
#include <string.h>
#include <jq.h>
#include "host.h"

#define JQ_BOX "cdnctl.Jq"

/* One filter run: owned by its userdata; jq_box_release frees it all. */
typedef struct {
  jq_state *jq;   /* NULL once torn down */
  char *err;      /* libjq's messages, joined by newlines (malloc'd) */
  size_t errlen;
  jv cur;         /* the output being copied into Lua */
  int has_cur;
} jq_box;

static void jq_box_release(jq_box *b) {
  if (b->has_cur) jv_free(b->cur);
  b->has_cur = 0;
  if (b->jq) jq_teardown(&b->jq);
  b->jq = NULL;
  free(b->err);
  b->err = NULL;
  b->errlen = 0;
}

static int jq_box_gc(lua_State *L) {
  jq_box_release((jq_box *)luaL_checkudata(L, 1, JQ_BOX));
  return 0;
}

/* Append text to the box's messages (a message that finds no memory is
 * dropped: this runs inside libjq, where nothing may raise). */
static void jq_box_note(jq_box *b, const char *text) {
  size_t n = strlen(text);
  char *grown = realloc(b->err, b->errlen + n + 2);
  if (!grown) return;
  b->err = grown;
  if (b->errlen) b->err[b->errlen++] = '\n';
  memcpy(b->err + b->errlen, text, n + 1);
  b->errlen += n;
}

/* libjq's error callback: the message formatted as jq prints it. */
static void jq_on_error(void *data, jv msg) {
  jv text = jq_format_error(msg);   /* consumes msg */
  jq_box_note((jq_box *)data, jv_string_value(text));
  jv_free(text);
}

/* Push nil and the box's messages (or fallback), keep the box. -> 2 */
static int jq_result_fail(lua_State *L, jq_box *b, const char *fallback) {
  lua_pushnil(L);
  lua_pushstring(L, b->err ? b->err : fallback);
  return 2;
}

/* Push nil and the box's messages (or fallback), release the box. -> 2 */
static int jq_fail(lua_State *L, jq_box *b, const char *fallback) {
  jq_result_fail(L, b, fallback);
  jq_box_release(b);
  return 2;
}

/* jq.compile(expr) -> filter | nil, message: a new box on the stack with
 * expr compiled, or libjq's messages. */
static int jq_lua_compile(lua_State *L) {
  const char *expr = luaL_checkstring(L, 1);
  jq_box *b = (jq_box *)lua_newuserdatauv(L, sizeof *b, 0);  /* box */
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, JQ_BOX);
  b->jq = jq_init();
  if (!b->jq) return luaL_error(L, "jq: not enough memory");
  jq_set_error_cb(b->jq, jq_on_error, b);
  if (!jq_compile(b->jq, expr)) return jq_fail(L, b, "jq: compile error");
  return 1;
}

/* A runtime error's message (the invalid value v, consumed) into the box. */
static void jq_note_invalid(jq_box *b, jv v) {
  jv msg = jv_invalid_get_msg(v);
  if (jv_get_kind(msg) != JV_KIND_STRING) msg = jv_dump_string(msg, 0);  /* consumes msg */
  jv text = jv_string_fmt("jq: error: %s", jv_string_value(msg));
  jq_box_note(b, jv_string_value(text));
  jv_free(text);
  jv_free(msg);
}

/* The JSON text at index 2 parsed, or NULL with its message in the box. */
static int jq_parse_input(lua_State *L, jq_box *b, jv *input) {
  size_t len;
  const char *text = luaL_checklstring(L, 2, &len);
  if (len > 0x7fffffff) return luaL_argerror(L, 2, "too long for libjq");
  *input = jv_parse_sized(text, (int)len);
  if (jv_is_valid(*input)) return 1;
  jv msg = jv_invalid_get_msg(*input);
  jv note = jv_string_fmt("jq: input: %s", jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "not JSON");
  jq_box_note(b, jv_string_value(note));
  jv_free(note);
  jv_free(msg);
  return 0;
}

/* filter:run(json [, indent]) -> {output JSON text...} | nil, message.
 * The filter stays usable after an error: only its messages are cleared. */
static int jq_lua_run(lua_State *L) {
  jq_box *b = (jq_box *)luaL_checkudata(L, 1, JQ_BOX);
  int flags = JV_PRINT_SORTED | (lua_toboolean(L, 3) ? JV_PRINT_INDENT_FLAGS(2) : 0);
  if (!b->jq) return luaL_error(L, "jq: the filter is closed");
  free(b->err);
  b->err = NULL;
  b->errlen = 0;
  jv input;
  if (!jq_parse_input(L, b, &input)) return jq_result_fail(L, b, "jq: input is not JSON");
  jq_start(b->jq, input, 0);                          /* consumes input */
  lua_newtable(L);                                    /* outputs */
  lua_Integer n = 0;
  for (;;) {
    jv out = jq_next(b->jq);
    if (!jv_is_valid(out)) {
      if (!jv_invalid_has_msg(jv_copy(out))) { jv_free(out); break; }
      jq_note_invalid(b, out);
      return jq_result_fail(L, b, "jq: error");
    }
    b->cur = jv_dump_string(out, flags);              /* consumes out */
    b->has_cur = 1;
    lua_pushstring(L, jv_string_value(b->cur));       /* outputs text */
    jv_free(b->cur);
    b->has_cur = 0;
    lua_rawseti(L, -2, ++n);                          /* outputs */
  }
  return 1;
}

int luaopen_cdnctl_jq(lua_State *L) {
  static const luaL_Reg funcs[] = {{"compile", jq_lua_compile}, {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__gc", jq_box_gc}, {"__close", jq_box_gc}, {NULL, NULL}};
  static const luaL_Reg methods[] = {{"run", jq_lua_run}, {"close", jq_box_gc}, {NULL, NULL}};
  if (luaL_newmetatable(L, JQ_BOX)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
