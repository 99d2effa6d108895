/*
 * repl.c: GNU readline for the prompt, as the cdnctl.readline module.
 *
 * The prompt's logic (what is complete, how values print, what completes)
 * is Lua (lua/cdnctl/front/prompt.lua); this file only owns the terminal. It uses
 * readline's callback interface in a select() loop, so that Ctrl-C, which
 * only sets the flag host_interrupt_take reads, drops the line cleanly without longjmp.
 * Completion calls a Lua function kept in the registry. Main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "host.h"

static const char repl_key_completer = 'c';
static lua_State *repl_L;      /* the state of the running prompt (main thread only) */
static char *repl_line;
static int repl_done;
static char **repl_cands;      /* candidates for the completion in progress */
static size_t repl_ncands, repl_next;

static void repl_on_line(char *line) {
  repl_line = line;
  repl_done = 1;
  rl_callback_handler_remove();
}

static void repl_free_cands(void) {
  for (size_t i = 0; i < repl_ncands; i++) free(repl_cands[i]);
  free(repl_cands);
  repl_cands = NULL;
  repl_ncands = repl_next = 0;
}

static char *repl_generator(const char *text, int state) {
  (void)text;
  if (state == 0) repl_next = 0;
  if (repl_next < repl_ncands) {
    char *c = repl_cands[repl_next];
    repl_cands[repl_next++] = NULL; /* readline frees what it is given */
    return c;
  }
  return NULL;
}

/* Ask the Lua completer for candidates: fn(text, line, start) -> {string...} */
static char **repl_complete(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1; /* no file names */
  lua_State *L = repl_L;
  if (!L) return NULL;
  repl_free_cands();
  lua_rawgetp(L, LUA_REGISTRYINDEX, &repl_key_completer);
  if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return NULL; }
  lua_pushstring(L, text);
  lua_pushstring(L, rl_line_buffer);
  lua_pushinteger(L, start);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK || !lua_istable(L, -1)) { lua_pop(L, 1); return NULL; }
  lua_Integer n = luaL_len(L, -1);
  if (n <= 0) { lua_pop(L, 1); return NULL; }
  repl_cands = calloc((size_t)n, sizeof *repl_cands);
  for (lua_Integer i = 1; repl_cands && i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *s = lua_tostring(L, -1);
    if (s) {
      char *d = strdup(s);
      if (d) repl_cands[repl_ncands++] = d;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  rl_completion_append_character = '\0';
  char **matches = rl_completion_matches(text, repl_generator); /* takes every candidate */
  repl_free_cands();
  return matches;
}

/* readline.readline(prompt) -> line | nil (end of input) | false (Ctrl-C) */
static int repl_lua_readline(lua_State *L) {
  const char *prompt = luaL_checkstring(L, 1);
  repl_L = L;
  repl_done = 0;
  repl_line = NULL;
  rl_callback_handler_install(prompt, repl_on_line);
  while (!repl_done) {
    if (host_interrupt_take()) {
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();
      fputs("^C\n", rl_outstream ? rl_outstream : stdout);
      lua_pushboolean(L, 0);
      return 1;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fileno(rl_instream ? rl_instream : stdin), &fds);
    struct timeval tv = {0, 200000};
    int r = select(fileno(rl_instream ? rl_instream : stdin) + 1, &fds, NULL, NULL, &tv);
    if (r < 0 && errno != EINTR) { rl_callback_handler_remove(); break; }
    if (r > 0) rl_callback_read_char();
  }
  if (!repl_line) { lua_pushnil(L); return 1; }
  lua_pushstring(L, repl_line);
  free(repl_line);
  repl_line = NULL;
  return 1;
}

/* readline.set_completer(fn) */
static int repl_lua_set_completer(lua_State *L) {
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &repl_key_completer);
  repl_L = L;
  return 0;
}

static int repl_lua_add_history(lua_State *L) {
  add_history(luaL_checkstring(L, 1));
  return 0;
}

/* readline.read_history(path) -> ok */
static int repl_lua_read_history(lua_State *L) {
  lua_pushboolean(L, read_history(luaL_checkstring(L, 1)) == 0);
  return 1;
}

/* readline.write_history(path [, max]) -> ok | nil, message. The file is
 * created with mode 0600 and kept so, since lines may hold secrets. */
static int repl_lua_write_history(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int max = (int)luaL_optinteger(L, 2, 1000);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  if (fd < 0) { lua_pushnil(L); lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno)); return 2; }
  fchmod(fd, 0600);
  close(fd);
  stifle_history(max);
  int rc = write_history(path);
  if (rc != 0) { lua_pushnil(L); lua_pushfstring(L, "cannot write %s: %s", path, strerror(rc)); return 2; }
  lua_pushboolean(L, 1);
  return 1;
}

/* readline.history_list() -> {line...}, the oldest first */
static int repl_lua_history_list(lua_State *L) {
  HIST_ENTRY **list = history_list();
  lua_newtable(L);
  for (int i = 0; list && list[i]; i++) {
    lua_pushstring(L, list[i]->line);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* readline.replace_history(i, line) -> ok: entry i (1 = the oldest)
 * becomes line, as when a key is masked after the fact. */
static int repl_lua_replace_history(lua_State *L) {
  lua_Integer i = luaL_checkinteger(L, 1);
  const char *line = luaL_checkstring(L, 2);
  HIST_ENTRY *old = i >= 1 && i <= history_length ? replace_history_entry((int)i - 1, line, NULL) : NULL;
  if (old) free_history_entry(old);
  lua_pushboolean(L, old != NULL);
  return 1;
}

static int repl_lua_clear_history(lua_State *L) {
  (void)L;
  clear_history();
  return 0;
}

int luaopen_cdnctl_readline(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"readline", repl_lua_readline}, {"set_completer", repl_lua_set_completer},
    {"add_history", repl_lua_add_history}, {"read_history", repl_lua_read_history},
    {"write_history", repl_lua_write_history}, {"clear_history", repl_lua_clear_history},
    {"history_list", repl_lua_history_list}, {"replace_history", repl_lua_replace_history},
    {NULL, NULL}};
  rl_readline_name = "cdnctl";
  rl_catch_signals = 0;
  rl_basic_word_break_characters = " \t\n\"\\'`><=;|&{(,+-*/%^~#[]";
  rl_attempted_completion_function = repl_complete;
  luaL_newlib(L, funcs);
  return 1;
}
