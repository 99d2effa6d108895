-- cdnctl.front.prompt: the interactive prompt. As in lua.c: a line is tried as
-- `return <line>` first; a syntax error at <eof> means "go on", on the
-- `>>` prompt. Values print pretty; errors print and the prompt goes on.
-- History lives in $XDG_STATE_HOME/cdnctl/history (mode 0600), keys masked.

local rl = require "cdnctl.readline"
local host = require "cdnctl.host"
local pretty = require "cdnctl.front.pretty"
local redact = require "cdnctl.redact"
local fs = require "cdnctl.fs"
local config = require "cdnctl.config"

local M = {}

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while" }

function M.history_path()
  local base = os.getenv("XDG_STATE_HOME")
  if not base or base == "" then base = (os.getenv("HOME") or ".") .. "/.local/state" end
  return base .. "/cdnctl", base .. "/cdnctl/history"
end

-- The string literals and comments of Lua source, in order: a list of
-- {kind = "string" | "comment", from, to, open, close} (byte positions of
-- the whole token; open and close delimit a string). An unterminated
-- string ends the scan.
local function tokens(src)
  local out, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    local eq = src:match("^%[(=*)%[", i)
    if src:sub(i, i + 1) == "--" then
      local ceq = src:match("^%[(=*)%[", i + 2)
      local j = ceq and select(2, src:find("]" .. ceq .. "]", i + 4 + #ceq, true)) or nil
      if not j then j = ceq and n or ((src:find("\n", i + 2, true) or n + 1) - 1) end
      out[#out + 1] = { kind = "comment", from = i, to = j }
      i = j + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and src:sub(j, j) ~= c and src:sub(j, j) ~= "\n" do
        j = j + (src:sub(j, j) == "\\" and 2 or 1)
      end
      if src:sub(j, j) ~= c then break end
      out[#out + 1] = { kind = "string", from = i, to = j, open = c, close = c }
      i = j + 1
    elseif eq then
      local _, j = src:find("]" .. eq .. "]", i + 2 + #eq, true)
      if not j then break end
      out[#out + 1] = { kind = "string", from = i, to = j, open = "[" .. eq .. "[", close = "]" .. eq .. "]" }
      i = j + 1
    else
      i = i + 1
    end
  end
  return out
end

-- The value of a string literal's source, or nil.
local function literal_value(text)
  local f = load("return " .. text, "=literal", "t", {})
  local ok, v = pcall(f or error)
  return ok and type(v) == "string" and v or nil
end

local function is_key_name(name)
  return name ~= nil and name:lower():match("key$") ~= nil
end

-- Is the string token toks[k] given as a key: name = "..." or ["name"] = "..."
-- where name ends in "key" (key, api_key, sub_key)?
local function in_key_position(src, toks, k)
  local before = src:sub(toks[k - 1] and toks[k - 1].to + 1 or 1, toks[k].from - 1)
  if is_key_name(before:match("([%a_][%w_]*)%s*=%s*$")) and not before:match("[=~<>]%s*=%s*$") then return true end
  local prev = toks[k - 1]
  if prev and prev.kind == "string" and before:match("^%s*%]%s*=%s*$")
    and src:sub(1, prev.from - 1):match("%[%s*$") then
    return is_key_name(literal_value(src:sub(prev.from, prev.to)))
  end
  return false
end

-- A string looks like a key of a known service: ShortPixel's shape.
local function looks_like_key(v)
  return #v == 20 and v:match("^[A-Za-z0-9]+$") ~= nil
end

-- A history line with secrets masked: registered keys in any encoding;
-- string literals (quoted or long) given as a key (key = "...", api_key,
-- sub_key, ["key"] = "..."), whose value is a registered key (escapes
-- included) or that look like a ShortPixel key; in comments, key = "...".
function M.mask_line(line)
  line = redact.mask(line)
  local toks = tokens(line)
  local out, last = {}, 0
  for k, tok in ipairs(toks) do
    local text = line:sub(tok.from, tok.to)
    if tok.kind == "comment" then
      text = text:gsub("(%f[%w_][%w_]*key%s*=%s*)([\"'])(.-)%2", function(lhs, q, v)
        if v:match("^%*%*%*%*") then return nil end
        return lhs .. q .. redact.short(v) .. q
      end)
    else
      local v = literal_value(text)
      if v and not v:match("^%*%*%*%*") and (in_key_position(line, toks, k) or looks_like_key(v) or redact.mask(v) ~= v) then
        text = tok.open .. redact.short(v) .. tok.close
      end
    end
    out[#out + 1] = line:sub(last + 1, tok.from - 1)
    out[#out + 1] = text
    last = tok.to
  end
  out[#out + 1] = line:sub(last + 1)
  return table.concat(out)
end

-- The value of a global path ("k", "cfg.key") or nil; raw reads only, so
-- no metamethod of the user's runs behind their back.
local function global_value(path)
  local cur = _G
  for name in path:gmatch("[^.]+") do
    if type(cur) ~= "table" then return nil end
    cur = rawget(cur, name)
  end
  return cur
end

-- After a line ran: a variable given as a key in it (key = k, api_key =
-- cfg.k, ["key"] = k) holds a secret, so its string is registered and the
-- lines that typed it are masked by the next remask_history().
function M.remember_keys(src)
  local function note(path)
    local v = global_value(path)
    if type(v) == "string" then redact.add(v) end
  end
  for name, path in src:gmatch("([%a_][%w_]*)%s*=%s*([%a_][%w_.]*)") do
    if is_key_name(name) then note(path) end
  end
  for name, path in src:gmatch("%[%s*[\"']([%w_]*)[\"']%s*%]%s*=%s*([%a_][%w_.]*)") do
    if is_key_name(name) then note(path) end
  end
end

-- Mask again every line of the history (this session's and the file's):
-- a string that became a key after its line was typed is hidden now.
function M.remask_history()
  for i, line in ipairs(rl.history_list()) do
    local masked = M.mask_line(line)
    if masked ~= line then rl.replace_history(i, masked) end
  end
end

-- Option names inside a binding's options table: `shortpixel.add_domain("x", {ke`
local function option_candidates(text, before)
  local fname = before:match("([%a_][%w_]*%.[%a_][%w_]*)%s*%([^()]*{[^{}]*$")
  if not fname or not text:match("^[%w_]*$") then return nil end
  local op = require("cdnctl.ops").by_name[fname]
  if not op then return nil end
  local names = {}
  for _, o in ipairs(require("cdnctl.ops").common_option_list) do names[#names + 1] = o.name end
  for k in pairs(op.options or {}) do names[#names + 1] = k end
  for _, a in ipairs(op.args) do
    if a.fields then for k in pairs(a.fields) do names[#names + 1] = k end end
  end
  local out = {}
  for _, n in ipairs(names) do
    if n:sub(1, #text) == text then out[#out + 1] = n .. " = " end
  end
  table.sort(out)
  return out
end

-- Candidates for completing `text` (globals, fields by dotted/colon path,
-- keywords, option names inside a binding's options table). `line` and
-- `start` (0-based) give the context when readline has them.
function M.complete(text, line, start)
  if line and start then
    local opts = option_candidates(text, line:sub(1, start))
    if opts then return opts end
  end
  local path, sep, partial = text:match("^([%w_%.:]-)([%.:]?)([%w_]*)$")
  if not path then return {} end
  local out = {}
  local function add_fields(t, prefix, methods_only)
    local seen = {}
    local cur = t
    local guard = 0
    while type(cur) == "table" and guard < 5 do
      for k, v in pairs(cur) do
        if type(k) == "string" and k:match("^[%a_][%w_]*$") and k:sub(1, #partial) == partial and not seen[k] then
          if not methods_only or type(v) == "function" then
            seen[k] = true
            local suffix = type(v) == "function" and "(" or (type(v) == "table" and "." or "")
            out[#out + 1] = prefix .. k .. suffix
          end
        end
      end
      local mt = getmetatable(cur)
      cur = mt and type(mt.__index) == "table" and mt.__index or nil
      guard = guard + 1
    end
  end
  if sep == "" then
    add_fields(_G, "")
    for _, kw in ipairs(KEYWORDS) do
      if kw:sub(1, #partial) == partial then out[#out + 1] = kw end
    end
  else
    local t = _G
    for name in path:gmatch("[^%.:]+") do
      if type(t) ~= "table" then return {} end
      t = rawget(t, name) or t[name]
    end
    if type(t) == "string" then t = string end
    if type(t) ~= "table" then return {} end
    add_fields(t, path .. sep, sep == ":")
  end
  table.sort(out)
  return out
end

-- The values a line returned, side by side; trailing nils after the first
-- value dropped (a binding's `result, nil` shows as its result).
local function print_results(res)
  while res.n > 1 and res[res.n] == nil do res.n = res.n - 1 end
  if res.n == 0 then return end
  local parts = {}
  for i = 1, res.n do parts[i] = pretty.format(res[i]) end
  local line = table.concat(parts, "\t")
  io.stdout:write(redact.mask(line), "\n") -- a key asked for (os.getenv) shows masked too
end

-- Compile a line (and what came before it): function | nil, "incomplete" | nil, message
local function compile(buffer)
  local f = load("return " .. buffer .. ";", "=stdin", "t")
  if f then return f end
  local g, err = load(buffer, "=stdin", "t")
  if g then return g end
  if err:find("<eof>$") then return nil, "incomplete" end
  return nil, err
end

-- The banner: per service the base URL and the key (masked) with its
-- source, as config.resolve decides for the bindings.
-- opts.lib: the library (cdnctl.new) whose settings are shown.
function M.banner(opts)
  local s, ops = opts.lib.settings, require "cdnctl.ops"
  local parts = { "cdnctl " .. host.version .. (opts.sandbox and " (sandbox)" or "") }
  for _, service in ipairs(ops.service_order) do -- each service's first base URL and its key
    local k, from = config.key(s, service)
    parts[#parts + 1] = string.format("%s %s key %s", service, config.url(s, ops.services[service].urls[1].name),
      k and (redact.short(k) .. " (from " .. tostring(from) .. ")") or "(none)")
  end
  return table.concat(parts, "  ") .. "\nhelp() lists the bindings; Tab completes; Ctrl-D quits."
end

-- What the prompt prints for an error of a line (msg: message and
-- traceback): the message, with its traceback only when debugging. A
-- Ctrl-C that stopped the line (the hook's "interrupted!", wherever it
-- fired, or a wait's "interrupted") is just "interrupted": where it fired
-- is the library's business, not the user's.
function M.error_text(msg, debugging)
  local first = msg:match("^[^\n]*")
  if first:match("^interrupted!?$") or first:match("^[^\n]-:%d+: interrupted!$") then return "interrupted" end
  msg = require("cdnctl.suggest").explain(msg)
  if not debugging then msg = msg:gsub("\nstack traceback:.*$", "") end
  return msg
end

-- M.run{lib =, sandbox =}: the prompt until Ctrl-D or os.exit. The globals
-- are the prompt's library (cdnctl.front.guard): destructive bindings ask
-- first while stdin and stderr are terminals. -> 0
function M.run(opts)
  opts = opts or {}
  if opts.lib then
    local s = opts.lib.settings
    require("cdnctl.settings").change(s, { confirm = fs.isatty(0) and fs.isatty(2) })
    require("cdnctl").install_globals(require("cdnctl.front.guard").wrap(opts.lib))
  end
  rl.set_completer(function(text, line, start) return M.complete(text, line, start) end)
  local dir, hist = M.history_path()
  fs.mkdir_p(dir, 448) -- 0700
  rl.read_history(hist)
  io.stdout:write(M.banner(opts), "\n")
  local buffer
  local known_keys = -1
  while true do
    local line = rl.readline(buffer and ">> " or "> ")
    if line == nil then io.stdout:write("\n"); break end
    local _, signame = host.stop_signal()
    if line == false and (signame == "SIGTERM" or signame == "SIGHUP") then break end -- stopped, not a Ctrl-C
    if line == false then
      buffer = nil
    else
      buffer = buffer and (buffer .. "\n" .. line) or line
      local f, err = compile(buffer)
      if f or err ~= "incomplete" then
        if buffer:find("%S") then rl.add_history(M.mask_line(buffer)) end
        local src = buffer
        buffer = nil
        if not f then
          io.stderr:write(err, "\n")
        else
          local res = table.pack(host.pcall(f))
          if res[1] then
            table.remove(res, 1)
            res.n = res.n - 1
            print_results(res)
          else
            io.stderr:write(M.error_text(tostring(res[2]), require("cdnctl.http").debug()), "\n")
          end
        end
        M.remember_keys(src)
        if redact.count() ~= known_keys then -- a new key: earlier lines may hold it
          M.remask_history()
          known_keys = redact.count()
        end
      end
    end
  end
  rl.write_history(hist)
  return 0
end

return M
