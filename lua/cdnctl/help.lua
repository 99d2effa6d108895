-- cdnctl.help: help() for people, from the table of operations.

local ops = require "cdnctl.ops"

local M = {}

local function signature(op)
  local args = {}
  for _, a in ipairs(op.args) do
    local name = a.label or a.name
    args[#args + 1] = a.optional and ("[" .. name .. "]") or name
  end
  args[#args + 1] = "[opts]"
  return op.full .. "(" .. table.concat(args, ", ") .. ")"
end
M.signature = signature

local function endpoint(op)
  local p = op.path:gsub("{sp}", "https://no-cdn.shortpixel.ai"):gsub("{api}", "https://api.shortpixel.com")
    :gsub("{ez}", "https://optimize.exactlywww.com"):gsub("{(%w+)}", string.upper)
  return op.method .. " " .. p
end
M.endpoint = endpoint

-- The full help text of one operation.
function M.text(op)
  local lines = { signature(op), "  " .. op.doc, "  endpoint: " .. endpoint(op) }
  if op.method == "POST" then
    local fields = {}
    local kf = op.key_field or "api_key"
    if op.key_in ~= "none" then fields[#fields + 1] = op.key_in == "form_optional" and ("[" .. kf .. "]") or kf end
    for _, a in ipairs(op.args) do
      if a.fields then
        local fs = {}
        for k in pairs(a.fields) do fs[#fs + 1] = k end
        table.sort(fs)
        fields[#fields + 1] = "[" .. table.concat(fs, ", ") .. "]"
      else
        fields[#fields + 1] = a.optional and ("[" .. a.name .. "]") or a.name
      end
    end
    lines[#lines + 1] = "  form fields: " .. table.concat(fields, ", ")
  end
  local o = { "key", "timeout", "attempts" }
  for k in pairs(op.options or {}) do o[#o + 1] = k end
  lines[#lines + 1] = "  options: " .. table.concat(o, ", ")
  lines[#lines + 1] = "  returns: " .. op.returns .. " | nil, err"
  if op.destructive then
    lines[#lines + 1] = "  destructive: " .. op.destructive .. " (cdnctl call asks first on a terminal; --yes skips the question)"
  end
  for _, r in ipairs(op.rules or {}) do lines[#lines + 1] = "  rule: " .. r end
  return table.concat(lines, "\n")
end

-- help() lists everything; help(fn) or help "name" explains one binding.
function M.help(what)
  if what == nil then
    local out = { "Bindings (help(shortpixel.add_domain) or help \"add_domain\" for one):" }
    local service
    for _, op in ipairs(ops.list) do
      if op.service ~= service then
        service = op.service
        out[#out + 1] = ""
        out[#out + 1] = service .. ":"
      end
      out[#out + 1] = string.format("  %-52s %s", signature(op), op.doc)
    end
    out[#out + 1] = ""
    out[#out + 1] = "Also: cdnctl.parallel(items, fn [, opts]), cdnctl.retry{...}, shortpixel.hosts(domain), shortpixel.STATUS"
    print(table.concat(out, "\n"))
    return
  end
  for _, op in ipairs(ops.list) do
    if what == op.fn or what == op.name or what == op.full then
      print(M.text(op))
      return
    end
  end
  print("no help for " .. tostring(what) .. "; help() lists the bindings")
end

return M
