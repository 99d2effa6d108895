/*
 * tcheck.h: the little harness of cdnctl's C unit tests (tests/c/).
 *
 * Each test file is a table of cases run by main(); every check prints one
 * line ("ok - what" or "FAIL - what: details (file:line)") and t_done()
 * closes with "N passed, N failed" and the exit status (1 on any failure).
 * Lua-facing code is tested through a state from host_newstate(), the one
 * the binary uses; every state is closed, so ASan's leak check stays quiet.
 */
#ifndef CDNCTL_TCHECK_H
#define CDNCTL_TCHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

static int t_passed, t_failed;

/* Record one check: ok is the verdict, what names it, the rest explains a failure. */
static inline void t_report(int ok, const char *file, int line, const char *what, const char *fmt, ...) {
  if (ok) {
    t_passed++;
    printf("ok - %s\n", what);
  } else {
    t_failed++;
    printf("FAIL - %s: ", what);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" (%s:%d)\n", file, line);
  }
  fflush(stdout);
}
#define T_OK(cond, what) t_report(!!(cond), __FILE__, __LINE__, (what), "%s is false", #cond)

/* Print s[0..len) as a C literal, so failures show bytes exactly. */
static inline void t_fputq(FILE *f, const char *s, size_t len) {
  if (!s) { fputs("(null)", f); return; }
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c >= 0x7F) fprintf(f, "\\x%02X", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* s escaped for a test name (C-style \xNN for bytes outside ASCII's printables). */
static inline const char *t_esc(char *buf, size_t size, const char *s) {
  size_t o = 0;
  for (; *s && o + 5 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c >= 0x7F) o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
    else buf[o++] = (char)c;
  }
  buf[o] = '\0';
  return buf;
}

/* Compare bytes exactly: got[0..glen) against want[0..wlen). */
static inline void t_bytes(const char *file, int line, const char *what,
                    const char *got, size_t glen, const char *want, size_t wlen) {
  int ok = got && want && glen == wlen && memcmp(got, want, glen) == 0;
  if (!got && !want) ok = 1;
  if (ok) { t_report(1, file, line, what, ""); return; }
  t_failed++;
  printf("FAIL - %s: expected ", what);
  t_fputq(stdout, want, wlen);
  printf(", got ");
  t_fputq(stdout, got, glen);
  printf(" (%s:%d)\n", file, line);
  fflush(stdout);
}
static inline size_t t_strlen(const char *s) { return s ? strlen(s) : 0; }
#define T_STR(got, want, what) \
  t_bytes(__FILE__, __LINE__, (what), (got), t_strlen(got), (want), t_strlen(want))
#define T_LSTR(got, glen, want, wlen, what) t_bytes(__FILE__, __LINE__, (what), (got), (glen), (want), (wlen))
#define T_INT(got, want, what) \
  t_report((long long)(got) == (long long)(want), __FILE__, __LINE__, (what), \
           "expected %lld, got %lld", (long long)(want), (long long)(got))

/* Run a Lua chunk in L with the values on the stack as its ... (nargs of
 * them); leaves its results (LUA_MULTRET) and returns their count, or -1
 * with the error message (traceback included) left on the stack. */
static inline int t_lua(lua_State *L, const char *code, int nargs) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, host_msghandler);
  lua_insert(L, base + 1);                          /* h args */
  if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") != LUA_OK) {
    lua_remove(L, base + 1);
    lua_settop(L, base);
    lua_pushfstring(L, "cannot load test chunk");
    return -1;
  }
  lua_insert(L, base + 2);                          /* h f args */
  int status = lua_pcall(L, nargs, LUA_MULTRET, base + 1);
  lua_remove(L, base + 1);
  return status == LUA_OK ? lua_gettop(L) - base : -1;
}

/* A fresh state from the host, or exit: a test without one cannot run. */
static inline lua_State *t_newstate(void) {
  lua_State *L = host_newstate();
  if (!L) { printf("FAIL - host_newstate returned NULL\n0 passed, 1 failed\n"); exit(1); }
  return L;
}

static inline int t_done(void) {
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}

#endif
