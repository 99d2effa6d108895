-- cdnctl.csv: RFC 4180 CSV for the ready scripts. Reads quoted fields,
-- commas and newlines inside quotes, doubled quotes, CRLF or LF line ends,
-- a UTF-8 BOM and blank lines; writes fields quoted when they need it.

local M = {}

-- M.parse(text) -> {{line = n, fields...}...} | nil, message
-- Each record is an array of fields with .line, the line it starts on.
-- Blank lines are skipped. An unterminated quote is an error with its line.
function M.parse(text)
  if type(text) ~= "string" then return nil, "CSV text expected" end
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
  local records, rec, field = {}, nil, {}
  local i, n, line = 1, #text, 1
  local rec_line = 1
  local function end_field()
    rec = rec or {}
    rec[#rec + 1] = table.concat(field)
    field = {}
  end
  local function end_record()
    end_field()
    local blank = #rec == 1 and rec[1] == ""
    if not blank then
      rec.line = rec_line
      records[#records + 1] = rec
    end
    rec = nil
  end
  local at_start = true
  while i <= n do
    local c = text:sub(i, i)
    if at_start and c == '"' then
      -- a quoted field
      local qline = line
      i = i + 1
      while true do
        if i > n then return nil, "line " .. qline .. ": unterminated quoted field" end
        local j = text:find('"', i, true)
        if not j then return nil, "line " .. qline .. ": unterminated quoted field" end
        local chunk = text:sub(i, j - 1)
        local _, nl = chunk:gsub("\n", "")
        line = line + nl
        field[#field + 1] = chunk
        if text:sub(j + 1, j + 1) == '"' then
          field[#field + 1] = '"'
          i = j + 2
        else
          i = j + 1
          break
        end
      end
      local nc = text:sub(i, i)
      if i <= n and nc ~= "," and nc ~= "\n" and nc ~= "\r" then
        return nil, "line " .. line .. ": unexpected character after a closing quote"
      end
      at_start = false
    elseif c == "," then
      end_field()
      i = i + 1
      at_start = true
    elseif c == "\r" or c == "\n" then
      end_record()
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      i = i + 1
      line = line + 1
      rec_line = line
      at_start = true
    else
      local j = text:find('[,\r\n"]', i)
      local stop = j and j - 1 or n
      if j and text:sub(j, j) == '"' then
        return nil, "line " .. line .. ": quote inside an unquoted field"
      end
      field[#field + 1] = text:sub(i, stop)
      i = stop + 1
      at_start = false
    end
  end
  if rec or #field > 0 or not at_start then end_record() end
  return records
end

-- M.parse_table(text) -> rows keyed by header name (each with .line), header | nil, message
function M.parse_table(text)
  local recs, err = M.parse(text)
  if not recs then return nil, err end
  if #recs == 0 then return nil, "the CSV is empty (a header line is needed)" end
  local header = {}
  for i, h in ipairs(recs[1]) do
    h = h:match("^%s*(.-)%s*$"):lower()
    if h == "" then return nil, "line " .. recs[1].line .. ": header column " .. i .. " is empty" end
    header[i] = h
  end
  local rows = {}
  for r = 2, #recs do
    local rec = recs[r]
    local row = { line = rec.line }
    if #rec > #header then
      row.error = string.format("line %d: %d fields but the header has %d", rec.line, #rec, #header)
    end
    for i, name in ipairs(header) do row[name] = rec[i] and rec[i]:match("^%s*(.-)%s*$") or "" end
    rows[#rows + 1] = row
  end
  return rows, header
end

local function quote(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\r\n]') or v:match("^%s") or v:match("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

-- M.format(rows, columns) -> CSV text with a header line (CRLF-free, LF ends)
function M.format(rows, columns)
  local out = { table.concat((function()
    local h = {}
    for i, c in ipairs(columns) do h[i] = quote(c) end
    return h
  end)(), ",") }
  for _, row in ipairs(rows) do
    local f = {}
    for i, c in ipairs(columns) do f[i] = quote(row[c]) end
    out[#out + 1] = table.concat(f, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

return M
