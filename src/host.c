/*
 * host.c: the Lua state cdnctl runs in.
 *
 * host_newstate() opens the standard libraries and puts every module into
 * package.preload: the C ones (cdnctl.http, cdnctl.json, ...) and the Lua
 * library compiled in from lua/ (or read from CDNCTL_LUA_PATH while
 * developing). The message handler turns any error object into text with a
 * traceback, with every registered secret masked. SIGINT (SIGTERM, SIGHUP)
 * sets a flag, read only through host_interrupt_take (http.poll hands it to
 * Lua), and, while user code runs, a hook that raises "interrupted!" at a
 * safe point, as lua.c does.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <lualib.h>
#include "host.h"
#include "version.h"
#include "commit.h"

/* Set by a stop signal; read and cleared only through host_interrupt_take
 * (http.poll, the prompt's readline, the sandbox's wait) and the hook. */
static volatile sig_atomic_t host_interrupted;
static lua_State *host_mainL;          /* the state whose hook SIGINT may set (main thread only) */
static volatile sig_atomic_t host_hook_armed;
static volatile sig_atomic_t host_sigint_quit;  /* set: a SIGINT ends the process at once */
static volatile sig_atomic_t host_stop_signal;  /* the last of SIGINT, SIGTERM, SIGHUP handled, or 0 */

/* Whether a stop signal came since the last call: the one reader of the
 * flag the handler sets. */
int host_interrupt_take(void) {
  if (!host_interrupted) return 0;
  host_interrupted = 0;
  return 1;
}

/* Raise "interrupted!" at the next safe point (the hook lua.c uses). */
static void host_lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  host_interrupted = 0;
  luaL_error(L, "interrupted!");
}

/* SIGINT, SIGTERM, SIGHUP (docker stop, systemctl stop, timeout, a closed
 * SSH session): the first asks politely (stop starting work, finish what is
 * in flight, write the results), a second one before the first was seen (or
 * any, once host.sigint_quits is set) ends the process, as in lua.c. The
 * signal's number is kept: the exit status becomes 128 + it. */
static struct timespec host_signal_at;          /* when the last stop signal was handled */
static volatile sig_atomic_t host_signal_from;  /* and who sent it (0: the terminal, the kernel) */

static void host_on_sigint(int sig, siginfo_t *info, void *uc) {
  (void)uc;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (now.tv_sec - host_signal_at.tv_sec) * 1000L + (now.tv_nsec - host_signal_at.tv_nsec) / 1000000L;
  int from = (info && info->si_code == SI_USER) ? (int)info->si_pid : 0;
  /* The same signal from the same sending process again within 100 ms is
   * one event delivered twice (timeout signals its child, then its process
   * group), not a second press. */
  if (sig == host_stop_signal && from != 0 && from == host_signal_from && ms >= 0 && ms < 100) return;
  host_signal_at = now;
  host_signal_from = from;
  if (host_interrupted || host_sigint_quit) {
    signal(sig, SIG_DFL);
    raise(sig); /* delivered as the handler returns: killed by it, 128 + sig in a shell */
    return;
  }
  host_stop_signal = sig;
  host_interrupted = 1;
  if (host_hook_armed && host_mainL)
    lua_sethook(host_mainL, host_lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void host_install_sigint(lua_State *L) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = host_on_sigint;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  host_mainL = L;
}

void host_restore_sigint(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  host_mainL = NULL;
}

/* Turn the error object at 1 into a message with a traceback; secrets masked. */
int host_msghandler(lua_State *L) {
  if (lua_istable(L, 1)) {                 /* cdnctl.exit(n): passes through untouched */
    lua_getfield(L, 1, "exit_status");
    int is_exit = lua_isinteger(L, -1);
    lua_pop(L, 1);
    if (is_exit) return 1;
  }
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
    else msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  char *masked = redact_mask_dup(lua_tostring(L, -1), NULL);
  if (masked) { lua_pushstring(L, masked); free(masked); }
  return 1;
}

/* Call the function below narg arguments under the message handler. */
int host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, host_msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

void host_report(lua_State *L, int status, const char *progname) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  char *masked = redact_mask_dup(msg ? msg : "(error object is not a string)", NULL);
  fprintf(stderr, "%s: %s\n", progname, masked ? masked : "error");
  fflush(stderr);
  free(masked);
  lua_pop(L, 1);
}

/* host.pcall(f, ...) -> true, ... | false, message-with-traceback
 * Runs user code: Ctrl-C raises "interrupted!" inside it. */
static int host_lua_pcall(lua_State *L) {
  luaL_checkany(L, 1);
  int n = lua_gettop(L);
  int armed = host_hook_armed;
  if (L == host_mainL) host_hook_armed = 1;
  int status = host_docall(L, n - 1, LUA_MULTRET);
  host_hook_armed = armed;
  lua_sethook(L, NULL, 0, 0);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, 1);
  return lua_gettop(L);
}

/* host.arm(flag) -> previous: whether Ctrl-C raises inside Lua code. The
 * scheduler disarms it, so that a Ctrl-C lets in-flight work finish. */
static int host_lua_arm(lua_State *L) {
  int prev = host_hook_armed;
  host_hook_armed = lua_toboolean(L, 1) && L == host_mainL;
  if (!host_hook_armed) lua_sethook(L, NULL, 0, 0);
  lua_pushboolean(L, prev);
  return 1;
}

/* host.sigint_quits(flag) -> previous: while set, Ctrl-C ends the process
 * at once (the scheduler sets it after the first Ctrl-C). A press that came
 * before the flag was set, and was not seen yet, ends it now. */
static int host_lua_sigint_quits(lua_State *L) {
  int prev = host_sigint_quit;
  host_sigint_quit = lua_toboolean(L, 1);
  if (host_sigint_quit && host_interrupted) {
    fflush(stdout);
    fflush(stderr);
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
    _exit(130); /* not reached */
  }
  lua_pushboolean(L, prev);
  return 1;
}

/* host.ignore_sigpipe(flag) -> previous: while set, a write to a closed
 * pipe fails with EPIPE instead of ending the process, so that a create
 * whose output closed still sets its label and limits (keys.lua create). */
static int host_lua_ignore_sigpipe(lua_State *L) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = lua_toboolean(L, 1) ? SIG_IGN : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, &old);
  lua_pushboolean(L, old.sa_handler == SIG_IGN);
  return 1;
}

/* host.traceback(msg) -> msg with a traceback, secrets masked */
static int host_lua_traceback(lua_State *L) {
  lua_settop(L, 1);
  return host_msghandler(L);
}

/* host.no_core_dumps(): a process holding API keys leaves no core file. */
static int host_lua_no_core_dumps(lua_State *L) {
  struct rlimit rl = {0, 0};
  lua_pushboolean(L, setrlimit(RLIMIT_CORE, &rl) == 0);
  return 1;
}

/* host.exe() -> the running binary's path | nil, message (readlink of
 * /proc/self/exe: `cdnctl run` finds the ready scripts beside it). */
static int host_lua_exe(lua_State *L) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0 || n >= (ssize_t)sizeof buf - 1) {
    lua_pushnil(L);
    lua_pushliteral(L, "cannot read /proc/self/exe");
    return 2;
  }
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* The name of the last stop signal handled ("SIGINT" when none). */
const char *host_stop_signal_name(void) {
  return host_stop_signal == SIGTERM ? "SIGTERM" : host_stop_signal == SIGHUP ? "SIGHUP" : "SIGINT";
}

/* host.stop_signal() -> the number and name of the last stop signal
 * handled (SIGINT 2, SIGHUP 1, SIGTERM 15), or 0. */
static int host_lua_stop_signal(lua_State *L) {
  int sig = host_stop_signal;
  lua_pushinteger(L, sig);
  lua_pushstring(L, sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "");
  return 2;
}

/* host.pid() -> this process's id (cdnctl sandbox --env names it). */
static int host_lua_pid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static int host_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"pcall", host_lua_pcall}, {"arm", host_lua_arm}, {"sigint_quits", host_lua_sigint_quits},
    {"traceback", host_lua_traceback},
    {"no_core_dumps", host_lua_no_core_dumps}, {"exe", host_lua_exe}, {"pid", host_lua_pid},
    {"stop_signal", host_lua_stop_signal}, {"ignore_sigpipe", host_lua_ignore_sigpipe},
    {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_pushliteral(L, CDNCTL_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushliteral(L, CDNCTL_COMMIT); /* "" for a build without git */
  lua_setfield(L, -2, "commit");
  lua_newtable(L);
  for (const struct host_module *m = host_modules; m->name; m++) {
    lua_pushstring(L, m->name);
    lua_rawseti(L, -2, (lua_Integer)(m - host_modules) + 1);
  }
  lua_setfield(L, -2, "modules");
  return 1;
}

/* Loader of an embedded module: upvalue 1 is its index in host_modules.
 * With CDNCTL_LUA_PATH set, the file under that folder wins. */
static int host_load_embedded(lua_State *L) {
  const struct host_module *m = &host_modules[lua_tointeger(L, lua_upvalueindex(1))];
  const char *dir = getenv("CDNCTL_LUA_PATH");
  int status;
  if (dir && *dir) {
    const char *path = lua_pushfstring(L, "%s/%s", dir, m->chunk + 4); /* drop "lua/" */
    status = luaL_loadfilex(L, path, "t");
  } else {
    lua_pushfstring(L, "=%s", m->chunk);
    status = luaL_loadbufferx(L, m->src, m->len, lua_tostring(L, -1), "t");
  }
  if (status != LUA_OK) return lua_error(L);
  lua_pushstring(L, m->name);
  lua_call(L, 1, 1);
  return 1;
}

static void host_preload(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

/* Put every cdnctl module into package.preload of L. */
void host_preload_all(lua_State *L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");                       /* package preload */
  host_preload(L, "cdnctl.host", host_open);
  host_preload(L, "cdnctl.http", luaopen_cdnctl_http);
  host_preload(L, "cdnctl.json", luaopen_cdnctl_json);
  host_preload(L, "cdnctl.codec", luaopen_cdnctl_codec);
  host_preload(L, "cdnctl.redact", luaopen_cdnctl_redact);
  host_preload(L, "cdnctl.fs", luaopen_cdnctl_fs);
  host_preload(L, "cdnctl.server", luaopen_cdnctl_server);
  host_preload(L, "cdnctl.readline", luaopen_cdnctl_readline);
  host_preload(L, "cdnctl.jq", luaopen_cdnctl_jq);
  for (const struct host_module *m = host_modules; m->name; m++) {
    lua_pushinteger(L, (lua_Integer)(m - host_modules));
    lua_pushcclosure(L, host_load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 2);
}

lua_State *host_newstate(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  host_preload_all(L);
  return L;
}

/* require "cdnctl" from a stock Lua 5.4 (cdnctl.so): preload the modules
 * into the caller's state and return the library table. */
int luaopen_cdnctl(lua_State *L) {
  host_preload_all(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cdnctl");
  lua_call(L, 1, 1);
  return 1;
}
