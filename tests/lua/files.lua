-- Files are never destroyed: the output rules of fs.check_output and the
-- script helpers built on them (script.outputs, read_input, read_file), as
-- onboard.lua's --out, --journal and CSV input will use them. The
-- command-line side (report, purge, keys, --har, /dev/null) is in
-- tests/cli/files.sh.
local t = require "t"
local fs = require "cdnctl.fs"
local script = require "cdnctl.kit.script"

local dir = os.tmpname()
os.remove(dir)
assert(fs.mkdir_p(dir))
local function path(name) return dir .. "/" .. name end
local function put(name, text, mode)
  local f = assert(io.open(path(name), "wb"))
  f:write(text)
  f:close()
  if mode then os.execute(string.format("chmod %o '%s'", mode, path(name))) end
  return path(name)
end
local function slurp(p) return assert(t.slurp(p)) end
local function mode(p) return fs.stat(p).mode end

t.test("check_output classifies without writing: new, regular, device", function()
  local out = assert(fs.check_output(path("new.csv")))
  t.eq(out.kind, "new")
  t.eq(out.target, path("new.csv"))
  t.eq(fs.stat(path("new.csv")), nil, "nothing created")
  t.eq(assert(fs.check_output(put("old.csv", "x"))).kind, "regular")
  local null = assert(fs.check_output("/dev/null"))
  t.eq(null.kind, "device")
  t.eq(null:identity(), nil, "a character device is no one's file")
  null:close()
end)

t.test("check_output refuses a directory, a missing folder and an empty name, with the reason", function()
  t.same({ fs.check_output(dir) }, { nil, dir .. " is a directory, not a file" })
  t.same({ fs.check_output(path("no/x.csv")) }, { nil, "cannot write " .. path("no/x.csv") .. ": the folder " .. path("no") .. " does not exist" })
  t.same({ fs.check_output("") }, { nil, "an empty file name" })
end)

t.test("replace: a new file gets 0644, or the mode asked; a regular file keeps its own", function()
  assert(script.write_file(path("a.csv"), "one"))
  t.eq(mode(path("a.csv")), tonumber("644", 8))
  assert(assert(fs.check_output(path("b.csv"), tonumber("600", 8))):replace("two"))
  t.eq(mode(path("b.csv")), tonumber("600", 8))
  put("c.csv", "old", tonumber("640", 8))
  assert(assert(fs.check_output(path("c.csv"), tonumber("600", 8))):replace("new"))
  t.eq(slurp(path("c.csv")), "new")
  t.eq(mode(path("c.csv")), tonumber("640", 8), "mode kept")
end)

t.test("write_file's mode, when given, is every file's (the sandbox's private state)", function()
  put("state.json", "{}", tonumber("644", 8))
  assert(script.write_file(path("state.json"), "{ }", tonumber("600", 8)))
  t.eq(mode(path("state.json")), tonumber("600", 8))
end)

t.test("a symlink is followed: the target replaced, the link kept", function()
  put("target.csv", "old")
  os.execute(string.format("ln -s target.csv '%s'", path("link.csv")))
  assert(script.write_file(path("link.csv"), "new"))
  t.eq(slurp(path("target.csv")), "new")
  t.eq(os.execute(string.format("test -L '%s'", path("link.csv"))), true, "still a link")
end)

t.test("a stream is written once: a second replace says so", function()
  local out = assert(fs.check_output("/dev/null"))
  t.eq(out:replace("x"), true)
  t.same({ out:replace("y") }, { nil, "/dev/null was written already" })
end)

t.test("open (written as it goes): the file replaced by the first text, then written on", function()
  put("h.har", "old content", tonumber("644", 8))
  local f = assert(assert(fs.check_output(path("h.har"), tonumber("600", 8), true)):open("head"))
  f:write("+entry")
  f:close()
  t.eq(slurp(path("h.har")), "head+entry")
  t.eq(mode(path("h.har")), tonumber("600", 8), "force_mode: 0600 even for an existing file")
end)

t.test("script.outputs: two outputs that are one file are refused, named in order", function()
  t.same({ script.outputs({ ["--out"] = path("r.csv"), ["--journal"] = { path = path("r.csv"), mode = 384 } }) },
    { nil, "--journal and --out are the same file (" .. path("r.csv") .. "): refused" })
end)

t.test("script.outputs: an output that is the input (a hard link too) is refused", function()
  put("in.csv", "domain\n")
  os.execute(string.format("ln '%s' '%s'", path("in.csv"), path("in.link")))
  t.same({ script.outputs({ ["--out"] = path("in.link") }, { path("in.csv") }) },
    { nil, "--out " .. path("in.link") .. " is the input " .. path("in.csv") .. ": refused, it would be overwritten" })
end)

t.test("script.outputs: nil paths are no output; a character device may be shared", function()
  local outs = assert(script.outputs({ ["--out"] = "/dev/null", ["--journal"] = { path = "/dev/null" }, ["--csv"] = nil }))
  t.eq(outs["--out"].kind, "device")
  t.eq(outs["--journal"].kind, "device")
  t.eq(outs["--csv"], nil)
  outs["--out"]:close(); outs["--journal"]:close()
end)

t.test("read_input: a directory, a NUL byte, a missing file fail with the path and the reason", function()
  t.same({ script.read_input(dir) }, { nil, dir .. ": is a directory, not a file" })
  t.same({ script.read_input(put("bin", "ab\0c")) }, { nil, path("bin") .. ": not a text file (a NUL byte at offset 2)" })
  t.same({ script.read_input(path("missing")) }, { nil, path("missing") .. ": No such file or directory" })
  t.eq(script.read_input(put("ok.csv", "domain\nexample.com\n")), "domain\nexample.com\n")
end)

t.test("the cap: a longer input fails, saying the limit", function()
  t.eq(script.INPUT_CAP, 64 * 1024 * 1024)
  t.same({ script.read(put("five", "12345"), 4, true) }, { nil, path("five") .. ": longer than 4 bytes, the limit on inputs" })
  t.same({ script.read("/dev/zero", 1 << 20) }, { nil, "/dev/zero: longer than 1 MiB, the limit on inputs" })
  t.eq(script.read(path("five"), 5), "12345")
end)

t.test("read_file keeps every byte (a journal torn by a crash may hold NULs)", function()
  t.eq(script.read_file(put("torn", "{}\n\0\0\0")), "{}\n\0\0\0")
end)

os.execute(string.format("rm -rf '%s'", dir))
t.done()
