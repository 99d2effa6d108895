/*
 * fs.c: the few file operations Lua's io library lacks and cdnctl needs so
 * that no file is ever left half-written: atomic replacement (temporary
 * file, fsync, rename, fsync of the folder), fsync of an open file, opening an
 * output by the file-safety rules (fs.open_output), and an append-only
 * journal of whole, synced records (fs.journal: the sandbox's --state).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host.h"

static int fs_fail(lua_State *L, const char *what, const char *path) {
  int e = errno;
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(e));
  return 2;
}

/* fs.write_atomic(path, data [, mode]) -> true | nil, message
 * Readers see the old file or the new one, never a part. */
static int fs_lua_write_atomic(lua_State *L) {
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  mode_t mode = (mode_t)luaL_optinteger(L, 3, 0644);
  size_t plen = strlen(path);
  char *tmp = lua_newuserdatauv(L, plen + 16, 0); /* scratch owned by Lua */
  snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) return fs_fail(L, "cannot create a temporary file for", path);
  fchmod(fd, mode);
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { int e = errno; close(fd); unlink(tmp); errno = e; return fs_fail(L, "cannot write", path); }
    off += (size_t)n;
  }
  if (fsync(fd) != 0) { int e = errno; close(fd); unlink(tmp); errno = e; return fs_fail(L, "cannot fsync", path); }
  close(fd);
  if (rename(tmp, path) != 0) { int e = errno; unlink(tmp); errno = e; return fs_fail(L, "cannot rename into", path); }
  /* make the rename itself durable */
  char *dircopy = lua_newuserdatauv(L, plen + 1, 0);
  memcpy(dircopy, path, plen + 1);
  int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) { fsync(dfd); close(dfd); }
  lua_pushboolean(L, 1);
  return 1;
}

/* fs.fsync(file) -> true | nil, message: flush a Lua file handle to disk */
static int fs_lua_fsync(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (p->closef == NULL || p->f == NULL) return luaL_argerror(L, 1, "file is closed");
  if (fflush(p->f) != 0 || fsync(fileno(p->f)) != 0) return fs_fail(L, "cannot fsync", "file");
  lua_pushboolean(L, 1);
  return 1;
}

/* fs.stat(path) -> {mode = perms, size = n, type = "file"|"dir"|"other"} | nil, message */
static int fs_lua_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return fs_fail(L, "cannot stat", path);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, st.st_mode & 07777);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : "other");
  lua_setfield(L, -2, "type");
  return 1;
}

/* fs.mkdir_p(path [, mode]) -> true | nil, message */
static int fs_lua_mkdir_p(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
  char *p = lua_newuserdatauv(L, len + 1, 0);
  memcpy(p, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, mode) != 0 && errno != EEXIST) return fs_fail(L, "cannot create folder", p);
      p[i] = c;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* Closes a stream opened by fs.open_output (the io library's __close/__gc
 * call it through luaL_Stream.closef). */
static int fs_io_close(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  int res = fclose(p->f);
  return luaL_fileresult(L, res == 0, NULL);
}

/* fs.open_output(path) -> file, kind | nil, message
 * Opens a file that will hold secrets' neighbours (a HAR, a log) for writing,
 * by the file-safety rules: a symlink is followed; a character device
 * (/dev/null, /dev/stdout) or a FIFO is written in place (kind "stream": no
 * seeking), and so is whatever a name under /dev/ stands for (/dev/stdout
 * redirected to a file: appended to, as the shell's descriptor is); a
 * directory, socket or block device is refused; a regular file is created
 * or truncated with mode 0600 (kind "file"). The type is checked
 * again on the open descriptor, so a swap between stat and open is caught. */
static int fs_lua_open_output(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  int exists = stat(path, &st) == 0;
  if (!exists && errno != ENOENT) return fs_fail(L, "cannot stat", path);
  if (exists && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s is a %s, not a file", path,
                    S_ISDIR(st.st_mode) ? "directory" : S_ISSOCK(st.st_mode) ? "socket" : "block device or other special file");
    return 2;
  }
  /* /dev/stdout, /dev/fd/N: the shell's redirection decided already; append
   * to whatever it is, as the shell's own descriptor does. */
  int in_dev = exists && strncmp(path, "/dev/", 5) == 0;
  int regular = !in_dev && (!exists || S_ISREG(st.st_mode));
  int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | (regular ? O_CREAT | O_TRUNC : O_APPEND);
  int fd = open(path, flags, 0600);
  if (fd < 0) return fs_fail(L, "cannot open", path);
  if (fstat(fd, &st) != 0 || (regular ? !S_ISREG(st.st_mode)
                              : !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || (in_dev && S_ISREG(st.st_mode))))) {
    close(fd);
    lua_pushnil(L);
    lua_pushfstring(L, "%s changed type while being opened", path);
    return 2;
  }
  if (regular && fchmod(fd, 0600) != 0) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot chmod", path); }
  luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->closef = NULL; /* a closed file until fdopen succeeds */
  luaL_setmetatable(L, LUA_FILEHANDLE);
  p->f = fdopen(fd, "w");
  if (!p->f) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot open", path); }
  p->closef = fs_io_close;
  lua_pushstring(L, regular ? "file" : "stream");
  return 2;
}

/* A journal: an append-only file of whole records, each made durable
 * (fdatasync) before append returns. A record that cannot be written whole
 * is cut off again (ftruncate to the last good length), so the file is
 * always a sequence of whole records. Owned by its userdata
 * (cdnctl.Journal): close or __gc closes the descriptor. */
#define FS_JOURNAL_MT "cdnctl.Journal"
typedef struct fs_journal {
  int fd;
  off_t good;                    /* length of the whole records written */
} fs_journal;

static fs_journal *fs_check_journal(lua_State *L) {
  fs_journal *j = luaL_checkudata(L, 1, FS_JOURNAL_MT);
  if (j->fd < 0) luaL_argerror(L, 1, "journal is closed");
  return j;
}

/* fs.journal(path) -> Journal | nil, message: opens (creates, mode 0600)
 * an append-only regular file; anything else is refused. */
static int fs_lua_journal(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  fs_journal *j = lua_newuserdatauv(L, sizeof *j, 0);
  j->fd = -1;
  luaL_setmetatable(L, FS_JOURNAL_MT);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) return fs_fail(L, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    lua_pushnil(L);
    lua_pushfstring(L, "%s is not a regular file", path);
    return 2;
  }
  if (fchmod(fd, 0600) != 0) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot chmod", path); }
  j->fd = fd;
  j->good = st.st_size;
  return 1;
}

/* journal:append(data) -> true | nil, message: data written whole and
 * synced, or nothing of it left in the file. */
static int fs_journal_append(lua_State *L) {
  fs_journal *j = fs_check_journal(L);
  size_t len, off = 0;
  const char *data = luaL_checklstring(L, 2, &len);
  while (off < len) {
    ssize_t n = write(j->fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    off += (size_t)n;
  }
  if (off < len || fdatasync(j->fd) != 0) {
    int e = errno;
    if (ftruncate(j->fd, j->good) != 0) { /* the next open cuts a torn record: nothing more to do */ }
    errno = e;
    return fs_fail(L, "cannot write", "the journal");
  }
  j->good += (off_t)len;
  lua_pushboolean(L, 1);
  return 1;
}

/* journal:truncate() -> true | nil, message: empties the journal, durably. */
static int fs_journal_truncate(lua_State *L) {
  fs_journal *j = fs_check_journal(L);
  if (ftruncate(j->fd, 0) != 0 || fsync(j->fd) != 0) return fs_fail(L, "cannot truncate", "the journal");
  j->good = 0;
  lua_pushboolean(L, 1);
  return 1;
}

/* journal:close() (also __gc and __close): idempotent. */
static int fs_journal_close(lua_State *L) {
  fs_journal *j = luaL_checkudata(L, 1, FS_JOURNAL_MT);
  if (j->fd >= 0) { close(j->fd); j->fd = -1; }
  return 0;
}

/* fs.isatty(fd) -> boolean (0 stdin, 1 stdout, 2 stderr) */
static int fs_lua_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

int luaopen_cdnctl_fs(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"write_atomic", fs_lua_write_atomic}, {"fsync", fs_lua_fsync}, {"stat", fs_lua_stat},
    {"mkdir_p", fs_lua_mkdir_p}, {"isatty", fs_lua_isatty}, {"open_output", fs_lua_open_output},
    {"journal", fs_lua_journal}, {NULL, NULL}};
  static const luaL_Reg jmeth[] = {
    {"append", fs_journal_append}, {"truncate", fs_journal_truncate}, {"close", fs_journal_close},
    {NULL, NULL}};
  if (luaL_newmetatable(L, FS_JOURNAL_MT)) {
    lua_pushcfunction(L, fs_journal_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, fs_journal_close);
    lua_setfield(L, -2, "__close");
    luaL_newlib(L, jmeth);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
