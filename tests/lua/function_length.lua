-- No function is longer than 60 lines in src/*.c, lua/**/*.lua and
-- scripts/*.lua (the first line of its signature to its last line), except
-- those docs/architecture.md keeps whole under "## Functions kept whole"
-- (one a line, "- `path:function`: the reason", three at most). The test
-- names every function over the limit.
local t = require "t"

local LIMIT, KEPT_MAX = 60, 3
local ROOT = os.getenv("CDNCTL_SOURCE_DIR") or (arg and arg[0] or ""):match("^(.*)/tests/lua/[^/]*$") or "."

local function read(path)
  local f = assert(io.open(ROOT .. "/" .. path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The files to scan, relative to ROOT, sorted.
local function files()
  local p = assert(io.popen("cd '" .. ROOT .. "' && find src -maxdepth 1 -name '*.c' && find lua -name '*.lua'"
    .. " && find scripts -maxdepth 1 -name '*.lua'"))
  local list = {}
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  table.sort(list)
  return list
end

-- Text with its comments and the insides of its strings blanked (newlines
-- kept, so line numbers stay), for Lua or C.
local function blank(s, lang)
  local out, i, n = {}, 1, #s
  local function keep_lines(a, b) out[#out + 1] = (s:sub(a, b):gsub("[^\n]", " ")) end
  while i <= n do
    local c = s:sub(i, i)
    local open = lang == "lua" and s:match("^%-%-%[(=*)%[", i) or (lang == "lua" and s:match("^%[(=*)%[", i))
    if open then -- a long comment or a long string
      local close = "]" .. open .. "]"
      local _, e = s:find(close, i, true)
      e = e or n
      keep_lines(i, e); i = e + 1
    elseif (lang == "lua" and s:sub(i, i + 1) == "--") or (lang == "c" and s:sub(i, i + 1) == "//") then
      local e = (s:find("\n", i, true) or n + 1) - 1
      keep_lines(i, e); i = e + 1
    elseif lang == "c" and s:sub(i, i + 1) == "/*" then
      local _, e = s:find("*/", i + 2, true)
      e = e or n
      keep_lines(i, e); i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = s:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      out[#out + 1] = c; keep_lines(i + 1, j - 1); out[#out + 1] = s:sub(j, j); i = j + 1
    else
      local e = (s:find("[-/\"'%[]", i + 1)) or n + 1
      out[#out + 1] = s:sub(i, e - 1); i = e
    end
  end
  return table.concat(out)
end

-- line_of(pos) for a text: the line a byte position is on, and where that line starts.
local function liner(s)
  local starts = { 1 }
  for p in s:gmatch("\n()") do starts[#starts + 1] = p end
  return function(pos)
    local lo, hi = 1, #starts
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if starts[mid] <= pos then lo = mid else hi = mid - 1 end
    end
    return lo, starts[lo]
  end
end

-- Lua: `function` opens a block, as do `if`, `do` (of for and while) and
-- `repeat`; `end` and `until` close one. -> {{name, first, last}...}
local function lua_functions(src)
  local text = blank(src, "lua")
  local line_of = liner(text)
  local lines, found, stack = {}, {}, {}
  for l in (src .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  for pos, word in text:gmatch("()%f[%w_]([%a_][%w_]*)") do
    if word == "function" or word == "if" or word == "do" or word == "repeat" then
      local entry = { word = word }
      if word == "function" then
        local first, start = line_of(pos)
        entry.first = first
        local raw = lines[first]
        local col = pos - start + 1
        local before, after = raw:sub(1, col - 1), raw:sub(col + 8)
        entry.name = after:match("^%s+([%w_.:]+)") or before:match("([%w_.:%[%]\"'%-]+)%s*=%s*$") or
          ("function@" .. entry.first)
      end
      stack[#stack + 1] = entry
    elseif word == "end" or word == "until" then
      local entry = table.remove(stack)
      if entry and entry.word == "function" then
        found[#found + 1] = { entry.name, entry.first, (line_of(pos)) }
      end
    end
  end
  return found
end

-- C: a function is a top-level brace block whose head has a parameter list
-- and no '='; its first line is the line of its name. -> {{name, first, last}...}
local function c_functions(src)
  local text = blank(src, "c")
  text = ("\n" .. text):gsub("\n[ \t]*#[^\n]*", function(l) return (l:gsub("[^\n]", " ")) end):sub(2) -- preprocessor lines
  local line_of = liner(text)
  local found, depth, head_start, open = {}, 0, 1, nil
  for pos, ch in text:gmatch("()([{};])") do
    if ch == "{" then
      if depth == 0 then
        local head = text:sub(head_start, pos - 1)
        local name_at, name = head:match("()([%a_][%w_]*)%s*%(")
        if name and not head:find("=", 1, true) then
          open = { name, (line_of(head_start + name_at - 1)) }
        end
      end
      depth = depth + 1
    elseif ch == "}" then
      depth = depth - 1
      if depth == 0 then
        if open then found[#found + 1] = { open[1], open[2], (line_of(pos)) }; open = nil end
        head_start = pos + 1
      end
    elseif depth == 0 then
      head_start = pos + 1
    end
  end
  return found
end

-- The names docs/architecture.md keeps whole.
local function allowed()
  local doc = read("docs/architecture.md")
  local section = doc:match("\n## Functions kept whole\n(.-)\n## ") or doc:match("\n## Functions kept whole\n(.*)$")
  local kept, n = {}, 0
  for line in (section or ""):gmatch("[^\n]+") do -- "- `src/x.c:fn`: why", "`lua/y.lua:M.f` why" or "lua/y.lua:M.f why"
    local name = line:match("^%s*[-*]?%s*`?([%w_./%-]+%.%a+:[%w_.:]+)")
    if name then kept[name] = "kept whole"; n = n + 1 end
  end
  return kept, n, section ~= nil
end

t.test("docs/architecture.md has the section, and keeps three functions whole at most", function()
  local _, n, has = allowed()
  t.ok(has, "a heading '## Functions kept whole'")
  t.ok(n <= KEPT_MAX, n .. " functions kept whole, " .. KEPT_MAX .. " at most")
end)

t.test("the scanner sees what it scans: every file has functions, and a known one has its length", function()
  local list = files()
  t.ok(#list > 40, #list .. " files found under " .. ROOT)
  local lens = {}
  for _, f in ipairs(lua_functions("local function a()\n  if x then\n    return function() end\n  end\nend\n")) do lens[f[1]] = f[3] - f[2] + 1 end
  t.eq(lens.a, 5)
  local c = c_functions("#include <x.h>\nstatic int f(lua_State *L,\n           int x) {\n  if (x) { return 1; }\n  return 0;\n}\n"
    .. "static const luaL_Reg fns[] = {{\"f\", f}, {NULL, NULL}};\n/* g() { */\nint g(void) { return '{'; }\n")
  t.same(c, { { "f", 2, 6 }, { "g", 9, 9 } })
end)

t.test("no function is longer than " .. LIMIT .. " lines, but those kept whole", function()
  local kept = allowed()
  local long = {}
  for _, path in ipairs(files()) do
    local src = read(path)
    local fns = path:match("%.c$") and c_functions(src) or lua_functions(src)
    for _, f in ipairs(fns) do
      local len = f[3] - f[2] + 1
      local name = path .. ":" .. f[1]
      if len > LIMIT and not kept[name] then long[#long + 1] = string.format("%s (%d lines, from line %d)", name, len, f[2]) end
    end
  end
  t.eq(table.concat(long, "; "), "", "functions over " .. LIMIT .. " lines")
end)

t.done()
