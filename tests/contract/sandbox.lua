-- Contract, second side: each fixture's request sent to the sandbox, whose
-- answer must have the fixture's shape (cdnctl.shape: every member the
-- fixture shows, with its JSON type, recursively; null matches any type;
-- maps keyed by data compare their values; [] and {} are the same).
local t = require "t"
local contract = require "contract"
local shape = require "cdnctl.shape"
local json = require "cdnctl.json"
local sched = require "cdnctl.sched"
local config = require "cdnctl.config"
local sbx = require "sbx"

local VARS = { SP_KEY = "spDemoAgency00000001", SP_OTHER = "spDemoOther000000002",
               EZ_KEY = "ez-demo-account-0001", EZ_SUB = "ez-demo-subkey-0001" }

-- Setup steps: {"shortpixel.add_domain", args...} through the bindings, or
-- {"admin", path [, body]}. A created site's id and alias become {SITE_ID}, {ALIAS}.
local function setup(steps, vars)
  for _, step in ipairs(steps or {}) do
    step = contract.fill(step, vars)
    if step[1] == "admin" then
      sbx.admin(step[2], step[3])
    else
      local service, op = step[1]:match("^(%w+)%.([%w_]+)$")
      local r, err = _ENV[service][op](table.unpack(step, 2))
      assert(r, step[1] .. " in the setup failed: " .. tostring(err))
      if r.id then vars.SITE_ID, vars.ALIAS = tostring(r.id), r.alias end
    end
  end
end

local function multipart(fields)
  local b, parts = "contract-boundary-1234", {}
  local names = {}
  for k in pairs(fields) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    parts[#parts + 1] = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"" .. k .. "\"\r\n\r\n" .. fields[k] .. "\r\n"
  end
  return table.concat(parts) .. "--" .. b .. "--\r\n", "Content-Type: multipart/form-data; boundary=" .. b
end

local function send(req)
  local headers = { "User-Agent: " .. (req.user_agent or "cdnctl-contract-test") }
  local body
  if req.form then
    body = req.form
    headers[#headers + 1] = "Content-Type: application/x-www-form-urlencoded"
  elseif req.multipart then
    local ct
    body, ct = multipart(req.multipart)
    headers[#headers + 1] = ct
  end
  return assert(sched.request { method = req.method, url = config.url(cdnctl.settings, "sp") .. req.path, body = body, headers = headers })
end

local compared = 0
for _, f in ipairs(contract.load()) do
  if type(f.sandbox) == "table" then
    t.test(f.name .. ": the sandbox answers in production's shape", function()
      local vars = {}
      for k, v in pairs(VARS) do vars[k] = v end
      setup(f.sandbox.setup, vars)
      local resp = send(contract.fill(f.sandbox.request, vars))
      t.eq(resp.status, f.sandbox.raw_status or f.answer.status, "HTTP status")
      if f.sandbox.raw then t.eq(resp.body, f.sandbox.raw, "the answer's text") end
      local got = json.decode(resp.body)
      local diffs = shape.diff(contract.answer_value(f), got)
      local lines = {}
      for _, d in ipairs(diffs) do lines[#lines + 1] = shape.describe(d) end
      t.eq(table.concat(lines, "; "), "", "shape differences")
      for path, v in pairs(contract.fill(f.sandbox.expect or {}, vars)) do t.eq(contract.get(got, path), v, path) end
      for _, text in ipairs(f.sandbox.text_lacks or {}) do
        t.ok(not resp.body:find(text, 1, true), "the answer's text has no '" .. text .. "': " .. resp.body)
      end
      for path, p in pairs(f.sandbox.match or {}) do t.match(contract.get(got, path), p, path) end
      compared = compared + 1
    end)
  end
end

t.test("most fixtures are compared with the sandbox", function()
  t.ok(compared >= 15, "compared " .. compared)
end)

t.done()
