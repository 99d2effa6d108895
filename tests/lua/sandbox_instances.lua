-- Two sandboxes in one process share nothing: every memo and index lives in
-- the instance, none in a module. Checked two ways: handling requests leaves
-- every value the sandbox's modules close over as it was (a memo kept in a
-- module would change), and what one instance remembers the other does not.
local t = require "t"
local json = require "cdnctl.json"
local sandbox = require "cdnctl.sandbox"

local HEADERS = { ["user-agent"] = "test", ["content-type"] = "application/x-www-form-urlencoded" }
local function call(handler, method, uri, body)
  local r = handler { method = method, uri = uri, body = body or "", headers = HEADERS }
  return r.status, json.decode(r.body)
end

-- Every function of the sandbox's modules (lua/cdnctl/sandbox/*.lua), and
-- the non-function values they close over, as text: a module's hidden state
-- shows as a difference between two snapshots.
local function is_sandbox_fn(f)
  local src = debug.getinfo(f, "S").source
  return src:find("sandbox/", 1, true) ~= nil
end
local function dump(v, seen, out)
  if type(v) ~= "table" then out[#out + 1] = type(v) == "function" and "fn" or tostring(v); return end
  if seen[v] then out[#out + 1] = "<seen>"; return end
  seen[v] = true
  local keys = {}
  for k in next, v do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  out[#out + 1] = "{"
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "="; dump(v[k], seen, out) end
  out[#out + 1] = "}"
end
local function snapshot()
  local fns, seen_fn, queue = {}, {}, {}
  for name, m in pairs(package.loaded) do
    if name:find("^cdnctl%.sandbox") and type(m) == "table" then queue[#queue + 1] = m end
  end
  local seen_t = {}
  while #queue > 0 do
    local v = table.remove(queue)
    if type(v) == "table" and not seen_t[v] then
      seen_t[v] = true
      for _, x in next, v do queue[#queue + 1] = x end
    elseif type(v) == "function" and not seen_fn[v] and is_sandbox_fn(v) then
      seen_fn[v] = true
      fns[#fns + 1] = v
      for i = 1, math.huge do
        local n, x = debug.getupvalue(v, i)
        if not n then break end
        if n ~= "_ENV" then queue[#queue + 1] = x end
      end
    end
  end
  local text = {}
  for _, f in ipairs(fns) do
    local info = debug.getinfo(f, "S")
    for i = 1, math.huge do
      local n, x = debug.getupvalue(f, i)
      if not n then break end
      if n ~= "_ENV" and type(x) ~= "function" then
        local out = {}
        dump(x, {}, out)
        text[#text + 1] = info.short_src .. ":" .. info.linedefined .. " " .. n .. " " .. table.concat(out, " ")
      end
    end
  end
  table.sort(text)
  return text
end

t.test("handling requests changes no value a sandbox module closes over", function()
  local before = snapshot()
  local a = sandbox.new(json.encode { pending = 0, seed = 1 })
  for i = 1, 20 do
    call(a, "GET", "/add-domain/Name" .. i .. ".Example.com/spDemoAgency00000001")
    call(a, "GET", "/read-domain/name" .. i .. ".example.com")
    call(a, "POST", "/exactdn/create.php", "api_key=ez-demo-account-0001&site_url=https://s" .. i .. ".example.com/")
  end
  call(a, "POST", "/_sandbox/clock", '{"advance": 60}')
  local after = snapshot()
  t.eq(#after, #before, "as many closed-over values")
  for i = 1, #before do t.eq(after[i], before[i]) end
end)

t.test("what one sandbox remembers of names, another does not", function()
  local a, _, _, sa = sandbox.new(json.encode { pending = 0, seed = 1 })
  local b, _, _, sbb = sandbox.new(json.encode { pending = 0, seed = 1 })
  t.ok(sa and sbb, "new() gives the instance")
  call(a, "GET", "/add-domain/Only-A.example.com")
  t.ok(sa:known_name("Only-A.example.com"), "a remembers the name it checked")
  t.eq(sbb:known_name("Only-A.example.com"), nil, "b has not seen it")
  local st, r = call(b, "GET", "/read-domain/only-a.example.com")
  t.eq(st, 200); t.eq(r.HasAccount, false, "b's state is its own")
end)

t.done()
