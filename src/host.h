/*
 * host.h: the pieces of the cdnctl C host and how they meet.
 *
 * The host owns one Lua state per thread. Each C module offers a
 * luaopen_cdnctl_* function that registers a table of functions; host.c
 * puts those tables and the embedded Lua library into package.preload.
 */
#ifndef CDNCTL_HOST_H
#define CDNCTL_HOST_H

#include <stddef.h>
#include <signal.h>
#include <lua.h>
#include <lauxlib.h>

/* One embedded Lua module: generated into lua_modules.c by cmake/embed.cmake. */
struct host_module {
  const char *name;   /* module name, "cdnctl.ops" */
  const char *chunk;  /* chunk name for messages, "lua/cdnctl/ops.lua" */
  const char *src;
  size_t len;
};
extern const struct host_module host_modules[];

/* host.c */
lua_State *host_newstate(void);           /* NULL on out of memory */
void host_preload_all(lua_State *L);      /* every module into package.preload */
int luaopen_cdnctl(lua_State *L);         /* the Lua module cdnctl.so */
int host_msghandler(lua_State *L);        /* error object -> message + traceback */
int host_docall(lua_State *L, int narg, int nres);
void host_report(lua_State *L, int status, const char *progname);
int host_interrupt_take(void);           /* a stop signal came since the last take? */
void host_install_sigint(lua_State *L);
void host_restore_sigint(void);

/* Lua-facing modules (one per file). */
int luaopen_cdnctl_http(lua_State *L);    /* http.c: start, poll, now; t:result, t:cancel */
int luaopen_cdnctl_json(lua_State *L);    /* json.c: decode, encode with exact numbers */
int luaopen_cdnctl_codec(lua_State *L);   /* codec.c: IDNA, SHA-256 */
int luaopen_cdnctl_redact(lua_State *L);  /* redact.c: masking of secrets */
int luaopen_cdnctl_fs(lua_State *L);      /* fs.c: the output rules, capped reads, locks, journals */
int luaopen_cdnctl_server(lua_State *L);  /* server.c: the sandbox's HTTP server */
int luaopen_cdnctl_readline(lua_State *L);/* repl.c: readline, history, completion */
int luaopen_cdnctl_jq(lua_State *L);      /* jq.c: jq filters (libjq) for --jq */

/* json.c, for C callers (the server). Push the decoded value or return 0
 * with an error message pushed. */
int json_decode_exact(lua_State *L, const char *s, size_t len);

/* host.c: the name of the last stop signal handled (SIGINT, SIGTERM, SIGHUP). */
const char *host_stop_signal_name(void);

/* redact.c: registered secrets are masked in everything the host prints,
 * raw or encoded (%XX, '+', JSON escapes). Texts are byte strings. Adding
 * returns 0, or -1 past REDACT_MAX secrets, -2 out of memory. */
#define REDACT_MAX 65536
int redact_add_secret(const char *secret);
int redact_add_secretn(const char *secret, size_t len);
char *redact_mask_dup(const char *text, const char *extra_secret); /* malloc'd */
char *redact_mask_dupn(const char *text, size_t len, const char *extra, size_t elen,
                       size_t *outlen);                            /* malloc'd */
size_t redact_mask_into(const char *text, size_t len, const char *secret,
                        char *out, size_t outsz);
void redact_clear(void);

#endif
