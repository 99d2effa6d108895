-- cdnctl.kit.files: the one check of a run's files, made before any request
-- by every ready script and front end (docs/scripts.md, "Files"). It owns
-- which paths may be used together: every output of a run (--out,
-- --journal, --csv, --html, --json FILE, --prometheus, --har) against every
-- input and every other output, through symbolic and hard links; standard
-- output carrying one output at most; a journal being a regular file or a
-- path that does not exist yet; and `-` meaning standard output for an
-- output and standard input for an input. What a single path may be (a
-- device, a FIFO with a reader, a folder that exists...) is fs.check_output's
-- (src/fs.c); how an input is read within a cap is cdnctl.kit.script's.

local fs = require "cdnctl.fs"
local host = require "cdnctl.host"

local M = {}

-- How long an input FIFO may go without a writer (ms): outputs have their
-- own wait (fs.check_output: a FIFO nobody reads is refused).
M.FIFO_GRACE_MS = 5000

-- The names that stand for standard output.
local STDOUT_NAMES = { ["-"] = true, ["/dev/stdout"] = true, ["/dev/fd/1"] = true, ["/proc/self/fd/1"] = true }

-- M.output_path(path) -> path, with `-` as /dev/stdout.
function M.output_path(path)
  if path == "-" then return "/dev/stdout" end
  return path
end

-- M.input_path(path) -> path, with `-` as /dev/stdin.
function M.input_path(path)
  if path == "-" then return "/dev/stdin" end
  return path
end

-- Whether path, an output, lands on standard output: by its name, or (not
-- a character device, which outputs may share) by being what fd 1 is.
local function on_stdout(path, stdout_id)
  if STDOUT_NAMES[path] then return true end
  local st = stdout_id and fs.stat(path)
  return st ~= nil and not st.device and st.id == stdout_id
end

-- The name a message gives an owner of a file.
local function owner_text(o)
  return o.input and ("the input " .. o.input) or o.name
end

-- Checks each output by fs.check_output, the journal's kind too.
-- -> {{name, out, stdout}...} sorted by name, the --har first | nil, message
local function check_each(outputs, stdout_id, s)
  local checked, names = {}, {}
  local har = require("cdnctl.har").output(s.har)
  if har then checked[1] = { name = "--har", out = har, stdout = on_stdout(har.path, stdout_id) } end
  for name in pairs(outputs) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local spec = outputs[name]
    if type(spec) ~= "table" then spec = { path = spec } end
    if spec.path then
      local path = M.output_path(spec.path)
      local st = spec.journal and fs.stat(path)
      if st and st.type ~= "file" then
        return nil, string.format("%s %s is not a regular file: a journal is a regular file or a new path", name, path)
      end
      local out, err = fs.check_output(path, spec.mode, spec.force_mode)
      if not out then return nil, name .. ": " .. err end
      checked[#checked + 1] = { name = name, out = out, stdout = on_stdout(path, stdout_id) }
    end
  end
  return checked
end

-- M.check(outputs [, inputs [, stdout [, s]]]) -> {[name] = out} | nil, message
-- outputs maps a name (the option: "--csv") to a path, or to {path =,
-- mode =, force_mode =, journal = true} (mode: a new file's, default 0644,
-- e.g. 384 = 0600; force_mode: every file's; journal: a regular file or a
-- new path only); a nil path is no
-- output. inputs lists the paths the run reads. stdout names what else the
-- run writes to standard output as a document of its own ("--json"), or is
-- nil. Refused: what fs.check_output refuses; two outputs that are one file
-- (through links and hard links, or one new path); an output that is an
-- input; two outputs on standard output. Outputs may share a character
-- device (/dev/null). The --har recording (settings.har) is one of the
-- outputs; a refusal abandons it, so nothing is written. Each out is a
-- cdnctl.Output. s: the settings value (default cdnctl.settings).
function M.check(outputs, inputs, stdout, s)
  s = s or cdnctl.settings
  local stdout_st = fs.stat("/dev/stdout")
  local owners = {} -- identity -> {name =} | {input =}
  for _, path in ipairs(inputs or {}) do
    local st = fs.stat(M.input_path(path))
    if st and not st.device then owners[st.id] = owners[st.id] or { input = path } end
  end
  local checked, err = check_each(outputs, stdout_st and stdout_st.id, s)
  if not checked then return M.refused(err, s) end
  local result, to_stdout = {}, stdout
  for _, c in ipairs(checked) do
    if c.stdout and to_stdout then
      return M.refused(string.format("%s and %s both go to standard output: give one of them a file", to_stdout, c.name), s)
    end
    to_stdout = c.stdout and c.name or to_stdout
    local id = c.out:identity()
    local o = id and owners[id]
    if o and o.input then
      return M.refused(string.format("%s %s is the input %s: refused, it would be overwritten", c.name, c.out.path, o.input), s)
    elseif o then
      return M.refused(string.format("%s and %s are the same file (%s): refused", owner_text(o), c.name, c.out.path), s)
    end
    if id then owners[id] = { name = c.name } end
    if c.name ~= "--har" then result[c.name] = c.out end
  end
  return result
end

-- M.refused(message [, s]) -> nil, message: the --har recording not
-- started yet is abandoned (nothing written), as every refusal of M.check does.
function M.refused(message, s)
  require("cdnctl.har").abandon((s or cdnctl.settings).har)
  return nil, message
end

-- M.open_input(path) -> file, kind, size | nil, "PATH: why". Opens an input
-- (`-` is standard input) by fs.open_read. A FIFO with no writer yet gets
-- M.FIFO_GRACE_MS for one, said on stderr, then is refused ("a FIFO with no
-- writer"); a stop signal while waiting ends the run: one line, exit 128 +
-- the signal.
function M.open_input(path)
  path = M.input_path(path)
  local f, kind, size = fs.open_read(path)
  if f or size ~= "nowriter" then return f, kind, size end
  io.stderr:write(string.format("%s: a FIFO: waiting up to %d s for a writer\n", path, M.FIFO_GRACE_MS // 1000))
  local armed = host.arm(false) -- the wait sees the signal itself, rather than a raise
  local why, code
  f, kind, size = fs.open_read(path, M.FIFO_GRACE_MS)
  host.arm(armed)
  why, code = kind, size
  if f then return f, kind, size end
  if code == "interrupted" then
    local sig, name = host.stop_signal()
    io.stderr:write(why, " (", name, "); nothing was done\n")
    cdnctl.exit(128 + sig)
  end
  return nil, why
end

return M
