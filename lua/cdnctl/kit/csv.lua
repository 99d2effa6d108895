-- cdnctl.kit.csv: CSV for the ready scripts, read as spreadsheets and Python's
-- csv module read it. Quoted fields, commas and newlines inside quotes,
-- doubled quotes, CRLF, LF or CR line ends, a UTF-8 BOM and blank lines;
-- a quote inside an unquoted field (Joe"s Bakery) is a literal, and so is
-- text after a closing quote ("a"b reads ab). A quote that never closes
-- spoils its own record only: that record carries an error with its line,
-- and reading goes on from the next line. Reading streams: a record at a
-- time from a function that gives the next piece of text.
-- Writing quotes fields when they need it.

local M = {}

-- Private keys of a table row: a column named "line" or "error" is data.
local LINE, ERROR = {}, {}
local ROW_MT = { __index = function(row, k)
  if k == "line" then return rawget(row, LINE) elseif k == "error" then return rawget(row, ERROR) end
end }

-- csv.line(row): the line a row starts on; csv.problem(row): why the row is
-- unreadable (nil when it is fine). Both work whatever the columns are called.
function M.line(row) return rawget(row, LINE) end
function M.problem(row) return rawget(row, ERROR) end

-- A source of text pieces from a string (the whole string once).
local function from_string(text)
  local done = false
  return function()
    if done then return nil end
    done = true
    return text
  end
end

-- A reader over more(): the text not yet consumed (buf from pos), the line
-- pos is on, and, while a record is read, its text so far (raw: the pieces
-- dropped from buf, then buf from rstart) to give back if a quote never closes.
local function reader(more, delim)
  delim = delim or ","
  return { more = more, buf = "", pos = 1, line = 1, eof = false, raw = nil, rstart = 1,
           delim = delim, stop = "[" .. delim .. "\r\n]" }
end

-- Append the next piece to what is left of buf; false at the end.
local function fill(r)
  if r.eof then return false end
  local piece = r.more()
  if piece == nil then r.eof = true; return false end
  if r.raw then r.raw[#r.raw + 1] = r.buf:sub(r.rstart, r.pos - 1) end
  r.buf, r.pos, r.rstart = r.buf:sub(r.pos) .. piece, 1, 1
  return true
end

-- Consume buf[pos..j-1] into the field, counting its line ends.
local function take(r, parts, j)
  local chunk = r.buf:sub(r.pos, j - 1)
  local _, nl = chunk:gsub("\n", "")
  r.line = r.line + nl
  parts[#parts + 1] = chunk
  r.pos = j
end

-- Inside quotes: text up to the next quote; a doubled quote is a quote, a
-- single one closes the quotes. Returns whether the field is still quoted.
local function quoted_step(r, parts)
  local j = r.buf:find('"', r.pos, true)
  if j == #r.buf and not r.eof then
    fill(r) -- a closing quote or the first of a doubled one: the next byte decides
  elseif not j then
    take(r, parts, #r.buf + 1)
  else
    take(r, parts, j)
    if r.buf:sub(j + 1, j + 1) == '"' then parts[#parts + 1] = '"'; r.pos = j + 2
    else r.pos = j + 1; return false end
  end
  return true
end

-- Outside quotes, on the record being read (st: rec, parts, at_start,
-- quoted): an opening quote, a comma, a line end or unquoted text (quotes
-- included). Returns true when the line end closes the record.
local function unquoted_step(r, st)
  local pos = r.pos
  local c = r.buf:sub(pos, pos)
  if st.at_start and c == '"' then
    st.quoted, st.at_start = true, false
    r.pos = pos + 1
  elseif c == r.delim then
    st.rec[#st.rec + 1] = table.concat(st.parts)
    st.parts, st.at_start = {}, true
    r.pos = pos + 1
  elseif c == "\n" or c == "\r" then
    st.rec[#st.rec + 1] = table.concat(st.parts)
    if c == "\r" and r.pos == #r.buf then fill(r) end -- CRLF split between pieces
    if c == "\r" and r.buf:sub(r.pos + 1, r.pos + 1) == "\n" then r.pos = r.pos + 1 end
    r.pos, r.line = r.pos + 1, r.line + 1
    r.raw = nil
    return true
  else
    local j = r.buf:find(r.stop, pos)
    st.parts[#st.parts + 1] = r.buf:sub(pos, j and j - 1 or #r.buf)
    r.pos, st.at_start = j or #r.buf + 1, false
  end
  return false
end

-- One record from buf[pos]: the record | nil at the end | nil, its text, its
-- line (a quote never closed).
local function read_record(r)
  while r.pos > #r.buf do if not fill(r) then return nil end end
  local st = { rec = { line = r.line }, parts = {}, quoted = false, at_start = true }
  r.raw, r.rstart = {}, r.pos
  while true do
    if r.pos > #r.buf and not fill(r) then
      if st.quoted then return nil, table.concat(r.raw) .. r.buf:sub(r.rstart), st.rec.line end
      st.rec[#st.rec + 1] = table.concat(st.parts)
      return st.rec
    end
    if st.quoted then
      st.quoted = quoted_step(r, st.parts)
    elseif unquoted_step(r, st) then
      return st.rec
    end
  end
end

-- A UTF-8 BOM at the start, even when the first pieces are shorter than it.
local function skip_bom(r)
  while #r.buf < 3 and fill(r) do end
  if r.buf:sub(1, 3) == "\239\187\191" then r.pos = 4 end
end

-- The quote never closed: this record is its first line, and the text after
-- that line is read again as records.
local function spoiled_record(r, text, sline)
  local first, rest = text:match("^([^\r\n]*)\r?\n?(.*)$")
  r.buf, r.pos, r.line, r.eof = rest, 1, sline + 1, true
  return { first, line = sline, error = "line " .. sline .. ": unterminated quoted field" }
end

-- The delimiter a header line uses: ";" (what spreadsheets write in locales
-- whose decimal mark is a comma) when it has more semicolons than commas
-- outside quotes, else ",".
local function detect_delimiter(r)
  while not r.buf:find("[\r\n]", r.pos) and fill(r) do end
  local first = r.buf:match("^[^\r\n]*", r.pos):gsub('"[^"]*"', "")
  local _, commas = first:gsub(",", "")
  local _, semicolons = first:gsub(";", "")
  return semicolons > commas and ";" or ","
end

-- The records of reader r (see M.records); r.delim is fixed at the first
-- record, from the first line when r.auto.
local function records_of(r)
  local started = false
  return function()
    if not started then
      started = true
      skip_bom(r)
      if r.auto then r.delim = detect_delimiter(r); r.stop = "[" .. r.delim .. "\r\n]" end
    end
    while true do
      local rec, spoiled, sline = read_record(r)
      r.raw = nil
      if spoiled then return spoiled_record(r, spoiled, sline) end
      if not rec then return nil end
      if not (#rec == 1 and rec[1] == "") then return rec end
    end
  end
end

-- M.records(more [, delim]) -> iterator of records {fields..., line = n [, error = msg]}
-- more() gives the next piece of text (any size: a line, a block) or nil at
-- the end. delim is "," (the default), ";" or "auto" (from the first line).
-- Blank lines are skipped. A record whose quote never closes has an error,
-- and its fields are its first line as one field.
function M.records(more, delim)
  local r = reader(more, delim ~= "auto" and delim or nil)
  r.auto = delim == "auto"
  return records_of(r)
end

-- M.parse(text) -> {{line = n [, error = msg], fields...}...} | nil, message
-- Each record is an array of fields with .line, the line it starts on, and
-- .error when it cannot be read (an unterminated quote). Blank lines are skipped.
function M.parse(text)
  if type(text) ~= "string" then return nil, "CSV text expected" end
  local records = {}
  for rec in M.records(from_string(text)) do records[#records + 1] = rec end
  return records
end

-- Cleans the header record: names trimmed and lower-cased, none empty.
local function read_header(rec)
  if rec.error then return nil, rec.error end
  local header = {}
  for i, h in ipairs(rec) do
    h = h:match("^%s*(.-)%s*$"):lower()
    if h == "" then return nil, "line " .. rec.line .. ": header column " .. i .. " is empty" end
    header[i] = h
  end
  return header
end

-- A record as a row keyed by header name (values trimmed, missing ones
-- ""); csv.line(row) and csv.problem(row) give its line and its error.
local function to_row(rec, header)
  local row = setmetatable({ [LINE] = rec.line }, ROW_MT)
  if rec.error then
    row[ERROR] = rec.error
  elseif #rec > #header then
    row[ERROR] = string.format("line %d: %d fields but the header has %d", rec.line, #rec, #header)
  end
  for i, name in ipairs(header) do
    local v = not rec.error and rec[i] or nil
    row[name] = v and v:match("^%s*(.-)%s*$") or ""
  end
  return row
end

-- M.table_reader(more [, delim]) -> header, next_row, delimiter | nil, message
-- Streams rows keyed by header name from more() (see M.records; delim as
-- there, "," by default), and says which delimiter it reads with.
function M.table_reader(more, delim)
  local r = reader(more, delim ~= "auto" and delim or nil)
  r.auto = delim == "auto"
  local recs = records_of(r)
  local first = recs()
  if not first then return nil, "the CSV is empty (a header line is needed)" end
  local header, err = read_header(first)
  if not header then return nil, err end
  return header, function()
    local rec = recs()
    return rec and to_row(rec, header)
  end, r.delim
end

-- M.blocks_of(file [, size]) -> a source of text pieces reading file in blocks
function M.blocks_of(file, size)
  return function() return file:read(size or 65536) end
end

-- M.parse_table(text) -> rows keyed by header name, header | nil, message
function M.parse_table(text)
  if type(text) ~= "string" then return nil, "CSV text expected" end
  local header, next_row = M.table_reader(from_string(text))
  if not header then return nil, next_row end
  local rows = {}
  for row in next_row do rows[#rows + 1] = row end
  return rows, header
end

local function quote(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\r\n]') or v:match("^%s") or v:match("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

-- M.format_row(row, columns) -> one CSV line with its "\n"
function M.format_row(row, columns)
  local f = {}
  for i, c in ipairs(columns) do f[i] = quote(row[c]) end
  return table.concat(f, ",") .. "\n"
end

-- M.format(rows, columns) -> CSV text with a header line (CRLF-free, LF ends)
function M.format(rows, columns)
  local h = {}
  for i, c in ipairs(columns) do h[c] = c; h[i] = c end
  local out = { M.format_row(h, columns) }
  for _, row in ipairs(rows) do out[#out + 1] = M.format_row(row, columns) end
  return table.concat(out)
end

return M
