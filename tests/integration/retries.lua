-- Retries are polite during an outage: a budget per base URL, Retry-After
-- as the service means it, a deadline for the whole call, and the checks of
-- a create that may have taken effect retried like any read.
local t = require "t"
local fixture = require "fixture"
local server = require "cdnctl.server"
local json = require "cdnctl.json"

local cdnctl, shortpixel, easyio
local fx
-- The library the tests below call: settings of its own, pointed at fx.
local function use(lib)
  cdnctl, shortpixel, easyio = lib, lib.shortpixel, lib.easyio
end
local function start()
  fx = fixture.start()
  use(fx.lib)
end
start()
local function answer(body, status, headers)
  local h = { ["Content-Type"] = "application/json" }
  for k, v in pairs(headers or {}) do h[k] = v end
  return { status = status or 200, body = type(body) == "string" and body or json.encode(body), headers = h }
end
-- A fresh library (new settings: this policy, empty retry budgets).
local function reset_policy(extra, urls)
  local p = { attempts = 3, base = 0.001, cap = 0.002, retry_after_cap = 60, timeout = 60,
              budget = 500, retry_cost = 5, timeout_cost = 10, refund = 1 }
  for k, v in pairs(extra or {}) do p[k] = v end
  use(fx:library { policy = p, urls = urls })
end

t.test("a service answering 429 to everything: 200 calls send about 200 requests plus a bounded number of retries", function()
  reset_policy()
  local r429 = answer({ error = "slow down" }, 429)
  r429.repeat_all = true
  fx:queue(r429)
  local before = fx:count()
  local items = {}
  for i = 1, 200 do items[i] = "d" .. i .. ".example.com" end
  local _, _, summary = cdnctl.parallel(items, function(d) return shortpixel.read_domain(d) end, { concurrency = 16 })
  local sent = fx:count() - before
  t.eq(summary.failed, 200)
  t.ok(sent >= 200 and sent <= 200 + 100, "requests sent: " .. sent .. " (500 tokens at 5 a retry: 100 retries at most)")
  fx:queue(answer { Status = 2 }) -- the repeating answer leaves the queue with this one in front
  fx:stop(); start()
end)

t.test("a Retry-After beyond the cap ends the retries at once, saying when the service asked to be called", function()
  reset_policy { retry_after_cap = 5 }
  fx:queue(answer({ Status = -500, Message = "maintenance" }, 503, { ["Retry-After"] = "7200" }))
  local before = fx:count()
  local r, err = shortpixel.read_domain("example.com")
  t.eq(r, nil)
  t.eq(fx:count() - before, 1, "one request, no retry")
  t.match(err.message, "asked to be called again in 2 h 0 min")
end)

t.test("a deadline bounds the whole call: no wait that would pass it", function()
  reset_policy()
  fx:queue(answer({ error = "busy" }, 503, { ["Retry-After"] = "30" }))
  local before = fx:count()
  local r, err = shortpixel.read_domain("example.com", { deadline = 2, attempts = 5 })
  t.eq(r, nil)
  t.eq(fx:count() - before, 1)
  t.match(err.message, "deadline of 2 s")
end)

t.test("deadline is checked: finite, in [0.001, 86400]", function()
  for _, v in ipairs { 0, 0.0001, 1e9, 0/0, math.huge, "1" } do
    t.raises(function() return shortpixel.read_domain("example.com", { deadline = v }) end, "'deadline' must be")
  end
end)

t.test("the check of a create after a lost answer is retried like any read", function()
  reset_policy()
  fx:queue(answer { sites = {} }, { drop = true },
    answer({ error = "internal" }, 500),
    answer { sites = { { site_id = "31", site_url = "https://lost.example.com/", alias = "eabcdefghij.exactdn.com", live = "1" } } })
  local r, err = easyio.create_site("https://lost.example.com/")
  t.ok(r, tostring(err))
  t.eq(err, nil, "a result alone, no error beside it")
  t.eq(r.id, 31)
  t.eq(cdnctl.meta(r).reconciled, true)
end)

t.test("an empty budget never refuses the first check of a create that may have taken effect", function()
  reset_policy { budget = 0 }
  fx:queue(answer { sites = {} }, { drop = true },
    answer { sites = { { site_id = "32", site_url = "https://nobudget.example.com/", alias = "eabcdefghik.exactdn.com", live = "1" } } })
  local r, err = easyio.create_site("https://nobudget.example.com/")
  t.ok(r, tostring(err))
  t.eq(r.id, 32)
end)

t.test("budgets are per base URL: a ShortPixel outage does not starve Easy IO", function()
  local fx2 = assert(server.start { host = "127.0.0.1", port = 0, source = fixture.SOURCE })
  local ez_url = "http://127.0.0.1:" .. fx2:port()
  reset_policy({ budget = 10 }, { ez = ez_url })
  local r500 = answer({ error = "down" }, 500)
  r500.repeat_all = true
  fx:queue(r500)
  for i = 1, 5 do shortpixel.read_domain("o" .. i .. ".example.com") end -- spends ShortPixel's 10 tokens
  local sp_before = fx:count()
  shortpixel.read_domain("after.example.com")
  t.eq(fx:count() - sp_before, 1, "ShortPixel: the bucket is empty, no retry")
  local sched = require "cdnctl.sched"
  local function ctl(path, body) return assert(sched.request { method = body and "POST" or "GET", url = ez_url .. path, body = body }).body end
  ctl("/_fixture/queue", json.encode { answer({ error = "down" }, 500), answer { sites = {} } })
  local r, err = easyio.show_sites()
  t.ok(r, "Easy IO still retries: " .. tostring(err))
  t.eq(tonumber(ctl("/_fixture/count")), 2)
  fx2:stop()
  fx:stop(); start()
end)

fx:stop()
t.done()
