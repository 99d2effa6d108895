/*
 * module.c: cdnctl as a Lua module (cdnctl.so) for Debian's stock lua5.4:
 *   local cdnctl = require "cdnctl"
 * gives cdnctl.shortpixel, cdnctl.easyio and cdnctl.parallel. The entry
 * point lives in host.c (luaopen_cdnctl); this file only makes sure the
 * module links it in.
 */
#include "host.h"

int (*const cdnctl_module_entry)(lua_State *) = luaopen_cdnctl;
