-- CSV as spreadsheets write it: a column named "error" or "line" is data,
-- a stray quote in an unquoted field is a literal, an unterminated quote
-- spoils its own record only, and reading streams from pieces of any size.
local t = require "t"
local csv = require "cdnctl.kit.csv"

-- every split of text into pieces of n bytes gives the same records
local function pieces(text, n)
  local i = 1
  return function()
    if i > #text then return nil end
    local p = text:sub(i, i + n - 1)
    i = i + n
    return p
  end
end
local function collect(it)
  local out = {}
  for r in it do out[#out + 1] = r end
  return out
end

local cases = {
  { "plain rows", "a,b\n1,2\n", { { "a", "b", line = 1 }, { "1", "2", line = 2 } } },
  { "a stray quote in an unquoted field is a literal", "domain\nJoe\"s Bakery,x\"\n",
    { { "domain", line = 1 }, { 'Joe"s Bakery', 'x"', line = 2 } } },
  { "text after a closing quote is kept, as Python's csv does", '"a"b,c\n', { { "ab", "c", line = 1 } } },
  { "doubled quotes, CRLF and a newline inside quotes", '"a""b",c\r\n"x\ny",z',
    { { 'a"b', "c", line = 1 }, { "x\ny", "z", line = 2 } } },
  { "an unterminated quote spoils its own record and the next lines are read",
    'a\n"unterminated,1\nx\ny\n',
    { { "a", line = 1 }, { '"unterminated,1', line = 2, error = "line 2: unterminated quoted field" },
      { "x", line = 3 }, { "y", line = 4 } } },
  { "a BOM and blank lines are skipped", "\239\187\191h\n\n\r\nv\n", { { "h", line = 1 }, { "v", line = 4 } } },
  { "CR alone ends a record", "a\rb\r", { { "a", line = 1 }, { "b", line = 2 } } },
}
for _, c in ipairs(cases) do
  t.test(c[1], function()
    t.same(csv.parse(c[2]), c[3])
    for n = 1, 4 do t.same(collect(csv.records(pieces(c[2], n))), c[3], "pieces of " .. n .. " bytes") end
  end)
end

t.test("columns named error and line are data; csv.line and csv.problem give the metadata", function()
  local rows = assert(csv.parse_table("domain,status,error,line\nx.com,ok,,\ny.com,failed,boom,7\n"))
  t.eq(rows[1].error, "")
  t.eq(rows[1].line, "")
  t.eq(csv.problem(rows[1]), nil)
  t.eq(csv.line(rows[1]), 2)
  t.eq(rows[2].error, "boom")
  t.eq(rows[2].line, "7")
  t.eq(csv.line(rows[2]), 3)
end)

t.test("without such columns, row.line and row.error still give the metadata", function()
  local rows = assert(csv.parse_table('domain\na.com\n"b.com\n'))
  t.eq(rows[1].line, 2)
  t.eq(rows[1].error, nil)
  t.eq(rows[2].line, 3)
  t.eq(rows[2].error, "line 3: unterminated quoted field")
  t.eq(rows[2].domain, "")
end)

t.test("a row with too many fields is a problem of that row only", function()
  local rows = assert(csv.parse_table("domain,error\na.com,x,y\nb.com,\n"))
  t.eq(csv.problem(rows[1]), "line 2: 3 fields but the header has 2")
  t.eq(csv.problem(rows[2]), nil)
  t.eq(rows[2].domain, "b.com")
end)

t.test("an unterminated quote in the header is an error of the file", function()
  local rows, err = csv.parse_table('"domain\na.com\n')
  t.eq(rows, nil)
  t.eq(err, "line 1: unterminated quoted field")
end)

t.test("table_reader streams rows from a file in blocks", function()
  local p = os.tmpname()
  local f = assert(io.open(p, "wb"))
  f:write("domain,error\n")
  for i = 1, 1000 do f:write("d", i, ".com,\n") end
  f:close()
  f = assert(io.open(p, "rb"))
  local header, next_row = csv.table_reader(csv.blocks_of(f, 100))
  t.same(header, { "domain", "error" })
  local n, last = 0, nil
  for row in next_row do n = n + 1; last = row end
  f:close()
  os.remove(p)
  t.eq(n, 1000)
  t.eq(last.domain, "d1000.com")
  t.eq(csv.line(last), 1001)
end)

t.test("format quotes what needs it and reads back the same", function()
  local rows = { { a = 'Joe"s', b = "x,y" }, { a = " lead", b = "" } }
  local text = csv.format(rows, { "a", "b" })
  t.eq(text, 'a,b\n"Joe""s","x,y"\n" lead",\n')
  local back = csv.parse_table(text)
  t.eq(back[1].a, 'Joe"s')
  t.eq(back[2].a, " lead" and back[2].a, "lead") -- values are trimmed on reading
end)

t.test("table_reader with 'auto' reads ',' or ';' from the header line, in pieces of any size", function()
  local function rows_of(text, n)
    local header, next_row, delim = csv.table_reader(pieces(text, n), "auto")
    local out = {}
    for row in next_row do out[#out + 1] = { row.domain, row.service } end
    return header, out, delim
  end
  for n = 1, 5 do
    local h, rows, d = rows_of('domain;service\r\n"a;b.com";x,y\r\nc.com;z\r\n', n)
    t.eq(d, ";", "pieces of " .. n)
    t.same(h, { "domain", "service" })
    t.same(rows, { { "a;b.com", "x,y" }, { "c.com", "z" } })
    local _, _, d2 = rows_of('"x;y",domain\n1,2\n', n)
    t.eq(d2, ",", "a quoted semicolon does not count")
  end
  local _, _, plain = csv.table_reader(pieces("domain;service\n", 3))
  t.eq(plain, ",", "without 'auto', the delimiter is ','")
end)

t.done()
