-- The settings value (cdnctl.settings) built from a table, never from the
-- environment, and cdnctl.config reading keys and URLs through it and the
-- services table of cdnctl.ops: the source order, the labels, the defaults.
-- Each test builds its own value, so nothing is to be restored.
local t = require "t"
local settings = require "cdnctl.settings"
local config = require "cdnctl.config"
local ops = require "cdnctl.ops"
local retry = require "cdnctl.retry"

local SP = "SPkeyFromEnv00000001"
local EZ = "EZkeyFromEnv00000001"

local function profile(via, fields)
  local p = { name = "acme", via = via }
  for k, v in pairs(fields) do p[k] = v end
  return p
end

t.test("settings.new reads nothing but its table: no key, default URLs, default policy", function()
  local s = settings.new()
  for _, service in ipairs(ops.service_order) do
    local src = config.resolve(s, service, true)
    t.eq(src.kind, "none", service)
    for _, u in ipairs(ops.services[service].urls) do
      t.eq(src.urls[u.name], u.default, u.name)
      t.eq(src.url_sources[u.name], "built-in default", u.name)
    end
  end
  t.same(s.policy, retry.DEFAULTS)
  t.eq(s.quiet, false)
  t.eq(s.allow_http, false)
  t.eq(s.debug, 0)
end)

t.test("the environment of a settings value is the table it was given; empty values count as unset", function()
  local s = settings.new { env = { SHORTPIXEL_API_KEY = SP, CDNCTL_SHORTPIXEL_URL = "https://sp.test/", EASYIO_API_KEY = "" } }
  local key, from = config.key(s, "shortpixel")
  t.eq(key, SP)
  t.eq(from, "SHORTPIXEL_API_KEY")
  local src = config.resolve(s, "shortpixel", true)
  t.eq(src.urls.sp, "https://sp.test", "trailing slash dropped")
  t.eq(src.url_sources.sp, "CDNCTL_SHORTPIXEL_URL")
  t.eq(src.urls.api, "https://api.shortpixel.com")
  local ez = config.resolve(s, "easyio", true)
  t.eq(ez.kind, "environment", "one source for every service")
  t.eq(ez.key, nil)
  t.eq(ez.missing, "the environment has no Easy IO key (EASYIO_API_KEY is not set; keys never come from another source)")
end)

t.test("one source for every service: a service the source lacks has no key, whatever a lower source sets", function()
  local env = { SHORTPIXEL_API_KEY = SP, EASYIO_API_KEY = EZ }
  local s = settings.new { env = env, profile = profile("--profile", { shortpixel_key = "SPkeyFromProfile0001" }) }
  t.eq(config.key(s, "shortpixel"), "SPkeyFromProfile0001")
  local key, from, why, src = config.key(s, "easyio")
  t.eq(key, nil, "not the environment's")
  t.eq(from, "profile 'acme'")
  t.eq(why, nil)
  t.eq(src.missing, "profile 'acme' has no Easy IO key (no easyio_key or easyio_key_cmd; keys never come from another source)")
  t.eq(src.urls.ez, ops.services.easyio.urls[1].default)
  t.eq(config.source(s).name, "profile 'acme' (--profile)")
  s = settings.new { env = { EASYIO_API_KEY = EZ }, profile = profile("default_profile", { shortpixel_key = SP }) }
  t.eq(config.source(s).kind, "environment", "the environment before default_profile")
  t.eq(config.key(s, "shortpixel"), nil, "the default profile's key is not taken")
end)

t.test("env_names lists each service's key and URL variables from the services table", function()
  t.same(settings.env_names(), { "SHORTPIXEL_API_KEY", "CDNCTL_SHORTPIXEL_URL", "CDNCTL_SHORTPIXEL_API_URL",
                                 "EASYIO_API_KEY", "CDNCTL_EASYIO_URL" })
end)

t.test("source order: opts.key > sandbox > explicit profile > environment > default_profile", function()
  local env = { SHORTPIXEL_API_KEY = SP }
  local fields = { shortpixel_key = "SPkeyFromProfile0001" }
  local s = settings.new { env = env, profile = profile("default_profile", fields) }
  t.eq(select(2, config.key(s, "shortpixel")), "SHORTPIXEL_API_KEY", "environment before default_profile")
  s = settings.new { env = env, profile = profile("--profile", fields) }
  t.eq(select(2, config.key(s, "shortpixel")), "profile 'acme'", "explicit profile before environment")
  s = settings.new { env = env, profile = profile("CDNCTL_PROFILE", fields),
                     sandbox = { urls = { sp = "http://127.0.0.1:9" }, keys = { shortpixel = "SPkeySandbox00000001" } } }
  t.eq(select(2, config.key(s, "shortpixel")), "--sandbox", "sandbox first")
  t.eq(config.url(s, "sp"), "http://127.0.0.1:9")
  local k, from = config.key(s, "shortpixel", "SPkeyOpts00000000001")
  t.eq(k, "SPkeyOpts00000000001")
  t.eq(from, "opts.key", "opts.key replaces the key only")
  t.eq(config.url(s, "sp"), "http://127.0.0.1:9", "the URLs stay the sandbox's")
end)

t.test("a source with URLs but no key says so, in the service's words", function()
  local s = settings.new { env = { CDNCTL_EASYIO_URL = "https://ez.test" } }
  local src = config.resolve(s, "easyio", true)
  t.eq(src.missing, "the environment sets CDNCTL_EASYIO_URL but not EASYIO_API_KEY (a key and its URLs come from one source)")
  s = settings.new { profile = profile("--profile", { shortpixel_url = "https://sp.test" }) }
  t.eq(config.resolve(s, "shortpixel", true).missing,
    "profile 'acme' sets URLs for ShortPixel but no shortpixel_key or shortpixel_key_cmd")
end)

t.test("a profile's URLs come from the fields the services table names", function()
  local fields = { easyio_key = EZ }
  for _, u in ipairs(ops.services.shortpixel.urls) do fields[u.field] = "https://" .. u.name .. ".test" end
  fields.shortpixel_key = SP
  local s = settings.new { profile = profile("--profile", fields) }
  t.eq(config.url(s, "sp"), "https://sp.test")
  t.eq(config.url(s, "api"), "https://api.test")
  t.eq(config.url(s, "ez"), ops.services.easyio.urls[1].default)
end)

t.test("every {base} of a path template is a base URL of the operation's service", function()
  for _, op in ipairs(ops.list) do
    local base = op.path:match("^{(%w+)}")
    t.ok(ops.base_urls[base], op.full .. ": " .. tostring(base))
    t.eq(ops.base_urls[base].service, op.service, op.full)
  end
end)

t.test("two settings values share nothing: a key command's result, notes, policy", function()
  local dir = os.tmpname()
  local p = profile("--profile", { shortpixel_key_cmd = "echo x >>'" .. dir .. "'; echo SPkeyFromCommand0001" })
  local a, b = settings.new { profile = p }, settings.new { profile = p }
  t.eq(config.key(a, "shortpixel"), "SPkeyFromCommand0001")
  t.eq(config.key(a, "shortpixel"), "SPkeyFromCommand0001")
  t.eq(config.key(b, "shortpixel"), "SPkeyFromCommand0001")
  local f = assert(io.open(dir))
  local runs = select(2, f:read("a"):gsub("x", ""))
  f:close()
  os.remove(dir)
  t.eq(runs, 2, "the command runs once per settings value")
  assert(settings.change(a, { policy = { attempts = 7 } }))
  t.eq(a.policy.attempts, 7)
  t.eq(b.policy.attempts, retry.DEFAULTS.attempts)
end)

t.test("settings.change checks everything before it changes anything", function()
  local s = settings.new()
  local r, err = settings.change(s, { policy = { attempts = 2, base = -1 } })
  t.eq(r, nil)
  t.eq(err, "base must be a number of seconds in [0, 3600], got -1")
  t.eq(s.policy.attempts, retry.DEFAULTS.attempts, "nothing changed")
  t.eq(select(2, settings.change(s, { policy = { tries = 2 } })), "unknown setting 'tries'")
  t.eq(select(2, settings.change(s, { policy = { attempts = 0 } })), "attempts must be a positive integer")
  t.eq(select(2, settings.change(s, { debug = "loud" })), "debug: boolean or integer expected")
  t.eq(settings.change(s, { profile = profile("--profile", {}), debug = true }), s)
  t.eq(s.profile.name, "acme")
  t.eq(s.debug, 1)
  settings.change(s, { profile = false })
  t.eq(s.profile, nil)
end)

t.test("settings.new refuses a bad policy", function()
  t.raises(function() settings.new { policy = { timeout = 0 } } end, "settings.new: policy: timeout must be")
end)

t.test("transport_ok: plain http to another host only with the value's allow_http", function()
  t.eq(config.transport_ok(settings.new(), "http://example.com/x"), false)
  t.eq(config.transport_ok(settings.new { allow_http = true }, "http://example.com/x"), true)
  t.eq(config.transport_ok(settings.new(), "http://127.0.0.1:8/x"), true)
end)

t.test("a library built on a settings value reads its policy; cdnctl.retry changes that value only", function()
  local lib_a = require("cdnctl").new(settings.new { policy = { attempts = 5 } })
  local lib_b = require("cdnctl").new(settings.new())
  t.eq(lib_a.retry().attempts, 5)
  lib_b.retry { attempts = 2 }
  t.eq(lib_a.retry().attempts, 5)
  t.eq(lib_b.settings.policy.attempts, 2)
  t.raises(function() lib_b.retry { attempts = 0 } end,
    "settings%.lua:%d+: bad argument #1 to 'retry' %(attempts must be a positive integer%)")
  t.raises(function() lib_b.debug("loud") end, "settings%.lua:%d+: bad argument #1 to 'debug'")
end)

t.test("the command line installed the masking of writes, once, before this script ran", function()
  t.eq(require("cdnctl.masking").installed(), true)
end)

-- The one memo of a request (s.resolved: the source, each service's view
-- and key, each operation's base URL and transport verdict) is emptied
-- whole by settings.change: a request made after a change is the new
-- value's.
t.test("settings.change empties the memo of requests whole: the next request is the new value's", function()
  local request = require "cdnctl.request"
  local op = ops.by_name["shortpixel.set_domain"]
  local function profile(name, host)
    return { name = name, via = "--profile", shortpixel_key = ("SPkeyProfile" .. name .. "0000000"):sub(1, 20),
             shortpixel_url = "https://" .. host }
  end
  local s = settings.new { profile = profile("a", "a.test") }
  local r = assert(request.of(s, op, "x.com"))
  t.eq(r.req.url, "https://a.test/set-domain/x.com/" .. r.key)
  t.eq(r.key_source, "profile 'a'")
  t.ok(next(s.resolved), "something is remembered")
  assert(settings.change(s, { profile = profile("b", "b.test") }))
  r = assert(request.of(s, op, "x.com"))
  t.eq(r.req.url, "https://b.test/set-domain/x.com/" .. r.key)
  t.eq(r.base_source, "profile 'b'")
  assert(settings.change(s, { policy = { attempts = 2 } }))
  t.eq(next(s.resolved), nil, "a change of policy empties it too")
  t.eq(request.of(s, op, "x.com").req.timeout, s.policy.timeout)
end)

t.done()
