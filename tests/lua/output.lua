-- What a script writes is 8-bit clean and masked: print, io.write and
-- file:write keep every byte (NUL included) and mask registered keys, raw
-- or encoded, wherever they sit among the bytes.
local t = require "t"
local redact = require "cdnctl.redact"

local KEY = "OUTPUTsecretKey12345"
redact.add(KEY)

local function tmpname()
  local p = os.tmpname()
  return p
end
local function slurp(p) return assert(t.slurp(p)) end

t.test("file:write writes every byte of a string with NUL bytes and reports success", function()
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  t.eq(f:write("A\0B\0C"), f, "write returns the file")
  f:close()
  t.eq(slurp(p), "A\0B\0C")
  os.remove(p)
end)

t.test("file:write of binary data (all 256 byte values) is unchanged", function()
  local bytes = {}
  for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
  local data = table.concat(bytes):rep(64)
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(data, "\0", data)
  f:close()
  t.ok(slurp(p) == data .. "\0" .. data, "the bytes read back are the bytes written")
  os.remove(p)
end)

t.test("a key after a NUL byte is masked, and the bytes around it are kept", function()
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  f:write("a\0b\0", KEY, "\0c;", "x\0" .. KEY .. "\0y")
  f:close()
  t.eq(slurp(p), "a\0b\0****2345\0c;x\0****2345\0y")
  os.remove(p)
end)

t.test("io.write to a file is NUL-safe and masks keys, percent-encoded ones too", function()
  local p = tmpname()
  local prev = io.output()
  io.output(p)
  io.write("1\0", "2\0", "cell,OUTPUTsecretKey12345\0", "url=/" .. KEY:gsub(".", function(c) return string.format("%%%02X", c:byte()) end))
  io.close()
  io.output(prev)
  t.eq(slurp(p), "1\0002\000cell,****2345\0url=/****2345")
  os.remove(p)
end)

t.done()
