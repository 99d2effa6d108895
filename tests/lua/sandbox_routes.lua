-- The sandbox's one router: every route of ShortPixel, Easy IO and
-- /_sandbox/ in one shape, and every refusal (method, path, server.c's
-- limits) in the shape of the service the path belongs to. Units: the
-- handler called directly, no HTTP.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"
local sp = require "cdnctl.sandbox.shortpixel"
local ez = require "cdnctl.sandbox.easyio"
local admin = require "cdnctl.sandbox.admin"

local handler = sandbox.new(json.encode { pending = 0, seed = 1, faults = { { kind = "500", p = 1 } } })
local function call(method, uri, limit)
  local r = handler { method = method, uri = uri, body = "", limit = limit,
    headers = { ["user-agent"] = "test", ["content-type"] = "application/x-www-form-urlencoded" } }
  return r.status, json.decode(r.body)
end
local quiet = sandbox.new(json.encode { pending = 0, seed = 1 })
local function qcall(method, uri, limit)
  local r = quiet { method = method, uri = uri, body = "", limit = limit, headers = { ["user-agent"] = "test" } }
  return r.status, json.decode(r.body)
end

t.test("every route is in the one shape: a service that reads and refuses, a handler", function()
  for _, rules in ipairs { sp.routes, ez.routes, admin.routes } do
    for path, r in pairs(rules) do
      t.ok(path:match("^/[^/]+/?[^/]*$"), path .. ": one or two segments")
      t.eq(type(r.handler), "function", path)
      t.eq(type(r.service.refuse), "function", path)
      t.eq(type(r.service.read), "function", path)
      t.eq(type(r.service.methods), "table", path)
      t.eq(type(r.service.say), "table", path)
      if r.args then t.ok(r.args[1] <= r.args[2], path .. ": args {min, max}") end
    end
  end
end)

t.test("a wrong method: 405 in each service's shape", function()
  local st, b = qcall("DELETE", "/read-domain/example.com")
  t.eq(st, 405); t.same(b, { Status = -405, Message = "Method not allowed." })
  st, b = qcall("PUT", "/v2/api-status.php")
  t.eq(st, 405); t.eq(b.Status.Code, "-405")
  st, b = qcall("GET", "/exactdn/show.php")
  t.eq(st, 405); t.same(b, { error = "requests must use the POST method" })
  st, b = qcall("POST", "/_sandbox/state")
  t.eq(st, 405); t.same(b, { error = "GET only" })
  st, b = qcall("GET", "/_sandbox/clock")
  t.eq(st, 405); t.same(b, { error = "POST only" })
end)

t.test("a path a service does not have: 404 in its shape; one of no service: the sandbox's", function()
  local st, b = qcall("GET", "/read-domain")
  t.eq(st, 404); t.same(b, { Status = -404, Message = "Not found." })
  st, b = qcall("GET", "/read-domain/example.com/other")
  t.eq(st, 404); t.eq(b.Status, -404)
  st, b = qcall("POST", "/_sandbox/nothing")
  t.eq(st, 404); t.same(b, { error = "unknown sandbox endpoint" })
  st, b = qcall("GET", "/nowhere")
  t.eq(st, 404); t.same(b, { error = "not found" })
end)

t.test("server.c's limits are answered in the path's service's shape", function()
  local st, b = qcall("POST", "/add-domain/example.com", "body")
  t.eq(st, 413); t.eq(b.Status, -413)
  st, b = qcall("GET", "/read-domain/example.com", "head")
  t.eq(st, 431); t.eq(b.Status, -431)
  st, b = qcall("POST", "/v2/api-status.php", "body")
  t.eq(st, 413); t.eq(b.Status.Code, "-413")
  st, b = qcall("POST", "/exactdn/create.php", "body")
  t.eq(st, 413); t.same(b, { error = "request body too large" })
  st, b = qcall("POST", "/_sandbox/clock", "head")
  t.eq(st, 431); t.eq(type(b.error), "string")
  st, b = qcall("POST", "/nowhere", "body")
  t.eq(st, 413); t.same(b, { error = "request body too large" })
end)

t.test("over a limit, nothing is carried out", function()
  qcall("GET", "/add-domain/limited.example.com/spDemoAgency00000001", "body")
  local _, b = qcall("GET", "/read-domain/limited.example.com")
  t.eq(b.HasAccount, false)
end)

t.test("faults wrap the APIs' handlers, not /_sandbox/ nor the limits", function()
  local st, b = call("GET", "/read-domain/example.com")
  t.eq(st, 500); t.same(b, { error = "sandbox fault: HTTP 500" })
  st = call("GET", "/_sandbox/state")
  t.eq(st, 200)
  st, b = call("GET", "/read-domain/example.com", "head")
  t.eq(st, 431); t.eq(b.Status, -431)
end)

t.done()
