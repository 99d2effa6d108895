/*
 * server.c: the sandbox's HTTP server (libmicrohttpd), as cdnctl.server.
 *
 * server.start{host=, port=, config=} starts one thread that creates its own
 * Lua state, loads the sandbox's rules (lua/cdnctl/sandbox/) and runs
 * libmicrohttpd in external-epoll mode, so every handler call happens on the
 * thread that created that state; the caller's state is never touched there.
 * Each complete request becomes one call of the Lua handler. Answers that
 * must wait (--latency) suspend their connection on a timer list instead of
 * blocking the thread. Limits keep hostile clients bounded: 8 KiB of
 * request head, 1 MiB of body, 30 s idle timeout, 1024 connections; from
 * 768 open connections on, idle ones are closed after 1 s (srv_balance), so
 * idle keep-alive clients cannot lock new ones out. C writes no answer body:
 * a request over the head or body limit is handed to the handler with
 * req.limit set ("head", "body"), which answers in the shape of the path's
 * service. (A head that does not fit SRV_MHD_POOL never reaches us:
 * libmicrohttpd refuses it with a 414 or 431 of its own, or closes.)
 *
 * Ownership: the Server userdata owns the server struct; its __gc (or :stop)
 * stops and joins the thread, which owns the daemon and the Lua state.
 * Each request's srv_req is created by the URI log callback and freed in the
 * completion callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "host.h"

#define SRV_MT "cdnctl.Server"
#define SRV_MAX_BODY (1024 * 1024)
#define SRV_MAX_DRAIN (4 * SRV_MAX_BODY) /* read (and dropped) past the limit before answering */
#define SRV_MAX_HEAD (8 * 1024) /* request line and headers (nginx allows 8 KiB lines) */
#define SRV_MHD_POOL (16 * 1024) /* libmicrohttpd's memory per connection: room for a head over
                                    SRV_MAX_HEAD, so that the rules answer it */
#define SRV_MAX_CONN 1024
#define SRV_IDLE_TIMEOUT 30               /* seconds without traffic before a connection is closed */
#define SRV_BUSY (SRV_MAX_CONN * 3 / 4)   /* from this many connections, idle ones get... */
#define SRV_BUSY_TIMEOUT 1                /* ...this timeout, */
#define SRV_CALM (SRV_MAX_CONN / 2)       /* until fewer than this many are open */

/* One open connection (MHD's socket context): the list lets the loop give
 * every connection a short idle timeout when the server is nearly full. */
typedef struct srv_conn {
  struct MHD_Connection *conn;
  struct srv_conn *prev, *next;
  int short_timeout;
} srv_conn;

typedef struct srv_req {
  char *uri;
  char *body; size_t len, cap;
  int started, answered, drop;
  int over;                        /* the body passed SRV_MAX_BODY: dropped, len only counts */
  lua_Integer durable;             /* a change (its number, 0: none): answered once flush() has saved it */
  int recall;                      /* the rules asked to be called again (later) at the due time */
  unsigned status;
  struct MHD_Response *resp;       /* answer held back while suspended */
  double due;
  struct MHD_Connection *conn;
  struct srv_req *next;            /* in the commit or the timer list while suspended */
  int suspended;
} srv_req;

typedef struct server {
  pthread_t thread;
  int running;
  struct MHD_Daemon *daemon;
  lua_State *L;                    /* the server thread's own state */
  int handler_ref, stop_ref, flush_ref;
  int wake[2];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int ready;                       /* 1 started, -1 failed */
  char err[512];
  int stop_failed;                 /* the rules' stop() said it could not save */
  char stop_err[512];
  char *config, *host, *source;
  int port;
  srv_req *timers;                 /* suspended requests, earliest first */
  srv_req *commits;                /* changes waiting for flush(), suspended */
  srv_conn *conns;                 /* open connections (owned: freed when MHD closes them) */
  unsigned nconns, nshort;         /* open, and of those with the short timeout */
  int pressed;                     /* 1 while idle connections get SRV_BUSY_TIMEOUT */
  int stopping;                    /* the loop has ended: requests waiting for a recall are closed */
} server;

static double srv_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *srv_uri_log(void *cls, const char *uri, struct MHD_Connection *con) {
  (void)cls;
  srv_req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->uri = strdup(uri ? uri : "");
  r->conn = con;
  if (!r->uri) { free(r); return NULL; }
  return r;
}

static void srv_list_remove(srv_req **list, srv_req *r) {
  for (srv_req **p = list; *p; p = &(*p)->next)
    if (*p == r) { *p = r->next; r->next = NULL; return; }
}

static void srv_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                          enum MHD_RequestTerminationCode toe) {
  (void)c, (void)toe;
  server *s = cls;
  srv_req *r = *req_cls;
  if (!r) return;
  srv_list_remove(&s->timers, r);
  srv_list_remove(&s->commits, r);
  if (r->resp) MHD_destroy_response(r->resp);
  free(r->uri);
  free(r->body);
  free(r);
  *req_cls = NULL;
}

/* MHD_OPTION_NOTIFY_CONNECTION: keeps the list of open connections. */
static void srv_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                            enum MHD_ConnectionNotificationCode code) {
  server *s = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    srv_conn *k = calloc(1, sizeof *k);
    *socket_context = k;
    if (!k) return;                       /* untracked: it keeps the normal timeout */
    k->conn = c;
    k->next = s->conns;
    if (s->conns) s->conns->prev = k;
    s->conns = k;
    s->nconns++;
    return;
  }
  srv_conn *k = *socket_context;
  if (!k) return;
  if (k->prev) k->prev->next = k->next; else s->conns = k->next;
  if (k->next) k->next->prev = k->prev;
  if (k->short_timeout) s->nshort--;
  s->nconns--;
  free(k);
  *socket_context = NULL;
}

/* Near the connection limit, clients' idle keep-alive connections must not
 * hold every slot (MHD stops accepting at the limit, and new clients would
 * wait in the backlog for the 30 s idle timeout): from SRV_BUSY connections
 * on, every connection gets a SRV_BUSY_TIMEOUT idle timeout (traffic resets
 * it, so busy ones stay), until fewer than SRV_CALM are open. Called between
 * MHD_run calls, never from MHD's callbacks. */
static void srv_balance(server *s) {
  int want = s->nconns >= SRV_BUSY ? 1 : s->nconns < SRV_CALM ? 0 : s->pressed;
  if (want == s->pressed && (!want || s->nshort == s->nconns)) return;
  s->pressed = want;
  for (srv_conn *k = s->conns; k; k = k->next) {
    if (k->short_timeout == want) continue;
    MHD_set_connection_option(k->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned int)(want ? SRV_BUSY_TIMEOUT : SRV_IDLE_TIMEOUT));
    k->short_timeout = want;
    if (want) s->nshort++; else s->nshort--;
  }
}

static enum MHD_Result srv_add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  lua_State *L = cls;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const char *k = key; *k; k++) luaL_addchar(&b, (char)((*k >= 'A' && *k <= 'Z') ? *k + 32 : *k));
  luaL_pushresult(&b);
  lua_pushstring(L, value ? value : "");
  lua_rawset(L, -3);
  return MHD_YES;
}

/* An answer without a body: when the rules gave none (their handler or
 * flush failed), only the status says what happened. */
static struct MHD_Response *srv_empty_response(void) {
  return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result srv_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp) {
  if (!resp) return MHD_NO;
  enum MHD_Result rc = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

/* Turn the answer at the top of L's stack, {status, body, headers,
 * delay, drop, durable, later}, into r's response (r->resp replaced); the
 * table stays on the stack. A delay moves r's due time; none leaves it.
 * later (seconds): not an answer yet; the handler is called again with
 * the same request (req.late = true) once they have passed. */
static void srv_take_answer(lua_State *L, srv_req *r) {
  lua_getfield(L, -1, "later");
  double later = lua_tonumber(L, -1);
  lua_pop(L, 1);
  r->recall = later > 0;
  if (r->recall) r->due = srv_now() + later;
  lua_getfield(L, -1, "durable");
  r->durable = lua_tointeger(L, -1);
  lua_getfield(L, -2, "drop");
  r->drop = lua_toboolean(L, -1);
  lua_getfield(L, -3, "status");
  r->status = (unsigned)luaL_optinteger(L, -1, 200);
  lua_getfield(L, -4, "delay");
  double delay = lua_tonumber(L, -1);
  lua_getfield(L, -5, "body");
  size_t blen = 0;
  const char *body = lua_tolstring(L, -1, &blen);
  if (r->resp) MHD_destroy_response(r->resp);
  r->resp = MHD_create_response_from_buffer(blen, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
  lua_pop(L, 5);
  lua_getfield(L, -1, "headers");
  if (r->resp && lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1))
        MHD_add_response_header(r->resp, lua_tostring(L, -2), lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (delay > 0) r->due = srv_now() + delay;
}

/* Build the request table {method, uri, body, headers [, limit]}, call the
 * Lua handler, and turn its answer into r's response. limit: the limit the
 * request broke ("head", "body"), for the rules to answer; NULL otherwise. */
static void srv_handle(server *s, struct MHD_Connection *c, srv_req *r, const char *method, const char *limit) {
  lua_State *L = s->L;
  int top = lua_gettop(L);
  lua_pushcfunction(L, host_msghandler);
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->handler_ref);
  lua_createtable(L, 0, 6);
  if (r->recall) {                             /* called again, as the answer's later asked */
    r->recall = 0, r->due = 0;
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "late");
  }
  lua_pushstring(L, method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->uri);
  lua_setfield(L, -2, "uri");
  lua_pushlstring(L, r->body && !limit ? r->body : "", limit ? 0 : r->len); /* over a limit: no body */
  lua_setfield(L, -2, "body");
  lua_newtable(L);
  MHD_get_connection_values(c, MHD_HEADER_KIND, srv_add_header, L);
  lua_setfield(L, -2, "headers");
  if (limit) {
    lua_pushstring(L, limit);
    lua_setfield(L, -2, "limit");
  }
  if (lua_pcall(L, 1, 1, top + 1) != LUA_OK || !lua_istable(L, -1)) {
    fprintf(stderr, "cdnctl sandbox: handler failed: %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "no answer");
    r->status = 500;
    r->resp = srv_empty_response();
  } else {
    srv_take_answer(L, r);
  }
  lua_settop(L, top);
}

/* Put r (suspended) in the timer list, which stays sorted by due time. */
static void srv_timer_insert(server *s, srv_req *r) {
  srv_req **p = &s->timers;
  while (*p && (*p)->due <= r->due) p = &(*p)->next;
  r->next = *p;
  *p = r;
}

/* Suspend r until its due time. */
static void srv_suspend(server *s, srv_req *r) {
  srv_timer_insert(s, r);
  r->suspended = 1;
  MHD_suspend_connection(r->conn);
}

/* Hold r's answer back until the next flush (srv_flush_commits). */
static void srv_wait_commit(server *s, srv_req *r) {
  r->next = s->commits;
  s->commits = r;
  r->suspended = 1;
  MHD_suspend_connection(r->conn);
}

/* When flush() failed, r's answer becomes the one the rules give for it
 * (answers[r->durable]: a 503 in its service's shape), or a 503 without a
 * body when they gave none; its latency stays, a "lost" fault does not. */
static void srv_unsaved(lua_State *L, int answers, srv_req *r) {
  lua_Integer id = r->durable;
  if (answers && lua_geti(L, answers, id) == LUA_TTABLE) {
    srv_take_answer(L, r);
  } else {
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = srv_empty_response();
    r->status = 503;
  }
  lua_pop(L, answers ? 1 : 0);
  r->drop = 0;
}

/* The changes answered in this round become durable together: the rules'
 * flush() writes their journal entries with one write and one sync (group
 * commit), then their answers go (or wait on for --latency); when flush()
 * fails (-> false, answers), each is answered 503 (srv_unsaved). Returns
 * how many connections were resumed. */
static int srv_flush_commits(server *s) {
  lua_State *L = s->L;
  int ok = 1, n = 0, answers = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->flush_ref);
  if (lua_isfunction(L, -1)) {
    if (host_docall(L, 0, 2) != LUA_OK) {
      ok = 0;
      fprintf(stderr, "cdnctl sandbox: flush failed: %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
    } else if (!lua_toboolean(L, -2)) {
      ok = 0;
      if (lua_istable(L, -1)) answers = lua_gettop(L);
    }
  }
  double now = srv_now();
  while (s->commits) {
    srv_req *r = s->commits;
    s->commits = r->next;
    r->next = NULL;
    if (!ok) srv_unsaved(L, answers, r);
    if (r->due > now) { srv_timer_insert(s, r); continue; }
    r->suspended = 0;
    MHD_resume_connection(r->conn);
    n++;
  }
  lua_settop(L, 0);
  return n;
}

/* MHD_get_connection_values iterator: adds a header line's size to *cls. */
static enum MHD_Result srv_count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  size_t *n = cls;
  *n += strlen(key) + (value ? strlen(value) : 0) + 4; /* "key: value\r\n" */
  return MHD_YES;
}

/* The limit a new request breaks before its body is read: "head" (request
 * line and headers over SRV_MAX_HEAD), "body" (a Content-Length over
 * SRV_MAX_BODY), or NULL. */
static const char *srv_early_limit(struct MHD_Connection *c, const srv_req *r, const char *method) {
  size_t head = strlen(method) + strlen(r->uri) + 12; /* "METHOD URI HTTP/1.1\r\n" */
  MHD_get_connection_values(c, MHD_HEADER_KIND, srv_count_header, &head);
  if (head > SRV_MAX_HEAD) return "head";
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > SRV_MAX_BODY) return "body";
  return NULL;
}

/* Keep n more bytes of r's body. Past SRV_MAX_BODY the body is dropped,
 * r->over set, and the rest only counted in r->len: the answer waits for
 * the end of the body (up to SRV_MAX_DRAIN), so that a client still
 * sending reads it instead of a reset. -> 1 | 0 no memory */
static int srv_take_upload(srv_req *r, const char *data, size_t n) {
  if (!r->over && r->len + n > SRV_MAX_BODY) {
    free(r->body);
    r->body = NULL, r->cap = 0, r->over = 1;
  }
  if (r->over) {
    r->len += n;
    return 1;
  }
  if (r->len + n + 1 > r->cap) {
    size_t ncap = r->cap ? r->cap : 4096;
    while (ncap < r->len + n + 1) ncap *= 2;
    char *nb = realloc(r->body, ncap);
    if (!nb) return 0;
    r->body = nb, r->cap = ncap;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  return 1;
}

/* r has its answer: send it now, or hold it back (a change until the
 * round's flush, a delayed one until it is due); a drop closes. */
static enum MHD_Result srv_answer(server *s, struct MHD_Connection *c, srv_req *r) {
  if (r->recall) {                            /* no answer yet: the handler again at the due time */
    srv_suspend(s, r);
    return MHD_YES;
  }
  r->answered = 1;
  if (r->durable) {
    srv_wait_commit(s, r);
    return MHD_YES;
  }
  if (r->due > 0) {
    srv_suspend(s, r);
    return MHD_YES;
  }
  if (r->drop) return MHD_NO;
  struct MHD_Response *resp = r->resp;
  r->resp = NULL;
  return srv_queue(c, r->status, resp);
}

/* MHD's access handler, called for the head, each piece of the body, the
 * end of the request, and again when a suspended request is resumed. */
static enum MHD_Result srv_access(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
  (void)url, (void)version;
  server *s = cls;
  srv_req *r = *req_cls;
  if (!r) return MHD_NO;
  if (r->recall) {                            /* resumed at the time its handler asked for */
    if (s->stopping) return MHD_NO;           /* stopping: closed, never carried out */
    srv_handle(s, c, r, method, NULL);
    return srv_answer(s, c, r);
  }
  if (r->answered) {                          /* resumed after its delay or its flush */
    if (r->drop) return MHD_NO;
    struct MHD_Response *resp = r->resp;
    r->resp = NULL;
    return srv_queue(c, r->status, resp);
  }
  const char *limit = NULL;
  if (!r->started) {
    r->started = 1;
    if (!(limit = srv_early_limit(c, r, method))) return MHD_YES;
  } else if (*upload_data_size) {
    if (!srv_take_upload(r, upload_data, *upload_data_size)) return MHD_NO;
    *upload_data_size = 0;
    if (!r->over || r->len <= SRV_MAX_DRAIN) return MHD_YES;
  }
  srv_handle(s, c, r, method, r->over ? "body" : limit);
  return srv_answer(s, c, r);
}

static void srv_ready(server *s, int state, const char *err) {
  pthread_mutex_lock(&s->mu);
  s->ready = state;
  if (err) snprintf(s->err, sizeof s->err, "%s", err);
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Create the thread's state and the handler: require("cdnctl.sandbox").new(config). */
static int srv_setup_lua(server *s) {
  lua_State *L = s->L = host_newstate();
  if (!L) { srv_ready(s, -1, "not enough memory"); return 0; }
  if (s->source) {                         /* a handler of the caller's own (test fixtures) */
    if (luaL_loadbufferx(L, s->source, strlen(s->source), "=server source", "t") != LUA_OK ||
        host_docall(L, 0, 1) != LUA_OK) { srv_ready(s, -1, lua_tostring(L, -1)); return 0; }
  } else {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cdnctl.sandbox");
    if (host_docall(L, 1, 1) != LUA_OK) { srv_ready(s, -1, lua_tostring(L, -1)); return 0; }
  }
  lua_getfield(L, -1, "new");
  lua_pushstring(L, s->config ? s->config : "{}");
  /* no traceback: new() refuses a configuration or a state in one line */
  if (lua_pcall(L, 1, 3, 0) != LUA_OK) { srv_ready(s, -1, luaL_tolstring(L, -1, NULL)); return 0; }
  if (!lua_isfunction(L, -3)) { srv_ready(s, -1, lua_isstring(L, -2) ? lua_tostring(L, -2) : "sandbox setup failed"); return 0; }
  s->flush_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  s->stop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  s->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  return 1;
}

/* Let the rules save their state: stop() -> true | nil, message. A failure
 * (or an error) is kept for Server:stop() to return. */
static void srv_call_stop(server *s) {
  lua_State *L = s->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->stop_ref);
  if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return; }
  if (host_docall(L, 0, 2) != LUA_OK || !lua_toboolean(L, -2)) { /* an error, or nil, message */
    s->stop_failed = 1;
    snprintf(s->stop_err, sizeof s->stop_err, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "stop failed");
  }
  lua_settop(L, 0);
}

/* SRV_MAX_CONN connections need more descriptors than a default soft limit
 * of 1024 allows: raise it (within the hard limit) to 4096. */
static void srv_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= 4096 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) { /* keep the limit there is */ }
}

/* The listening address from s->host and s->port into ss. -> 1 | 0 (not an address) */
static int srv_address(const server *s, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (strchr(s->host, ':')) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)s->port);
    return inet_pton(AF_INET6, s->host, &a6->sin6_addr) == 1;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  a4->sin_family = AF_INET;
  a4->sin_port = htons((uint16_t)s->port);
  return inet_pton(AF_INET, s->host, &a4->sin_addr) == 1;
}

/* Serve until the wake pipe is written: poll MHD's epoll descriptor with
 * the nearest timeout (MHD's or a delayed answer's), resume what is due,
 * run MHD, make the round's changes durable, keep idle connections in check. */
static void srv_loop(server *s, int epfd) {
  for (;;) {
    int timeout = 1000;
    MHD_UNSIGNED_LONG_LONG mt;
    if (MHD_get_timeout(s->daemon, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout) timeout = (int)mt;
    if (s->timers) {
      double left = (s->timers->due - srv_now()) * 1000;
      if (left < timeout) timeout = left <= 0 ? 0 : (int)left + 1;
    }
    struct pollfd fds[2] = {{epfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    poll(fds, 2, timeout);
    if (fds[1].revents) return;
    double now = srv_now();
    while (s->timers && s->timers->due <= now) {
      srv_req *r = s->timers;
      s->timers = r->next;
      r->next = NULL;
      r->suspended = 0;
      MHD_resume_connection(r->conn);
    }
    MHD_run(s->daemon);
    while (s->commits && srv_flush_commits(s) > 0) MHD_run(s->daemon); /* answers go; pipelined changes flush again */
    srv_balance(s);
  }
}

static void *srv_thread(void *arg) {
  server *s = arg;
  struct sockaddr_storage ss;
  if (!srv_setup_lua(s)) goto done;
  if (!srv_address(s, &ss)) { srv_ready(s, -1, "invalid listen address"); goto done; }
  srv_raise_nofile();
  unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | (strchr(s->host, ':') ? MHD_USE_IPv6 : 0);
  s->daemon = MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL, srv_access, s,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
      MHD_OPTION_URI_LOG_CALLBACK, srv_uri_log, s,
      MHD_OPTION_NOTIFY_COMPLETED, srv_completed, s,
      MHD_OPTION_NOTIFY_CONNECTION, srv_notify_conn, s,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SRV_IDLE_TIMEOUT,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SRV_MAX_CONN,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(SRV_MHD_POOL),
      MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
      MHD_OPTION_END);
  if (!s->daemon) {
    char msg[160];
    snprintf(msg, sizeof msg, "cannot listen on %s:%d: %s", s->host, s->port, strerror(errno));
    srv_ready(s, -1, msg);
    goto done;
  }
  const union MHD_DaemonInfo *pi = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (pi) s->port = pi->port;
  const union MHD_DaemonInfo *ei = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  srv_ready(s, 1, NULL);
  srv_loop(s, ei ? ei->epoll_fd : -1);
  s->stopping = 1;
  if (s->commits) srv_flush_commits(s);
  while (s->timers) {                         /* answer what is held back, then stop */
    srv_req *r = s->timers;
    s->timers = r->next;
    r->next = NULL;
    MHD_resume_connection(r->conn);
  }
  MHD_run(s->daemon);
  MHD_stop_daemon(s->daemon);
  s->daemon = NULL;
done:
  if (s->L) {
    if (s->ready == 1) srv_call_stop(s);
    lua_close(s->L);
    s->L = NULL;
  }
  return NULL;
}

static void srv_stop(server *s) {
  if (s->running) {
    ssize_t w = write(s->wake[1], "x", 1);
    (void)w;
    pthread_join(s->thread, NULL);
    s->running = 0;
  }
  if (s->wake[0] >= 0) { close(s->wake[0]); close(s->wake[1]); s->wake[0] = s->wake[1] = -1; }
  free(s->config); s->config = NULL;
  free(s->host); s->host = NULL;
  free(s->source); s->source = NULL;
}

static int srv_lua_gc(lua_State *L) {
  server *s = luaL_checkudata(L, 1, SRV_MT);
  srv_stop(s);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  return 0;
}

/* Server:stop() -> true | nil, message: stops serving, then the rules
 * save their state; the message says why it could not be saved. */
static int srv_lua_stop(lua_State *L) {
  server *s = luaL_checkudata(L, 1, SRV_MT);
  srv_stop(s);
  if (!s->stop_failed) { lua_pushboolean(L, 1); return 1; }
  lua_pushnil(L);
  lua_pushstring(L, s->stop_err);
  return 2;
}

static int srv_lua_port(lua_State *L) {
  server *s = luaL_checkudata(L, 1, SRV_MT);
  lua_pushinteger(L, s->port);
  return 1;
}

/* server.start{host="127.0.0.1", port=0, config=json [, source=lua]} -> Server | nil, message
 * source: a chunk returning a module with new(config) used instead of the
 * sandbox's rules (the tests' fixture servers). */
static int srv_lua_start(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "host");
  const char *host = luaL_optstring(L, -1, "127.0.0.1");
  lua_getfield(L, 1, "port");
  lua_Integer port = luaL_optinteger(L, -1, 0);
  lua_getfield(L, 1, "config");
  const char *config = luaL_optstring(L, -1, "{}");
  lua_getfield(L, 1, "source");
  const char *source = luaL_optstring(L, -1, NULL);
  if (port < 0 || port > 65535) return luaL_error(L, "server.start: port must be 0..65535");
  server *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  s->wake[0] = s->wake[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  luaL_setmetatable(L, SRV_MT);
  s->host = strdup(host);
  s->config = strdup(config);
  s->port = (int)port;
  s->source = source ? strdup(source) : NULL;
  if (!s->host || !s->config || (source && !s->source)) return luaL_error(L, "not enough memory");
  if (pipe(s->wake) != 0) return luaL_error(L, "server.start: pipe: %s", strerror(errno));
  if (pthread_create(&s->thread, NULL, srv_thread, s) != 0) return luaL_error(L, "server.start: cannot start a thread");
  s->running = 1;
  pthread_mutex_lock(&s->mu);
  while (s->ready == 0) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (s->ready < 0) {
    lua_pushnil(L);
    lua_pushstring(L, s->err);
    srv_stop(s);
    return 2;
  }
  return 1;
}

static volatile sig_atomic_t srv_terminated;
static void srv_on_term(int sig) { (void)sig; srv_terminated = 1; }

/* server.wait_signal(): block until SIGINT or SIGTERM (the standalone sandbox). */
static int srv_lua_wait_signal(lua_State *L) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = srv_on_term;
  sigaction(SIGTERM, &sa, NULL);
  while (!host_interrupt_take() && !srv_terminated) {
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  lua_pushstring(L, srv_terminated ? "SIGTERM" : host_stop_signal_name());
  srv_terminated = 0;
  return 1;
}

int luaopen_cdnctl_server(lua_State *L) {
  static const luaL_Reg meth[] = {{"stop", srv_lua_stop}, {"port", srv_lua_port}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"start", srv_lua_start}, {"wait_signal", srv_lua_wait_signal}, {NULL, NULL}};
  if (luaL_newmetatable(L, SRV_MT)) {
    lua_pushcfunction(L, srv_lua_gc);
    lua_setfield(L, -2, "__gc");
    luaL_newlib(L, meth);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
