/*
 * tests/c/check.c: argument checks before any URL exists (lua/cdnctl/check.lua).
 *
 * Each checker returns the normalised value, or nil and a message that
 * starts with the argument's name and says why. Every class of bad input
 * check.lua names is refused here with its exact message; what passes is
 * safe to put in a URL path (escape() leaves it unchanged).
 */
#include "tcheck.h"

struct check_case {
  const char *fn;        /* domain, key, site_id, site_url, hosts */
  const char *args;      /* Lua expressions, the checker's arguments */
  const char *want;      /* tostring of the value (math.type prefix for numbers), or NULL */
  const char *want_err;  /* the message when nil is expected */
};

#define A63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct check_case cases[] = {
  /* domain: accepted and normalised */
  {"domain", "'example.com'", "example.com", NULL},
  {"domain", "'Example.COM'", "example.com", NULL},
  {"domain", "'https://www.Example.com/shop?x=1#top'", "www.example.com", NULL},
  {"domain", "'HTTP://x.com'", "x.com", NULL},
  {"domain", "'example.com.'", "example.com", NULL},
  {"domain", "'b\\u{FC}cher.de'", "xn--bcher-kva.de", NULL},
  {"domain", "'_acme.x-y.example.com'", "_acme.x-y.example.com", NULL},
  {"domain", "string.rep('a', 63) .. '.com'", A63 ".com", NULL},
  /* domain: refused, one class each */
  {"domain", "42", NULL, "domain: expected a string, got number"},
  {"domain", "nil", NULL, "domain: expected a string, got nil"},
  {"domain", "''", NULL, "domain: is empty"},
  {"domain", "'https:///path'", NULL, "domain: URL has no host"},
  {"domain", "'https://user@x.com/'", NULL, "domain: URL has user information ('@'); give the host alone"},
  {"domain", "'https://x.com:8080/'", NULL, "domain: URL has a port; give the host alone"},
  {"domain", "'exa mple.com'", NULL, "domain: contains a space in 'exa mple.com'"},
  {"domain", "'x.com/path'", NULL, "domain: contains '/' in 'x.com/path'"},
  {"domain", "'x.com?a'", NULL, "domain: contains '?' in 'x.com?a'"},
  {"domain", "'x.com#a'", NULL, "domain: contains '#' in 'x.com#a'"},
  {"domain", "'x%41.com'", NULL, "domain: contains '%' in 'x%41.com'"},
  {"domain", "'u@x.com'", NULL, "domain: contains '@' in 'u@x.com'"},
  {"domain", "'x\\\\y.com'", NULL, "domain: contains '\\' in 'x\\y.com'"},
  {"domain", "'x.com:80'", NULL, "domain: contains ':' in 'x.com:80'"},
  {"domain", "'x.com\\n'", NULL, "domain: contains a control character (0x0A) in 'x.com?'"},
  {"domain", "'x\\0.com'", NULL, "domain: contains a control character (0x00) in 'x?.com'"},
  {"domain", "'x\\127.com'", NULL, "domain: contains a control character (0x7F) in 'x?.com'"},
  {"domain", "'x..com'", NULL, "domain: contains an empty label ('..')"},
  {"domain", "'.x.com'", NULL, "domain: starts with a dot"},
  {"domain", "'localhost'", NULL, "domain: 'localhost' has no dot: a domain such as example.com is needed"},
  {"domain", "string.rep('a', 64) .. '.com'", NULL, "domain: label 'aaaaaaaaaaaaaaaaaaaa...' is longer than 63 characters"},
  {"domain", "string.rep('a.', 126) .. 'ab'", NULL, "domain: is longer than 253 characters"},
  {"domain", "'-x.com'", NULL, "domain: label '-x' starts or ends with a hyphen"},
  {"domain", "'x-.com'", NULL, "domain: label 'x-' starts or ends with a hyphen"},
  {"domain", "'a b', 'host'", NULL, "host: contains a space in 'a b'"},
  /* key */
  {"key", "'spDemoAgency00000001'", "spDemoAgency00000001", NULL},
  {"key", "string.rep('k', 256)", NULL, NULL}, /* accepted: checked by length below */
  {"key", "1", NULL, "key: expected a string, got number"},
  {"key", "''", NULL, "key: is empty"},
  {"key", "string.rep('k', 257)", NULL, "key: is longer than 256 characters"},
  {"key", "'ab/cd'", NULL, "key: contains '/', which an API key cannot contain"},
  {"key", "'ab?cd'", NULL, "key: contains '?', which an API key cannot contain"},
  {"key", "'ab#cd'", NULL, "key: contains '#', which an API key cannot contain"},
  {"key", "'ab&cd'", NULL, "key: contains '&', which an API key cannot contain"},
  {"key", "'ab=cd'", NULL, "key: contains '=', which an API key cannot contain"},
  {"key", "'ab+cd'", NULL, "key: contains '+', which an API key cannot contain"},
  {"key", "'ab%cd'", NULL, "key: contains '%', which an API key cannot contain"},
  {"key", "'ab\\\\cd'", NULL, "key: contains '\\', which an API key cannot contain"},
  {"key", "'ab cd'", NULL, "key: contains a space, which an API key cannot contain"},
  {"key", "'ab\\tcd'", NULL, "key: contains a control character (0x09), which an API key cannot contain"},
  {"key", "'ab\"cd'", NULL, "key: contains '\"', which an API key cannot contain"},
  {"key", "'ab<cd'", NULL, "key: contains '<', which an API key cannot contain"},
  {"key", "'abc\\u{E9}'", NULL, "key: contains '\xC3', which an API key cannot contain"},
  {"key", "'x/y', 'opts.key'", NULL, "opts.key: contains '/', which an API key cannot contain"},
  {"key", "'ab:cd'", NULL, "key: contains ':', which an API key cannot contain"},
  {"key", "'ab@cd'", NULL, "key: contains '@', which an API key cannot contain"},
  {"key", "'ab!cd'", NULL, "key: contains '!', which an API key cannot contain"},
  {"key", "'ab*cd'", NULL, "key: contains '*', which an API key cannot contain"},
  {"key", "'ab(cd'", NULL, "key: contains '(', which an API key cannot contain"},
  {"key", "'ab)cd'", NULL, "key: contains ')', which an API key cannot contain"},
  {"key", "'ab;cd'", NULL, "key: contains ';', which an API key cannot contain"},
  {"key", "'ab,cd'", NULL, "key: contains ',', which an API key cannot contain"},
  {"key", "'ab$cd'", NULL, "key: contains '$', which an API key cannot contain"},
  {"key", "'ab[cd'", NULL, "key: contains '[', which an API key cannot contain"},
  {"key", "'ab]cd'", NULL, "key: contains ']', which an API key cannot contain"},
  {"key", "'ab{cd'", NULL, "key: contains '{', which an API key cannot contain"},
  {"key", "'ab}cd'", NULL, "key: contains '}', which an API key cannot contain"},
  {"key", "'ab|cd'", NULL, "key: contains '|', which an API key cannot contain"},
  {"key", "'ab^cd'", NULL, "key: contains '^', which an API key cannot contain"},
  {"key", "'ab`cd'", NULL, "key: contains '`', which an API key cannot contain"},
  {"key", "\"ab'cd\"", NULL, "key: contains ''', which an API key cannot contain"},
  {"key", "'aZ09-_.~'", "aZ09-_.~", NULL}, /* letters, digits and - _ . ~ travel unchanged */
  /* site_id */
  {"site_id", "5", "integer 5", NULL},
  {"site_id", "'42'", "integer 42", NULL},
  {"site_id", "3.0", "integer 3", NULL},
  {"site_id", "math.maxinteger", "integer 9223372036854775807", NULL},
  {"site_id", "0", NULL, "site_id: must be a positive integer, got 0"},
  {"site_id", "-1", NULL, "site_id: must be a positive integer, got -1"},
  {"site_id", "1.5", NULL, "site_id: must be a positive integer, got 1.5"},
  {"site_id", "'0'", NULL, "site_id: must be a positive integer, got '0'"},
  {"site_id", "'abc'", NULL, "site_id: must be a positive integer, got 'abc'"},
  {"site_id", "' 7'", NULL, "site_id: must be a positive integer, got ' 7'"},
  {"site_id", "'1234567890123456'", NULL, "site_id: must be a positive integer, got '1234567890123456'"},
  {"site_id", "2^53", NULL, "site_id: must be a positive integer, got 9.007199254741e+15"},
  {"site_id", "nil", NULL, "site_id: must be a positive integer, got nil"},
  {"site_id", "{}, 'id'", NULL, "id: must be a positive integer, got table: 0x"}, /* a prefix: the address varies */
  /* site_url */
  {"site_url", "'example.com'", "https://example.com/", NULL},
  {"site_url", "'HTTP://Example.com:8080/wp'", "http://example.com:8080/wp/", NULL},
  {"site_url", "'https://x.com/a%20b/'", "https://x.com/a%20b/", NULL},
  {"site_url", "''", NULL, "site_url: is empty"},
  {"site_url", "5", NULL, "site_url: expected a string, got number"},
  {"site_url", "'https://x.com/a b'", NULL, "site_url: contains a space"},
  {"site_url", "'https://x.com/\\1'", NULL, "site_url: contains a control character (0x01)"},
  {"site_url", "'https://x.com/<'", NULL, "site_url: contains '<'"},
  {"site_url", "'https://x.com/?q=1'", NULL, "site_url: must not have a query or fragment"},
  {"site_url", "'https://x.com/#f'", NULL, "site_url: must not have a query or fragment"},
  {"site_url", "'https://u@x.com/'", NULL, "site_url: must not contain user information ('@')"},
  {"site_url", "'https://x.com/../'", NULL, "site_url: path has '..' or an empty segment"},
  {"site_url", "'https://x.com//a'", NULL, "site_url: path has '..' or an empty segment"},
  {"site_url", "'https://x.com/a%zz'", NULL, "site_url: path has a stray '%'"},
  {"site_url", "'https://x..com/'", NULL, "site_url: contains an empty label ('..')"},
  {"site_url", "'https://localhost/'", NULL, "site_url: 'localhost' has no dot: a domain such as example.com is needed"},
  /* hosts: apex and www */
  {"hosts", "'www.Example.com'", "example.com www.example.com", NULL},
  {"hosts", "'example.co.uk'", "example.co.uk www.example.co.uk", NULL},
  {"hosts", "'x y'", NULL, "domain: contains a space in 'x y'"},
};

/* Call check[fn](args) and describe its answer as one string:
 * "ok <value>" (numbers as "<math.type> <value>", lists joined by spaces)
 * or "err <message>" for nil, message. */
static const char *describe =
  "local fn, args = ... "
  "local f = assert(load('return ' .. args)) "
  "local v, err = require('cdnctl.check')[fn](f()) "
  "if v == nil then return 'err ' .. tostring(err) end "
  "if type(v) == 'number' then return 'ok ' .. math.type(v) .. ' ' .. tostring(v) end "
  "if type(v) == 'table' then return 'ok ' .. table.concat(v, ' ') end "
  "return 'ok ' .. v";

static void test_cases(lua_State *L) {
  char what[400], want[400], esc[300];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct check_case *c = &cases[i];
    snprintf(what, sizeof what, "check.%s(%s) %s", c->fn, t_esc(esc, sizeof esc, c->args),
             c->want_err ? "is refused" : "passes");
    lua_pushstring(L, c->fn);
    lua_pushstring(L, c->args);
    int n = t_lua(L, describe, 2);
    const char *got = lua_tostring(L, -1);
    if (n < 0) {
      t_report(0, __FILE__, __LINE__, what, "raised: %s", got);
    } else if (c->want) {
      snprintf(want, sizeof want, "ok %s", c->want);
      T_STR(got, want, what);
    } else if (c->want_err && strstr(c->want_err, "got table: 0x")) {
      snprintf(want, sizeof want, "err %s", c->want_err);
      t_report(got && strncmp(got, want, strlen(want)) == 0, __FILE__, __LINE__, what,
               "expected \"%s...\", got \"%s\"", want, got ? got : "(null)");
    } else if (c->want_err) {
      snprintf(want, sizeof want, "err %s", c->want_err);
      T_STR(got, want, what);
    } else {                                  /* a 256-character key passes unchanged */
      T_INT(got && strncmp(got, "ok kkkk", 7) == 0 ? strlen(got) : 0, 3 + 256, what);
    }
    lua_settop(L, 0);
  }
}

/* Everything domain() accepts is a safe URL path segment: escape() leaves
 * it unchanged, and it never holds a character a URL gives meaning to. */
static void test_domain_is_url_safe(lua_State *L) {
  static const char *code =
    "local check, percent = require 'cdnctl.check', require 'cdnctl.percent' "
    "local inputs = {'example.com', 'WWW.EXAMPLE.COM', 'https://a.b.c.example.com:443/x', "
    "  'b\\u{FC}cher.de', 'caf\\u{E9}.example', 'a_b.c-d.e', '\\u{0966}\\u{0967}.example', 'x.com.'} "
    "local bad = {} "
    "for _, s in ipairs(inputs) do local d = check.domain(s) "
    "  if d and (percent.escape(d) ~= d or d:find('[/?#%%@\\\\%s%c:]')) then bad[#bad + 1] = d end end "
    "return #bad == 0 and 'safe' or table.concat(bad, ' ')";
  int n = t_lua(L, code, 0);
  T_STR(n == 1 ? lua_tostring(L, -1) : lua_tostring(L, -1), "safe", "whatever check.domain accepts is URL-safe as it is");
  lua_settop(L, 0);
}

/* A key's refusal never quotes the key. */
static void test_key_not_quoted(lua_State *L) {
  int n = t_lua(L, "local _, err = require('cdnctl.check').key('secretvalue1234/x') return err", 0);
  const char *err = n == 1 ? lua_tostring(L, -1) : NULL;
  T_OK(err && !strstr(err, "secretvalue") && strstr(err, "key: contains '/'") == err,
       "check.key's message never quotes the key");
  lua_settop(L, 0);
}

/* Regression (found by fuzz_check): only one final dot was dropped before
 * the '..' check, so "x.com.." passed as "x.com." and "localhost.." passed
 * the dot rule as "localhost.". */
static void test_regressions(lua_State *L) {
  static const char *const inputs[] = {"x.com..", "localhost.."};
  for (int i = 0; i < 2; i++) {
    char what[120];
    snprintf(what, sizeof what, "check.domain('%s') is refused", inputs[i]);
    lua_pushstring(L, inputs[i]);
    int n = t_lua(L, "return (require('cdnctl.check').domain(...))", 1);
    T_OK(n == 1 && lua_isnil(L, -1), what);
    lua_settop(L, 0);
  }
}

int main(void) {
  lua_State *L = t_newstate();
  test_cases(L);
  test_regressions(L);
  test_domain_is_url_safe(L);
  test_key_not_quoted(L);
  lua_close(L);
  return t_done();
}
