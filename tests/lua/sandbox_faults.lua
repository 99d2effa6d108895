-- --faults, each with what it does to the state (docs/sandbox.md,
-- "Faults"): a status and reset carry nothing out; lost and done500 carry
-- the request out and then lose or refuse the answer; late carries it out
-- --late-ms after it arrives (server.c calls the handler again with
-- req.late) and answers then. Every faulted request is logged with its
-- path, keys masked.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"
local cli = require "cdnctl.sandbox.cli"

local SP = "spDemoAgency00000001"
local logpath = os.tmpname()

local function with(kind, extra)
  local cfg = { pending = 0, seed = 1, faults = { { kind = kind, p = 1 } }, log = logpath }
  for k, v in pairs(extra or {}) do cfg[k] = v end
  local handler, stop, _, sb = sandbox.new(json.encode(cfg))
  local function call(uri, late)
    return handler { method = "GET", uri = uri, body = "", headers = { ["user-agent"] = "t" }, late = late }
  end
  return call, sb, stop
end

local function last_log()
  local f = assert(io.open(logpath, "rb"))
  local line
  for l in f:lines() do line = l end
  f:close()
  return json.decode(line or "null")
end

t.test("--faults takes done500 and late beside the statuses, reset and lost", function()
  local f = assert(sandbox.parse_faults("500:0.1,done500:0.1,late:0.1,lost:0.1,reset:0.1"))
  t.eq(#f, 5)
  t.eq(f[2].kind, "done500")
  t.eq(f[3].kind, "late")
  local _, err = sandbox.parse_faults("slow:0.1")
  t.eq(err, "--faults: unknown fault 'slow' (an HTTP status 4xx/5xx, reset, lost, done500 or late)")
end)

t.test("--late-ms MS: how long after it arrives a late request is carried out (default 3000)", function()
  t.eq(cli.parse({ "--late-ms", "250" }, 1).late_ms, 250)
  t.eq(cli.parse({}, 1).late_ms, nil)
  local _, err = cli.parse({ "--late-ms", "soon" }, 1)
  t.eq(err, "--late-ms needs a whole number of milliseconds (0 to 600000)")
end)

t.test("done500: carried out, then answered 500", function()
  local call, sb, stop = with("done500")
  local r = call("/add-domain/done.example.com/" .. SP)
  t.eq(r.status, 500)
  t.eq(json.decode(r.body).error, "sandbox fault: HTTP 500")
  t.eq(sb.state.shortpixel.domains["done.example.com"].owner, SP, "the domain was added and associated")
  local line = last_log()
  t.eq(line.fault, "done500")
  t.eq(line.status, 500)
  t.eq(line.path, "/add-domain/done.example.com/****0001")
  stop()
end)

t.test("late: nothing carried out when it arrives; carried out when called again, and answered then", function()
  local call, sb, stop = with("late", { late_ms = 1500 })
  local r = call("/add-domain/late.example.com/" .. SP)
  t.eq(r.later, 1.5, "the handler asks to be called again in 1.5 s")
  t.eq(sb.state.shortpixel.domains["late.example.com"], nil, "not carried out yet")
  r = call("/add-domain/late.example.com/" .. SP, true)
  t.eq(r.later, nil)
  t.eq(r.status, 200)
  t.eq(json.decode(r.body).Status, 2)
  t.eq(sb.state.shortpixel.domains["late.example.com"].owner, SP)
  local line = last_log()
  t.eq(line.fault, "late")
  t.eq(line.path, "/add-domain/late.example.com/****0001")
  stop()
end)

t.test("late's default is 3 s", function()
  local call, _, stop = with("late")
  t.eq(call("/read-domain/x.example.com").later, 3)
  stop()
end)

t.test("reset and a status fault: nothing carried out, logged with the path like any request", function()
  for _, kind in ipairs { "reset", "503" } do
    local call, sb, stop = with(kind)
    call("/add-domain/reset.example.com/" .. SP)
    t.eq(sb.state.shortpixel.domains["reset.example.com"], nil, kind .. " carries nothing out")
    local line = last_log()
    t.eq(line.fault, kind)
    t.eq(line.path, "/add-domain/reset.example.com/****0001", kind .. "'s path in the log")
    stop()
  end
end)

t.test("lost: carried out, the answer dropped", function()
  local call, sb, stop = with("lost")
  local r = call("/add-domain/lost.example.com/" .. SP)
  t.eq(r.drop, true)
  t.eq(sb.state.shortpixel.domains["lost.example.com"].owner, SP)
  stop()
end)

os.remove(logpath)
t.done()
