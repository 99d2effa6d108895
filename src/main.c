/*
 * main.c: cdnctl's entry point, in the shape of lua.c: main() creates the
 * state and reports; pmain() runs under one lua_pcall and hands the
 * arguments to the Lua side (lua/cdnctl/front/main.lua), which owns the command
 * line, the REPL and the exit status (0 ok, 1 script error, 2 usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include "host.h"

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cdnctl.front.main");
  lua_call(L, 1, 1);                        /* main */
  lua_createtable(L, argc, 0);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_call(L, 1, 1);                        /* status */
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = host_newstate();
  if (!L) {
    fprintf(stderr, "cdnctl: cannot create the Lua state: not enough memory\n");
    return 1;
  }
  host_install_sigint(L);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = host_docall(L, 2, 1);
  int code = 1;
  if (status == LUA_OK) code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
  else host_report(L, status, "cdnctl");
  host_restore_sigint();
  lua_close(L);
  redact_clear();
  return code;
}
