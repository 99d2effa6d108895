/*
 * http.c: the one request primitive, on libcurl's multi interface, as in
 * curl's docs/examples/10-at-a-time.c: one multi handle, transfers added,
 * the loop driven, the ended ones read with curl_multi_info_read.
 *
 *   http.start(req) -> t        a transfer, added to the multi handle
 *   http.poll([timeout]) -> {t...}, interrupted
 *                               drive the loop until a transfer ends, the
 *                               timeout passes, or a stop signal came
 *   t:result() -> resp | nil, err    (of an ended transfer)
 *   t:cancel()  (also __close)  abandon it; idempotent
 *   t:remaining() -> seconds before it times out
 *   http.max_host_connections([n]) -> previous cap of connections per host
 *
 * This file decides nothing about waiting: it never yields and never blocks
 * longer than one poll. lua/cdnctl/sched.lua decides whether a caller waits
 * (polls until its transfer ended) or yields to cdnctl.parallel. poll is
 * the only way Lua learns of a stop signal (host_interrupt_take).
 *
 * Ownership: the context (one multi handle) is a userdata in the registry
 * with __gc. Each transfer is a userdata "cdnctl.Transfer" owning its easy
 * handle, header list and buffers; while curl uses it, a registry reference
 * keeps it alive. http_release is the one place a transfer leaves curl;
 * __gc frees everything.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "host.h"
#include "version.h"

#define HTTP_TRANSFER_MT "cdnctl.Transfer"
#define HTTP_DEFAULT_MAX_BODY (16 * 1024 * 1024)

enum { HTTP_IDLE, HTTP_RUNNING, HTTP_DONE };

typedef struct http_ctx {
  CURLM *multi;
  int inflight;
  int debug;
  long max_host;                           /* CURLMOPT_MAX_HOST_CONNECTIONS */
} http_ctx;

typedef struct http_transfer {
  http_ctx *ctx;
  CURL *easy;
  struct curl_slist *req_headers;
  char *body; size_t body_len, body_cap, max_body;
  char *hdrs; size_t hdrs_len, hdrs_cap;   /* raw headers of the last response */
  char errbuf[CURL_ERROR_SIZE];
  char *secret;                            /* masked out of every message */
  char *method, *url;
  CURLcode result;
  long status;
  int state, too_big, interrupted;
  int ref;                                 /* LUA_NOREF unless curl holds it */
  double started, elapsed, timeout;        /* timeout: seconds, whole transfer */
  double wall_started;                     /* unix time of the start, for records (HAR) */
  curl_off_t tm[6];                        /* curl's timings in microseconds, see HTTP_TIMINGS */
  long http_version;                       /* CURL_HTTP_VERSION_* of the answer */
  long connects;                           /* connections curl opened for it */
  int sends;                               /* times the request went out (libcurl resends one
                                            * whose reused connection died before an answer) */
} http_transfer;

/* What http.start reads from its request table (strings live in it). */
typedef struct http_req {
  const char *method, *url, *body, *secret;
  size_t body_len;
  long timeout_ms, connect_timeout_ms;
  size_t max_body;
  int fresh_connect;
} http_req;

/* curl's cumulative timings (microseconds from the start), in t->tm order. */
static const CURLINFO HTTP_TIMING_INFO[6] = {
  CURLINFO_NAMELOOKUP_TIME_T, CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
  CURLINFO_PRETRANSFER_TIME_T, CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T};
static const char *const HTTP_TIMING_NAMES[6] = {
  "namelookup", "connect", "appconnect", "pretransfer", "starttransfer", "total"};

static const char http_key_ctx = 'c';

static double http_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static http_ctx *http_getctx(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &http_key_ctx);
  http_ctx *c = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return c;
}

/* Append to a growable buffer; 0 past max (the cap of response bodies). */
static int http_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n, size_t max) {
  if (*len + n > max) return 0;
  if (*len + n + 1 > *cap) {
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < *len + n + 1) ncap *= 2;
    char *nb = realloc(*buf, ncap);
    if (!nb) return 0;
    *buf = nb, *cap = ncap;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 1;
}

static size_t http_on_body(char *p, size_t size, size_t n, void *ud) {
  http_transfer *t = ud;
  if (!http_append(&t->body, &t->body_len, &t->body_cap, p, size * n, t->max_body)) {
    t->too_big = 1;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  return size * n;
}

static size_t http_on_header(char *p, size_t size, size_t n, void *ud) {
  http_transfer *t = ud;
  if (n * size >= 5 && memcmp(p, "HTTP/", 5) == 0) t->hdrs_len = 0; /* a new response */
  if (!http_append(&t->hdrs, &t->hdrs_len, &t->hdrs_cap, p, size * n, 256 * 1024)) return 0;
  return size * n;
}

/* The one release of a transfer: curl lets go of it if it still runs, its
 * easy handle and header list are freed at once (curl's buffers are tens of
 * kilobytes, and the userdata may wait long for the collector; connections
 * stay in the multi handle's cache), and the registry's hold on it is
 * dropped. What t:result() reads stays. Safe to call again. */
static void http_release(lua_State *L, http_transfer *t) {
  if (t->state == HTTP_RUNNING) {
    if (t->ctx && t->ctx->multi) curl_multi_remove_handle(t->ctx->multi, t->easy);
    if (t->ctx) t->ctx->inflight--;
    t->state = HTTP_DONE;
  }
  if (t->state == HTTP_DONE && t->easy) {
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
  }
  if (L && t->ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
    t->ref = LUA_NOREF;
  }
}

static void http_wipe_free(char *s) {
  if (!s) return;
  for (volatile char *p = s; *p; p++) *p = 0;
  free(s);
}

static int http_transfer_gc(lua_State *L) {
  http_transfer *t = luaL_checkudata(L, 1, HTTP_TRANSFER_MT);
  http_release(L, t);
  if (t->easy) curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->req_headers);
  free(t->body);
  free(t->hdrs);
  http_wipe_free(t->secret);
  http_wipe_free(t->url);
  free(t->method);
  t->easy = NULL, t->req_headers = NULL, t->body = t->hdrs = NULL;
  t->secret = t->url = t->method = NULL;
  return 0;
}

/* libcurl's own verbose output (CDNCTL_DEBUG=2): text and headers, each
 * line masked like everything else; bodies are never shown. */
static int http_on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *ud) {
  (void)e;
  http_transfer *t = ud;
  const char *tag = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_IN ? "<" :
                    type == CURLINFO_HEADER_OUT ? ">" : NULL;
  if (!tag) return 0;
  /* Mask the whole block before anything is cut: a key straddling a cut
   * would not match and its first characters would be printed. */
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *masked = redact_mask_dup(text, t->secret);
  free(text);
  if (!masked) return 0;
  for (char *p = masked, *nl; p && *p; p = nl ? nl + 1 : NULL) {
    nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    size_t len = strlen(p);
    if (len && p[len - 1] == '\r') p[len - 1] = '\0';
    if (*p) fprintf(stderr, "cdnctl: curl %s %s\n", tag, p);
  }
  free(masked);
  return 0;
}

/* CURLOPT_PREREQFUNCTION: the request is about to go out on a connection,
 * once per send; a second call is libcurl's own resend. */
static int http_on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                          int conn_local_port) {
  (void)conn_primary_ip; (void)conn_local_ip; (void)conn_primary_port; (void)conn_local_port;
  ((http_transfer *)ud)->sends++;
  return CURL_PREREQFUNC_OK;
}

/* A trace line for each send libcurl made beyond the first (their answers
 * never came: the reused connection died), so that the trace shows every
 * request the server may have received. */
static void http_trace_resends(http_transfer *t, const char *url) {
  for (int i = 1; i < t->sends; i++)
    fprintf(stderr, "cdnctl: %s %s -> no answer: the reused connection died; libcurl sent it again\n", t->method, url);
}

/* Print one trace line (CDNCTL_DEBUG): method, masked URL, status, time.
 * The URL and curl's message are masked before they are put together, so
 * no cut of a long line can leave part of a key behind. */
static void http_trace(http_transfer *t) {
  char *url = redact_mask_dup(t->url, t->secret);
  char *msg = redact_mask_dup(t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result), t->secret);
  if (url && msg) http_trace_resends(t, url);
  if (!url || !msg)
    fprintf(stderr, "cdnctl: (trace line lost: out of memory)\n");
  else if (t->interrupted)
    fprintf(stderr, "cdnctl: %s %s -> interrupted\n", t->method, url);
  else if (t->result != CURLE_OK)
    fprintf(stderr, "cdnctl: %s %s -> error: %s (%.1f ms)\n", t->method, url, msg, t->elapsed * 1000);
  else
    fprintf(stderr, "cdnctl: %s %s -> %ld (%.1f ms)\n", t->method, url, t->status, t->elapsed * 1000);
  free(url);
  free(msg);
}

/* Record how an ended transfer went, from curl. */
static void http_read_info(http_transfer *t, CURLcode result) {
  CURL *easy = t->easy;
  t->result = result;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &t->http_version);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &t->connects);
  for (int i = 0; i < 6; i++) curl_easy_getinfo(easy, HTTP_TIMING_INFO[i], &t->tm[i]);
  t->elapsed = http_now() - t->started;
}

/* Run curl, then read every ended transfer from it and append each to the
 * list at stack index list (n entries so far) -> the new count. */
static int http_collect(lua_State *L, http_ctx *c, int list, int n) {
  int running, left;
  curl_multi_perform(c->multi, &running);
  CURLMsg *m;
  while ((m = curl_multi_info_read(c->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    http_transfer *t = NULL;
    CURLcode result = m->data.result; /* m is dead after remove_handle */
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (!t) continue;
    http_read_info(t, result);
    if (c->debug) http_trace(t);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);             /* ... t */
    lua_rawseti(L, list, ++n);
    http_release(L, t);
  }
  return n;
}

/* Wait up to ms for activity on curl's sockets (or just sleep when nothing
 * is in flight). A signal ends the wait early, else the 100 ms slices of
 * http.poll bound how late it is seen. */
static void http_wait_ms(http_ctx *c, int ms) {
  if (c->inflight) {
    curl_multi_poll(c->multi, NULL, 0, ms, NULL);
  } else {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* http.poll([timeout]) -> {t...}, interrupted
 * Drives the loop until at least one transfer ended, timeout seconds passed
 * (without one: until something ends, at once when nothing is in flight),
 * or a stop signal (SIGINT, SIGTERM, SIGHUP) came since the last poll:
 * then interrupted is true, once per signal. */
static int http_lua_poll(lua_State *L) {
  http_ctx *c = http_getctx(L);
  double timeout = luaL_optnumber(L, 1, -1);
  double deadline = timeout >= 0 ? http_now() + timeout : -1;
  lua_settop(L, 1);
  lua_newtable(L);                                          /* timeout list */
  int n = 0, interrupted = 0;
  for (;;) {
    n = http_collect(L, c, 2, n);
    interrupted = host_interrupt_take();
    if (n > 0 || interrupted) break;
    if (deadline < 0 && c->inflight == 0) break;
    double left = deadline < 0 ? 0.1 : deadline - http_now();
    if (left <= 0) break;
    http_wait_ms(c, left >= 0.1 ? 100 : (int)(left * 1000) + 1);
  }
  lua_pushboolean(L, interrupted);
  return 2;
}

/* Set the fields that say when and how the transfer ran, on the table on
 * top: started_at (unix time, a float), timings {namelookup, connect,
 * appconnect, pretransfer, starttransfer, total} (curl's cumulative
 * microseconds; 0 for a phase that did not happen), http_version. */
static void http_push_timing(lua_State *L, http_transfer *t) {
  lua_pushnumber(L, t->wall_started);
  lua_setfield(L, -2, "started_at");
  lua_createtable(L, 0, 6);
  for (int i = 0; i < 6; i++) {
    lua_pushinteger(L, (lua_Integer)t->tm[i]);
    lua_setfield(L, -2, HTTP_TIMING_NAMES[i]);
  }
  lua_setfield(L, -2, "timings");
  const char *v = t->http_version == CURL_HTTP_VERSION_1_0 ? "HTTP/1.0"
                : t->http_version == CURL_HTTP_VERSION_2_0 ? "HTTP/2"
                : t->http_version == CURL_HTTP_VERSION_3 ? "HTTP/3" : "HTTP/1.1";
  lua_pushstring(L, v);
  lua_setfield(L, -2, "http_version");
  lua_pushinteger(L, t->connects);
  lua_setfield(L, -2, "connects");
  lua_pushinteger(L, t->sends);
  lua_setfield(L, -2, "sends");
}

/* Push the headers of the last response as a table, names in lower case. */
static void http_push_headers(lua_State *L, http_transfer *t) {
  lua_newtable(L);                                         /* headers */
  const char *p = t->hdrs, *end = t->hdrs ? t->hdrs + t->hdrs_len : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && memcmp(p, "HTTP/", 5) != 0) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (const char *k = p; k < colon; k++) luaL_addchar(&b, (char)((*k >= 'A' && *k <= 'Z') ? *k + 32 : *k));
      luaL_pushresult(&b);                                 /* headers name */
      const char *v = colon + 1, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
      lua_pushlstring(L, v, (size_t)(ve - v));             /* headers name value */
      lua_rawset(L, -3);
    }
    p = eol + 1;
  }
}

/* Push nil, {kind="transport", message, code, curl_code, started_at,
 * timings, http_version, connects, sends} for a failed or cancelled transfer. */
static int http_push_error(lua_State *L, http_transfer *t) {
  char msg[CURL_ERROR_SIZE + 64];
  const char *code = "transport";
  if (t->interrupted) {
    snprintf(msg, sizeof msg, "interrupted");
    code = "interrupted";
  } else if (t->too_big || t->result == CURLE_FILESIZE_EXCEEDED) {
    snprintf(msg, sizeof msg, "response body larger than %zu bytes", t->max_body);
    code = "too_big";
  } else {
    snprintf(msg, sizeof msg, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result));
    if (t->result == CURLE_OPERATION_TIMEDOUT) code = "timeout";
  }
  char *masked = redact_mask_dup(msg, t->secret);
  lua_pushnil(L);
  lua_createtable(L, 0, 7);
  http_push_timing(L, t);
  lua_pushstring(L, "transport");
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, masked ? masked : "transfer failed");
  lua_setfield(L, -2, "message");
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, (lua_Integer)t->result);
  lua_setfield(L, -2, "curl_code");
  free(masked);
  return 2;
}

/* t:result() -> {status, body, headers, time, started_at, timings, http_version, connects, sends}
 *             | nil, err (see http_push_error). Raises while t still runs. */
static int http_lua_result(lua_State *L) {
  http_transfer *t = luaL_checkudata(L, 1, HTTP_TRANSFER_MT);
  if (t->state != HTTP_DONE) return luaL_error(L, "http: result of a transfer that has not ended");
  if (t->result != CURLE_OK || t->interrupted) return http_push_error(L, t);
  lua_createtable(L, 0, 7);
  http_push_timing(L, t);
  lua_pushinteger(L, t->status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, t->body ? t->body : "", t->body_len);
  lua_setfield(L, -2, "body");
  lua_pushnumber(L, t->elapsed);
  lua_setfield(L, -2, "time");
  http_push_headers(L, t);
  lua_setfield(L, -2, "headers");
  return 1;
}

/* t:cancel() (and t's __close): abandon a transfer that still runs; it
 * ends as "interrupted". Nothing happens to one that ended. */
static int http_lua_cancel(lua_State *L) {
  http_transfer *t = luaL_checkudata(L, 1, HTTP_TRANSFER_MT);
  if (t->state != HTTP_RUNNING) return 0;
  t->interrupted = 1;
  t->elapsed = http_now() - t->started;
  http_release(L, t);
  if (t->ctx->debug) http_trace(t);
  return 0;
}

/* t:remaining() -> seconds until t times out (0 once ended) */
static int http_lua_remaining(lua_State *L) {
  http_transfer *t = luaL_checkudata(L, 1, HTTP_TRANSFER_MT);
  double left = t->state == HTTP_RUNNING ? t->started + t->timeout - http_now() : 0;
  lua_pushnumber(L, left > 0 ? left : 0);
  return 1;
}

/* Read an optional number field of the request table, in seconds, as
 * milliseconds: at least 1, since 0 means "no timeout" to libcurl. */
static long http_ms_field(lua_State *L, const char *name, double dflt) {
  lua_getfield(L, 1, name);
  double v = luaL_opt(L, luaL_checknumber, -1, dflt);
  lua_pop(L, 1);
  if (!(v >= 0.001 && v <= 86400)) luaL_error(L, "http.start: %s must be a number of seconds in [0.001, 86400]", name);
  long ms = (long)(v * 1000 + 0.5);
  return ms < 1 ? 1 : ms;
}

static const char *http_str_field(lua_State *L, const char *name, int required) {
  lua_getfield(L, 1, name);
  const char *s = lua_tostring(L, -1);
  if (!s && (required || !lua_isnil(L, -1)))
    luaL_error(L, "http.start: field '%s' must be a string", name);
  lua_pop(L, 1); /* the string stays alive in the request table */
  return s;
}

static char *http_strdup_or_raise(lua_State *L, const char *s) {
  char *d = strdup(s);
  if (!d) luaL_error(L, "not enough memory");
  return d;
}

/* Check the request table at 1 into r; raise on a bad field. */
static void http_read_req(lua_State *L, http_req *r) {
  r->method = http_str_field(L, "method", 0);
  r->url = http_str_field(L, "url", 1);
  r->body = http_str_field(L, "body", 0);
  lua_getfield(L, 1, "body");
  lua_tolstring(L, -1, &r->body_len);                      /* may hold NUL bytes */
  lua_pop(L, 1);
  r->secret = http_str_field(L, "secret", 0);
  if (!r->method) r->method = r->body ? "POST" : "GET";
  if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
    luaL_error(L, "http.start: method must be GET or POST, not '%s'", r->method);
  if (strncmp(r->url, "https://", 8) != 0 && strncmp(r->url, "http://", 7) != 0)
    luaL_error(L, "http.start: url must start with https:// or http://");
  r->timeout_ms = http_ms_field(L, "timeout", 60);
  r->connect_timeout_ms = http_ms_field(L, "connect_timeout", 10);
  lua_getfield(L, 1, "max_body");
  lua_Integer max_body = luaL_optinteger(L, -1, HTTP_DEFAULT_MAX_BODY);
  lua_pop(L, 1);
  if (max_body < 0) luaL_error(L, "http.start: max_body must not be negative");
  r->max_body = (size_t)max_body;
  lua_getfield(L, 1, "fresh_connect");
  r->fresh_connect = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

/* Push a new, idle transfer for r, with its easy handle; raises. */
static http_transfer *http_new_transfer(lua_State *L, http_ctx *c, const http_req *r) {
  http_transfer *t = lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  t->ref = LUA_NOREF;
  t->ctx = c;
  t->max_body = r->max_body;
  t->timeout = (double)r->timeout_ms / 1000;
  luaL_setmetatable(L, HTTP_TRANSFER_MT);
  t->method = http_strdup_or_raise(L, r->method);
  t->url = http_strdup_or_raise(L, r->url);
  if (r->secret) t->secret = http_strdup_or_raise(L, r->secret);
  t->easy = curl_easy_init();
  if (!t->easy) luaL_error(L, "http.start: cannot create a curl handle");
  return t;
}

/* The request table's headers (at 1) into t's header list; raises. */
static void http_add_headers(lua_State *L, http_transfer *t, int has_body) {
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *h = lua_tostring(L, -1);
      if (!h || strpbrk(h, "\r\n")) luaL_error(L, "http.start: header %d is not a single-line string", (int)i);
      struct curl_slist *nl = curl_slist_append(t->req_headers, h);
      if (!nl) luaL_error(L, "not enough memory");
      t->req_headers = nl;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (has_body) {
    struct curl_slist *nl = curl_slist_append(t->req_headers, "Expect:");
    if (!nl) luaL_error(L, "not enough memory");
    t->req_headers = nl;
  }
}

/* Set the easy handle's options for r. */
static void http_setopts(http_transfer *t, const http_req *r, int debug) {
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "cdnctl/" CDNCTL_VERSION);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, http_on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
  if (t->req_headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->req_headers);
  if (debug > 1) {
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, http_on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  }
  if (r->fresh_connect) {
    /* A request that must not be repeated: libcurl silently resends a request
     * whose reused connection died before any answer; on a fresh connection
     * that is not reused afterwards, it never does. */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  }
  if (strcmp(r->method, "POST") == 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body ? r->body : "");
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
}

/* http.start{method=, url=, headers={"Name: value"...}, body=, timeout=,
 *            connect_timeout=, max_body=, secret=, fresh_connect=} -> t
 * Adds the transfer to the multi handle; http.poll runs it. */
static int http_lua_start(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  http_ctx *c = http_getctx(L);
  http_req r;
  http_read_req(L, &r);
  http_transfer *t = http_new_transfer(L, c, &r);          /* req t */
  http_add_headers(L, t, r.body != NULL);
  http_setopts(t, &r, c->debug);
  t->started = http_now();
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  t->wall_started = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
  if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
    return luaL_error(L, "http.start: cannot start the transfer");
  t->state = HTTP_RUNNING;
  c->inflight++;
  lua_pushvalue(L, 2);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);                 /* curl's hold */
  return 1;
}

static int http_lua_now(lua_State *L) { lua_pushnumber(L, http_now()); return 1; }

/* http.max_host_connections([n]) -> previous: at most n connections to one
 * host at once (CURLMOPT_MAX_HOST_CONNECTIONS); the others queue. */
static int http_lua_max_host_connections(lua_State *L) {
  http_ctx *c = http_getctx(L);
  long prev = c->max_host;
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= 65536, 1, "must be in [1, 65536]");
    c->max_host = (long)n;
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c->max_host);
  }
  lua_pushinteger(L, prev);
  return 1;
}

/* http.debug([level]) -> level: 0 off, 1 one line per request, 2 also
 * libcurl's verbose output (masked). true means 1. */
static int http_lua_debug(lua_State *L) {
  http_ctx *c = http_getctx(L);
  if (lua_isboolean(L, 1)) c->debug = lua_toboolean(L, 1);
  else if (lua_isinteger(L, 1)) c->debug = (int)lua_tointeger(L, 1);
  if (lua_isnone(L, 1) || !lua_isnoneornil(L, 1)) {
    if (c->debug) lua_pushinteger(L, c->debug); else lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, 0);
  return 1;
}

static int http_ctx_gc(lua_State *L) {
  http_ctx *c = lua_touserdata(L, 1);
  if (c->multi) curl_multi_cleanup(c->multi); /* transfers were collected first (created later) */
  c->multi = NULL;
  return 0;
}

/* Create the context (once per state) and the transfers' metatable. */
static int http_open_ctx(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"result", http_lua_result}, {"cancel", http_lua_cancel}, {"remaining", http_lua_remaining},
    {NULL, NULL}};
  static int curl_ready;
  if (!curl_ready) { curl_global_init(CURL_GLOBAL_DEFAULT); curl_ready = 1; }
  http_ctx *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->multi = curl_multi_init();
  if (!c->multi) return luaL_error(L, "cannot create a curl multi handle");
  c->max_host = 256;
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c->max_host);
  lua_newtable(L);
  lua_pushcfunction(L, http_ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &http_key_ctx);
  luaL_newmetatable(L, HTTP_TRANSFER_MT);
  lua_pushcfunction(L, http_transfer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, http_lua_cancel);
  lua_setfield(L, -2, "__close");
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  return 0;
}

int luaopen_cdnctl_http(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"start", http_lua_start}, {"poll", http_lua_poll}, {"now", http_lua_now},
    {"debug", http_lua_debug}, {"max_host_connections", http_lua_max_host_connections},
    {NULL, NULL}};
  lua_rawgetp(L, LUA_REGISTRYINDEX, &http_key_ctx);
  int fresh = lua_isnil(L, -1);
  lua_pop(L, 1);
  if (fresh) http_open_ctx(L);
  luaL_newlib(L, funcs);
  return 1;
}
