/*
 * fuzz_common.h: what every libFuzzer harness of cdnctl shares.
 *
 * A harness keeps one Lua state for the whole run (host_newstate(), the
 * state the binary uses), loads a Lua chunk that returns a checking
 * function, and calls it on every input under lua_pcall. The function
 * returns nothing when every invariant holds, or a string naming the broken
 * one; a Lua error it did not expect is a finding too. Either aborts, so
 * libFuzzer saves the input.
 *
 * The Lua library is not instrumented (Debian's liblua5.4), so coverage of
 * the Lua code under test comes from a line hook: each (function, line)
 * pair after the previous one bumps a counter in libFuzzer's extra-counters
 * section, which it reads as coverage like its own.
 */
#ifndef CDNCTL_FUZZ_COMMON_H
#define CDNCTL_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define FUZZ_LUA_COUNTERS 16384
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t fuzz_lua_counters[FUZZ_LUA_COUNTERS];
static uintptr_t fuzz_prev_line;

/* Line hook: edge coverage of Lua code, keyed by the function's source
 * string (stable per chunk) and the line. */
static inline void fuzz_line_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  uintptr_t cur = ((uintptr_t)ar->source * 0x9E3779B1u) ^ ((uintptr_t)ar->currentline * 0x85EBCA77u);
  fuzz_lua_counters[(cur ^ fuzz_prev_line) % FUZZ_LUA_COUNTERS]++;
  fuzz_prev_line = cur >> 1;
}

/* A state with the hook on; aborts when there is no memory for one. */
static inline lua_State *fuzz_newstate(void) {
  lua_State *L = host_newstate();
  if (!L) { fprintf(stderr, "fuzz: host_newstate failed\n"); abort(); }
  lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0);
  return L;
}

/* Load code (a chunk returning one function) and keep that function in
 * the registry; returns its reference. A chunk that fails is a bug of
 * the harness: abort with the message. */
static inline int fuzz_load(lua_State *L, const char *name, const char *code) {
  lua_pushcfunction(L, host_msghandler);
  if (luaL_loadbufferx(L, code, strlen(code), name, "t") != LUA_OK ||
      lua_pcall(L, 0, 1, -2) != LUA_OK || !lua_isfunction(L, -1)) {
    fprintf(stderr, "fuzz: cannot set up %s: %s\n", name, lua_isstring(L, -1) ? lua_tostring(L, -1) : "not a function");
    abort();
  }
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return ref;
}

/* Print the input as a Lua string literal (for the report). */
static inline void fuzz_print_input(const uint8_t *data, size_t size) {
  fputs("input: \"", stderr);
  for (size_t i = 0; i < size && i < 512; i++) {
    unsigned c = data[i];
    if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
    else if (c >= 0x20 && c < 0x7F) fputc((int)c, stderr);
    else fprintf(stderr, "\\%03u", c);
  }
  fprintf(stderr, "\"%s\n", size > 512 ? " (cut)" : "");
}

/* Call the function of ref with the input as a string. A raised error or
 * a returned string is a finding: print it and abort. */
static inline void fuzz_call(lua_State *L, int ref, const char *what, const uint8_t *data, size_t size) {
  int top = lua_gettop(L);
  lua_pushcfunction(L, host_msghandler);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_pushlstring(L, (const char *)data, size);
  int status = lua_pcall(L, 1, 1, top + 1);
  if (status != LUA_OK || lua_type(L, -1) == LUA_TSTRING) {
    fprintf(stderr, "\n== %s: %s\n%s\n", what, status != LUA_OK ? "unexpected Lua error" : "invariant broken",
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)");
    fuzz_print_input(data, size);
    abort();
  }
  lua_settop(L, top);
}

#endif
