/*
 * fs.c: the file operations Lua's io library lacks and cdnctl needs so that
 * no file is ever destroyed or left half-written. Every output a user names
 * (a script's results, reports and --json, --har, watch's --prometheus, the
 * sandbox's --state snapshot) goes through one set of rules
 * (fs.check_output, a cdnctl.Output):
 *   - a character device (/dev/null, a terminal) and a FIFO that has a
 *     reader are written in place; so is the regular file a descriptor's
 *     name stands for (/dev/stdout, /dev/fd/N redirected to a file: written
 *     through a duplicate of the descriptor, at the shell's offset);
 *   - a FIFO nobody reads, a socket, a block device, a directory, a file in
 *     a folder that does not exist or cannot be written: refused, before
 *     anything is written;
 *   - a regular file is replaced atomically (temporary file next to it,
 *     fsync, rename, fsync of the folder) and keeps its mode (and, for root,
 *     its owner); a new file gets the caller's mode (0644 by default);
 *   - a symbolic link is followed: its target is replaced, the link stays.
 * An input is opened here and told apart (fs.open_read: a directory is
 * refused by its caller); reading it within a cap is Lua's (script.read).
 * Also: fsync of an open file, stat, mkdir -p, isatty, the check of
 * stdout, a file under a non-blocking flock (journals of the scripts), and
 * an append-only journal of whole, synced records under the same lock
 * (fs.journal: the sandbox's --state). Writing a whole file is fs.check_output(path):replace(text).
 * The sandbox's --log is appended to with io.open and the prompt's history
 * written by readline: neither goes through these rules.
 */
#define _XOPEN_SOURCE 700 /* realpath, fchown, S_ISSOCK */
#define _DEFAULT_SOURCE    /* FIONREAD, gethostname */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "host.h"

static int fs_fail(lua_State *L, const char *what, const char *path) {
  int e = errno;
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(e));
  return 2;
}

/* fs.fsync(file) -> true | nil, message: flush a Lua file handle to disk */
static int fs_lua_fsync(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (p->closef == NULL || p->f == NULL) return luaL_argerror(L, 1, "file is closed");
  if (fflush(p->f) != 0 || fsync(fileno(p->f)) != 0) return fs_fail(L, "cannot fsync", "file");
  lua_pushboolean(L, 1);
  return 1;
}

/* The word fs.stat and fs.open_read give a file's type. */
static const char *fs_type_name(mode_t mode) {
  return S_ISREG(mode) ? "file" : S_ISDIR(mode) ? "dir" : "other";
}

/* fs.stat(path) -> {mode = perms, size = n, type = "file"|"dir"|"other",
 * device = is a character device, id = "dev:inode"} | nil, message */
static int fs_lua_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return fs_fail(L, "cannot stat", path);
  lua_createtable(L, 0, 5);
  lua_pushboolean(L, S_ISCHR(st.st_mode));
  lua_setfield(L, -2, "device");
  lua_pushfstring(L, "%I:%I", (lua_Integer)st.st_dev, (lua_Integer)st.st_ino);
  lua_setfield(L, -2, "id");
  lua_pushinteger(L, st.st_mode & 07777);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, fs_type_name(st.st_mode));
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

/* Takes an exclusive flock on fd without waiting. -> 0, or the number of
 * results pushed (fd closed): nil, "PATH is locked by another run",
 * "locked" when another process holds it; nil, message otherwise. */
static int fs_lock(lua_State *L, int fd, const char *path) {
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
  int e = errno;
  close(fd);
  if (e == EWOULDBLOCK) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s is locked by another run", path);
    lua_pushliteral(L, "locked");
    return 3;
  }
  errno = e;
  return fs_fail(L, "cannot lock", path);
}

/* Whether fd is still the file path names (not removed or replaced since
 * it was opened: a lock on a removed file guards nothing). */
static int fs_still_named(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
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

/* fs.journal(path) -> Journal | nil, message [, "locked"]: opens (creates,
 * mode 0600) an append-only regular file under an exclusive flock held
 * while the Journal is open; anything else is refused, and so is a file
 * another process holds ("locked"). */
static int fs_lua_journal(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  fs_journal *j = lua_newuserdatauv(L, sizeof *j, 0);
  j->fd = -1;
  luaL_setmetatable(L, FS_JOURNAL_MT);
  int fd = -1;
  for (int tries = 0; fd < 0; tries++) { /* the holder may remove the file as it lets go: lock the one named */
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) return fs_fail(L, "cannot open", path);
    int n = fs_lock(L, fd, path);
    if (n) return n;
    if (!fs_still_named(fd, path) && tries < 8) { close(fd); fd = -1; }
  }
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

/* ---- outputs ------------------------------------------------------------ */

#define OUTPUT_MT "cdnctl.Output"
enum { OUT_NEW, OUT_REGULAR, OUT_DEVICE, OUT_FIFO, OUT_DESCRIPTOR };
static const char *const out_kinds[] = {"new", "regular", "device", "fifo", "descriptor"};
#define OUT_STREAM(k) ((k) >= OUT_DEVICE) /* written in place through a held descriptor */

/* cdnctl.Output: an output path checked by the rules above. Owns fd: for a
 * stream kind, the descriptor opened by the check and held until written
 * (so a FIFO's reader is not lost in between), closed by :close()/__gc;
 * -1 otherwise. User value 1: the path as given; 2: the target, where a
 * file kind's write lands once links are followed; 3: the temporary file
 * out:begin writes into until out:commit renames it onto the target. */
typedef struct {
  int fd;
  int kind;
  mode_t mode; /* for a new file; for every file when force_mode */
  int force_mode;
} fs_Output;

/* Pushes nil and a message built like lua_pushfstring's; returns 2. */
static int fs_refuse(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushnil(L);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

/* Writes all of data to fd. -> 0, or -1 with errno set. */
static int fs_write_all(int fd, const char *data, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

/* The name path's write lands on once symbolic links are followed, into buf
 * (PATH_MAX): realpath when it exists; else the end of its chain of links
 * (40 at most) in its folder's real path. Nothing is created.
 * -> 0, or -1 with errno set (ENOENT: the folder does not exist). */
static int fs_resolve(const char *path, char *buf) {
  char cur[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX];
  if (realpath(path, buf)) return 0;
  if (errno != ENOENT) return -1;
  if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur) { errno = ENAMETOOLONG; return -1; }
  for (int hops = 0;; hops++) { /* a dangling link: follow it by hand */
    struct stat st;
    if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) break;
    if (hops == 40) { errno = ELOOP; return -1; }
    ssize_t n = readlink(cur, tmp, sizeof tmp - 1);
    if (n < 0) return -1;
    tmp[n] = '\0';
    memcpy(dir, cur, sizeof dir);
    if (tmp[0] != '/' && snprintf(cur, sizeof cur, "%s/%s", dirname(dir), tmp) >= (int)sizeof cur) {
      errno = ENAMETOOLONG;
      return -1;
    }
    if (tmp[0] == '/') memcpy(cur, tmp, sizeof cur);
  }
  memcpy(dir, cur, sizeof dir);
  memcpy(tmp, cur, sizeof tmp);
  const char *base = basename(tmp);
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0) { errno = EISDIR; return -1; }
  char real[PATH_MAX];
  if (!realpath(dirname(dir), real)) return -1;
  if (snprintf(buf, PATH_MAX, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

/* For a file kind: resolves the target, checks that its folder is a folder
 * cdnctl can write in, and stores the target as user value 2 of the Output
 * on the top. -> 1 (the Output) | 2 (nil, message). */
static int fs_output_target(lua_State *L, const char *path) {
  char target[PATH_MAX], dir[PATH_MAX];
  if (fs_resolve(path, target) != 0) {
    if (errno != ENOENT) return fs_fail(L, "cannot write", path);
    snprintf(dir, sizeof dir, "%s", path);
    return fs_refuse(L, "cannot write %s: the folder %s does not exist", path, dirname(dir));
  }
  memcpy(dir, target, sizeof dir);
  const char *folder = dirname(dir);
  struct stat st;
  if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) return fs_refuse(L, "cannot write %s: %s is not a folder", path, folder);
  if (access(folder, W_OK | X_OK) != 0) return fs_fail(L, "cannot write in the folder of", path);
  lua_pushstring(L, target);
  lua_setiuservalue(L, -2, 2);
  return 1;
}

/* The descriptor a name stands for (/dev/stdout 1, /dev/stderr 2,
 * /dev/fd/N and /proc/self/fd/N: N), or -1. Writing through a duplicate of
 * it shares the shell's offset: a redirected file gets the script's output
 * and this one in the order written, none over the other. */
static int fs_descriptor_number(const char *path) {
  static const char *const prefixes[] = {"/dev/fd/", "/proc/self/fd/"};
  if (strcmp(path, "/dev/stdout") == 0) return 1;
  if (strcmp(path, "/dev/stderr") == 0) return 2;
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(path, prefixes[i], n) == 0 && path[n] >= '0' && path[n] <= '9' && strlen(path + n) < 6
        && strspn(path + n, "0123456789") == strlen(path + n))
      return atoi(path + n);
  }
  return -1;
}

/* Opens path for writing without blocking; a FIFO nobody reads (ENXIO) is
 * tried again every 10 ms for FS_FIFO_WAIT_MS, so that a reader started
 * just before in the background (`cat fifo & cdnctl ...`) has time to open
 * it. -> the descriptor, or -1 with errno set. */
#define FS_FIFO_WAIT_MS 1000
static int fs_open_nonblock(const char *path) {
  for (int waited = 0;; waited += 10) {
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 || errno != ENXIO || waited >= FS_FIFO_WAIT_MS) return fd;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* For a stream kind: opens path for writing and holds the descriptor in the
 * Output on the top. A FIFO is opened without blocking: that fails (ENXIO)
 * when nobody reads it. The type is checked again on the descriptor, so a
 * swap between stat and open is caught. -> 1 | 2 (nil, message). */
static int fs_output_hold(lua_State *L, fs_Output *o, const char *path, const struct stat *was) {
  int n = o->kind == OUT_DESCRIPTOR ? fs_descriptor_number(path) : -1;
  int fd = n >= 0 ? fcntl(n, F_DUPFD_CLOEXEC, 3) : fs_open_nonblock(path);
  if (fd < 0 && errno == ENXIO && S_ISFIFO(was->st_mode))
    return fs_refuse(L, "%s is a FIFO that nobody reads (start its reader first)", path);
  if (fd < 0) return fs_fail(L, "cannot open", path);
  struct stat st;
  int flagsnow = fcntl(fd, F_GETFL);
  if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != (was->st_mode & S_IFMT) || flagsnow < 0
      || (n < 0 && fcntl(fd, F_SETFL, flagsnow & ~O_NONBLOCK) != 0)) {
    close(fd);
    return fs_refuse(L, "%s changed type while being opened", path);
  }
  o->fd = fd;
  return 1;
}

/* The kind of an existing path, or -1 with the refusal's words in *why. */
static int fs_kind_of(const char *path, const struct stat *st, const char **why) {
  if (S_ISCHR(st->st_mode)) return OUT_DEVICE;
  if (S_ISFIFO(st->st_mode)) return OUT_FIFO;
  if (S_ISREG(st->st_mode)) return fs_descriptor_number(path) >= 0 ? OUT_DESCRIPTOR : OUT_REGULAR;
  *why = S_ISDIR(st->st_mode) ? "a directory" : S_ISSOCK(st->st_mode) ? "a socket"
       : S_ISBLK(st->st_mode) ? "a block device" : "a special file";
  return -1;
}

/* fs.check_output(path [, mode [, force_mode]]) -> Output | nil, message
 * Classifies path by the output rules without writing anything; a refusal
 * is the message. mode (default 0644) is a new file's; with force_mode, every
 * file written gets it (a HAR: 0600). out.kind is "new", "regular",
 * "device", "fifo" or "descriptor"; out.path, out.target (file kinds). */
static int fs_lua_check_output(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0644) & 07777;
  int force = lua_toboolean(L, 3);
  if (*path == '\0') return fs_refuse(L, "an empty file name");
  struct stat st;
  int kind = OUT_NEW;
  const char *why = NULL;
  if (stat(path, &st) == 0) kind = fs_kind_of(path, &st, &why);
  else if (errno != ENOENT) return fs_fail(L, "cannot write", path);
  if (kind < 0) return fs_refuse(L, "%s is %s, not a file", path, why);
  fs_Output *o = lua_newuserdatauv(L, sizeof *o, 3);
  o->fd = -1;
  o->kind = kind;
  o->mode = mode;
  o->force_mode = force;
  luaL_setmetatable(L, OUTPUT_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  return OUT_STREAM(kind) ? fs_output_hold(L, o, path, &st) : fs_output_target(L, path);
}

/* This host's name, for the names of temporaries: a '/' (or nothing)
 * becomes something a file name can hold. */
static void fs_hostname(char *buf, size_t size) {
  if (gethostname(buf, size) != 0 || buf[0] == '\0') snprintf(buf, size, "localhost");
  buf[size - 1] = '\0';
  for (char *c = buf; *c; c++)
    if (*c == '/') *c = '_';
}

/* Removes the stale temporaries of target a killed run left next to it:
 * TARGET.tmp.HOST.PID.XXXXXX with HOST this host and PID a process that is
 * gone. Another host's, and a live process's, are left alone. */
static void fs_sweep_stale(const char *target, const char *hostname) {
  char dir[PATH_MAX], base[PATH_MAX], prefix[PATH_MAX], victim[PATH_MAX];
  memcpy(dir, target, strlen(target) + 1); /* target came from fs_resolve: < PATH_MAX */
  memcpy(base, target, strlen(target) + 1);
  const char *folder = dirname(dir), *name = basename(base);
  if (snprintf(prefix, sizeof prefix, "%s.tmp.%s.", name, hostname) >= (int)sizeof prefix) return;
  DIR *d = opendir(folder);
  if (!d) return;
  size_t plen = strlen(prefix);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strncmp(e->d_name, prefix, plen) != 0) continue;
    char *end;
    long pid = strtol(e->d_name + plen, &end, 10);
    if (end == e->d_name + plen || *end != '.' || strlen(end + 1) != 6 || pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    if (snprintf(victim, sizeof victim, "%s/%s", folder, e->d_name) < (int)sizeof victim && lstat(victim, &st) == 0
        && S_ISREG(st.st_mode))
      unlink(victim);
  }
  closedir(d);
}

/* Writes data into a new temporary file next to target (its name into tmp,
 * PATH_MAX), fsync'd, with target's mode and owner when target is a regular
 * file (unless o->force_mode), else o->mode. -> the open descriptor, or -1
 * with nil, message pushed. */
static int fs_atomic_begin(lua_State *L, const fs_Output *o, const char *target, const char *data, size_t len,
                           char *tmp) {
  struct stat st;
  int exists = lstat(target, &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    fs_refuse(L, "%s is no longer a regular file: not replaced", target);
    return -1;
  }
  char hostname[256];
  fs_hostname(hostname, sizeof hostname);
  fs_sweep_stale(target, hostname);
  if (snprintf(tmp, PATH_MAX, "%s.tmp.%s.%ld.XXXXXX", target, hostname, (long)getpid()) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    fs_fail(L, "cannot write", target);
    return -1;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) { fs_fail(L, "cannot create a temporary file for", target); return -1; }
  int owner = exists && geteuid() == 0 && (st.st_uid != 0 || st.st_gid != getegid());
  mode_t mode = exists && !o->force_mode ? (st.st_mode & 07777) : o->mode;
  if ((owner && fchown(fd, st.st_uid, st.st_gid) != 0) || fchmod(fd, mode) != 0
      || fs_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    errno = e;
    fs_fail(L, "cannot write", target);
    return -1;
  }
  return fd;
}

/* Renames tmp onto target, unless target became something else than a
 * regular file meanwhile, and makes the rename durable (fsync of the
 * folder). -> 0, or -1 with nil, message pushed (tmp removed). */
static int fs_atomic_commit(lua_State *L, const char *tmp, const char *target) {
  struct stat st;
  if (lstat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
    unlink(tmp);
    fs_refuse(L, "%s is no longer a regular file: not replaced", target);
    return -1;
  }
  if (rename(tmp, target) != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
    fs_fail(L, "cannot rename into", target);
    return -1;
  }
  char dir[PATH_MAX];
  memcpy(dir, target, strlen(target) + 1); /* target came from fs_resolve: < PATH_MAX */
  int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) { fsync(dfd); close(dfd); }
  return 0;
}

/* Closes a stream this file made (the io library's __close/__gc call it
 * through luaL_Stream.closef). */
static int fs_io_close(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  int res = fclose(p->f);
  return luaL_fileresult(L, res == 0, NULL);
}

/* Pushes a closed Lua file that fs_adopt gives a descriptor: created first,
 * so that a descriptor always has an owner, even if something raises. */
static luaL_Stream *fs_newfile(lua_State *L) {
  luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->closef = NULL; /* closed until fs_adopt succeeds */
  luaL_setmetatable(L, LUA_FILEHANDLE);
  return p;
}

/* Gives fd to the Lua file p. -> 0, or -1 (fd closed, errno set). */
static int fs_adopt(luaL_Stream *p, int fd, const char *how) {
  p->f = fdopen(fd, how);
  if (!p->f) { int e = errno; close(fd); errno = e; return -1; }
  p->closef = fs_io_close;
  return 0;
}

/* fs.open_locked(path [, truncate]) -> file | nil, message, "locked"
 * Opens path for appending (created with mode 0600; anything but a regular
 * file refused, without blocking on a FIFO) and takes an exclusive
 * flock on it without waiting: the lock lasts while the returned Lua file
 * is open (closing it, or the process ending, releases it). Another holder
 * gives nil, a message and "locked", so a second run can stop at once.
 * With truncate, the file is emptied once the lock is held. */
static int fs_lua_open_locked(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int truncate = lua_toboolean(L, 2);
  luaL_Stream *p = fs_newfile(L);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
  if (fd < 0) return fs_fail(L, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fs_refuse(L, "%s is not a regular file (a journal is one)", path);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot open", path); }
  int locked = fs_lock(L, fd, path);
  if (locked) return locked;
  if (truncate && ftruncate(fd, 0) != 0) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot empty", path); }
  if (fs_adopt(p, fd, "a") != 0) return fs_fail(L, "cannot open", path);
  return 1;
}

/* out:open([text]) -> file | nil, message. For an output written as it
 * goes (a HAR): a file kind is atomically replaced by text and the Lua file
 * writes on into it (positioned after text); a stream gets text, and the
 * Lua file takes over its descriptor. */
static int fs_output_open(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  size_t len = 0;
  const char *data = luaL_optlstring(L, 2, "", &len);
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, 1); /* 3: path */
  lua_getiuservalue(L, 1, 2); /* 4: target or nil */
  const char *path = lua_tostring(L, 3), *target = lua_tostring(L, 4);
  luaL_Stream *p = fs_newfile(L); /* 5 */
  int fd = o->fd;
  if (OUT_STREAM(o->kind)) {
    if (fd < 0) return fs_refuse(L, "%s was written already", path);
    o->fd = -1;
    fflush(stdout);
    if (fs_write_all(fd, data, len) != 0) { int e = errno; close(fd); errno = e; return fs_fail(L, "cannot write", path); }
  } else {
    char tmp[PATH_MAX];
    fd = fs_atomic_begin(L, o, target, data, len, tmp);
    if (fd < 0) return 2;
    if (fs_atomic_commit(L, tmp, target) != 0) { close(fd); return 2; }
  }
  if (fs_adopt(p, fd, "w") != 0) return fs_fail(L, "cannot open", path);
  lua_settop(L, 5);
  return 1;
}

/* out:begin() -> file | nil, message. For an output written as it goes and
 * put in place at the end (onboard's results): a file kind gets a temporary
 * file next to its target (the target's mode and owner, else the Output's
 * mode; this host's name and this pid in its name), which out:commit renames
 * onto the target; a stream is written in place. */
static int fs_output_begin(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  lua_settop(L, 1);
  if (OUT_STREAM(o->kind)) {
    lua_pushnil(L);
    return fs_output_open(L);
  }
  lua_getiuservalue(L, 1, 2); /* 2: target */
  luaL_Stream *p = fs_newfile(L); /* 3 */
  char tmp[PATH_MAX];
  int fd = fs_atomic_begin(L, o, lua_tostring(L, 2), "", 0, tmp);
  if (fd < 0) return 2;
  lua_pushstring(L, tmp);
  lua_setiuservalue(L, 1, 3);
  if (fs_adopt(p, fd, "w") != 0) { int e = errno; unlink(tmp); errno = e; return fs_fail(L, "cannot open", tmp); }
  lua_settop(L, 3);
  return 1;
}

/* out:commit(file [, abandon]) -> true | nil, message. Ends what out:begin
 * started: file flushed, checked for any failed write, fsync'd and closed;
 * a file kind's temporary then renamed onto the target (removed instead on
 * any failure, or with abandon). A write that failed (a full disk,
 * /dev/full) is the message. */
static int fs_output_commit(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  luaL_Stream *p = luaL_checkudata(L, 2, LUA_FILEHANDLE);
  int abandon = lua_toboolean(L, 3);
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, 1); /* 3: path */
  lua_getiuservalue(L, 1, 3); /* 4: the temporary, or nil */
  lua_getiuservalue(L, 1, 2); /* 5: the target, or nil */
  const char *path = lua_tostring(L, 3), *tmp = lua_tostring(L, 4);
  if (p->closef == NULL) return luaL_argerror(L, 2, "file is closed");
  errno = 0;
  int ok = fflush(p->f) == 0 && !ferror(p->f) && (OUT_STREAM(o->kind) || fsync(fileno(p->f)) == 0);
  int e = errno ? errno : EIO;
  ok = fclose(p->f) == 0 && ok;
  if (!ok && !errno) errno = e;
  e = errno;
  p->closef = NULL;
  if (!tmp) {
    if (!ok) { errno = e; return fs_fail(L, "cannot write", path); }
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 3);
  if (!ok || abandon) {
    unlink(tmp);
    if (abandon) { lua_pushboolean(L, 1); return 1; }
    errno = e;
    return fs_fail(L, "cannot write", path);
  }
  if (fs_atomic_commit(L, tmp, lua_tostring(L, 5)) != 0) return 2;
  lua_pushboolean(L, 1);
  return 1;
}

/* out:replace(text) -> true | nil, message: out:open(text), closed at once.
 * A file kind: atomically replaced (or created); a stream: text written in
 * place, then closed. */
static int fs_output_replace(lua_State *L) {
  luaL_checkstring(L, 2);
  if (fs_output_open(L) != 1) return 2;       /* 3: path, 5: file | nil, message */
  luaL_Stream *p = lua_touserdata(L, 5);
  int closed = fclose(p->f) == 0;
  p->closef = NULL;                            /* closed, as io.close leaves it */
  if (!closed) return fs_fail(L, "cannot write", lua_tostring(L, 3));
  lua_pushboolean(L, 1);
  return 1;
}

/* out:identity() -> "dev:inode" of what a write lands on, "new:TARGET" for
 * a file not created yet, or nil for a character device (outputs may share
 * one: nothing in it is replaced). Two outputs, or an output and an input,
 * with the same identity are the same file. */
static int fs_output_identity(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  struct stat st;
  if (o->kind == OUT_DEVICE) { lua_pushnil(L); return 1; }
  lua_getiuservalue(L, 1, OUT_STREAM(o->kind) ? 1 : 2);
  const char *name = lua_tostring(L, -1);
  if (o->fd >= 0 ? fstat(o->fd, &st) == 0 : stat(name, &st) == 0)
    lua_pushfstring(L, "%I:%I", (lua_Integer)st.st_dev, (lua_Integer)st.st_ino);
  else
    lua_pushfstring(L, "new:%s", name);
  return 1;
}

/* out:close() (also __gc, __close): lets go of a held stream. */
static int fs_output_close(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  if (o->fd >= 0) { close(o->fd); o->fd = -1; }
  return 0;
}

/* __index: out.kind, out.path, out.target, then the methods (upvalue 1). */
static int fs_output_index(lua_State *L) {
  fs_Output *o = luaL_checkudata(L, 1, OUTPUT_MT);
  const char *key = luaL_checkstring(L, 2);
  if (strcmp(key, "kind") == 0) lua_pushstring(L, out_kinds[o->kind]);
  else if (strcmp(key, "path") == 0) lua_getiuservalue(L, 1, 1);
  else if (strcmp(key, "target") == 0) lua_getiuservalue(L, 1, 2);
  else lua_getfield(L, lua_upvalueindex(1), key);
  return 1;
}

/* Waits up to grace_ms for a writer of the FIFO open (O_NONBLOCK) on fd:
 * bytes to read, or a writer holding it open (a read would block). A byte
 * the probe reads goes into *byte (-1: none). A stop signal ends the wait.
 * -> 0 a writer, 1 none within grace_ms, 2 a stop signal. */
static int fs_fifo_wait(int fd, long grace_ms, int *byte) {
  *byte = -1;
  for (long waited = 0;; waited += 10) {
    int avail = 0;
    unsigned char c;
    if (ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) return 0;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) { *byte = c; return 0; }
    if (n < 0 && errno != EINTR) return 0; /* EAGAIN: a writer, nothing written yet; else the reader sees it */
    if (host_interrupt_take()) return 2;
    if (waited >= grace_ms) return 1;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* fs.open_read(path [, grace_ms]) -> file, "file"|"dir"|"other", size
 *   | nil, "PATH: why" [, "nowriter"|"interrupted"]
 * Opens an input for reading (never as a controlling terminal, never
 * blocking in open) and says what it is, from the descriptor itself. A
 * FIFO (a named one, a pipe reopened through /dev/fd/N) needs a writer
 * within grace_ms (default 0: a first look only); a stop signal while
 * waiting gives "interrupted" (the caller disarms the Lua hook first).
 * Reading within a cap is Lua's (script.read in lua/cdnctl/kit/script.lua). */
static int fs_lua_open_read(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  long grace = (long)luaL_optinteger(L, 2, 0);
  luaL_Stream *p = fs_newfile(L); /* owns the descriptor */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  int byte = -1, waited = 0, flags = -1;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) waited = fs_fifo_wait(fd, grace, &byte);
  if (fd >= 0 && waited) {
    close(fd);
    lua_pushnil(L);
    lua_pushfstring(L, waited == 2 ? "%s: stopped while waiting for a writer of this FIFO"
                                   : "%s: a FIFO with no writer (nothing to read within %d s)", path, (int)(grace / 1000));
    lua_pushstring(L, waited == 2 ? "interrupted" : "nowriter");
    return 3;
  }
  if (fd >= 0) flags = fcntl(fd, F_GETFL);
  if (fd >= 0 && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)) { int e = errno; close(fd); errno = e; fd = -1; }
  if (fd < 0 || fs_adopt(p, fd, "rb") != 0 || fstat(fd, &st) != 0 || (byte >= 0 && ungetc(byte, p->f) == EOF)) {
    int e = errno;
    if (p->closef) { fclose(p->f); p->closef = NULL; }
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  lua_pushstring(L, fs_type_name(st.st_mode));
  lua_pushinteger(L, (lua_Integer)st.st_size);
  return 3;
}

/* fs.flush_stdout() -> true | nil, message: flushes standard output and
 * says whether any write to it failed (a full disk, a closed pipe). */
static int fs_lua_flush_stdout(lua_State *L) {
  errno = 0;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "cannot write to standard output: %s", e ? strerror(e) : "an earlier write failed");
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int luaopen_cdnctl_fs(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"check_output", fs_lua_check_output}, {"open_read", fs_lua_open_read},
    {"flush_stdout", fs_lua_flush_stdout}, {"fsync", fs_lua_fsync},
    {"stat", fs_lua_stat}, {"mkdir_p", fs_lua_mkdir_p}, {"isatty", fs_lua_isatty},
    {"open_locked", fs_lua_open_locked}, {"journal", fs_lua_journal}, {NULL, NULL}};
  static const luaL_Reg methods[] = {
    {"replace", fs_output_replace}, {"open", fs_output_open}, {"identity", fs_output_identity},
    {"begin", fs_output_begin}, {"commit", fs_output_commit},
    {"close", fs_output_close}, {NULL, NULL}};
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
  if (luaL_newmetatable(L, OUTPUT_MT)) {
    luaL_newlib(L, methods);                     /* mt methods */
    lua_pushcclosure(L, fs_output_index, 1);     /* mt __index */
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, fs_output_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, fs_output_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
