-- tests/lib/t.lua: a small TAP-style test library for cdnctl's Lua tests.
--   local t = require "t"
--   t.test("name states the rule", function() t.eq(a, b) end)
--   t.done()  -- prints "N passed, N failed" and exits 1 on any failure
local pretty = require "cdnctl.front.pretty"

local M = { passed = 0, failed = 0 }

local function fail(msg, level)
  error({ t_failure = msg }, (level or 1) + 1)
end

function M.eq(got, want, what)
  if got ~= want then
    fail(string.format("%sexpected %s, got %s", what and (what .. ": ") or "",
      pretty.format(want), pretty.format(got)), 2)
  end
end

-- deep equality (tables compared by content)
local function deq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  if math.type(a) ~= math.type(b) then return false end
  for k, v in pairs(a) do if not deq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.deq = deq

function M.same(got, want, what)
  if not deq(got, want) then
    fail(string.format("%sexpected %s, got %s", what and (what .. ": ") or "",
      pretty.format(want), pretty.format(got)), 2)
  end
end

function M.ok(v, what)
  if not v then fail((what or "expected a true value") .. ", got " .. pretty.format(v), 2) end
  return v
end

function M.match(s, pattern, what)
  if type(s) ~= "string" or not s:find(pattern) then
    fail(string.format("%sexpected a string matching %q, got %s", what and (what .. ": ") or "", pattern, pretty.format(s)), 2)
  end
end

function M.nomatch(s, pattern, what)
  if type(s) == "string" and s:find(pattern, 1, true) then
    fail(string.format("%s%q must not appear in %s", what and (what .. ": ") or "", pattern, pretty.format(s)), 2)
  end
end

-- the error a function raises (fails if it does not raise)
function M.raises(f, pattern, ...)
  local ok, err = pcall(f, ...)
  if ok then fail("expected an error" .. (pattern and (" matching " .. pattern) or ""), 2) end
  if pattern and not tostring(err):find(pattern) then
    fail(string.format("expected an error matching %q, got %s", pattern, tostring(err)), 2)
  end
  return err
end

-- M.slurp(path) -> the file's whole content | nil, message (no such file)
function M.slurp(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

function M.test(name, f)
  local ok, err = xpcall(f, function(e)
    if type(e) == "table" and e.t_failure then return e.t_failure .. "\n" .. debug.traceback("", 2) end
    return debug.traceback(tostring(e), 2)
  end)
  if ok then
    M.passed = M.passed + 1
    print("ok - " .. name)
  else
    M.failed = M.failed + 1
    print("not ok - " .. name)
    for line in tostring(err):gmatch("[^\n]+") do print("#   " .. line) end
  end
end

function M.done()
  print(string.format("%d passed, %d failed", M.passed, M.failed))
  if M.failed > 0 or M.passed == 0 then cdnctl.exit(1) end
end

return M
