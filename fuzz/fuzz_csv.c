/*
 * fuzz_csv.c: the CSV reader of the ready scripts (lua/cdnctl/kit/csv.lua).
 *
 * parse(text) documents {records} or nil, message: a raise is a finding.
 * A refusal says "line N: ..." with N within the text; records are arrays
 * of strings whose .line never decreases and stays within the text; and
 * format() of the records, parsed again, gives the same fields (short
 * records padded with empty fields, as format writes them). parse_table
 * must not raise either.
 */
#include "fuzz_common.h"

static const char csv_code[] =
  "local csv = require 'cdnctl.kit.csv'\n"
  "return function(s)\n"
  "  local _, nl = s:gsub('\\n', '')\n"
  "  local _, ncr = s:gsub('\\r', '')\n"
  "  local maxline = nl + ncr + 1\n"
  "  local recs, err = csv.parse(s)\n"
  "  if recs == nil then\n"
  "    local n = type(err) == 'string' and tonumber(err:match('^line (%d+): '))\n"
  "    if not n then return 'parse: unexpected message ' .. tostring(err) end\n"
  "    if n < 1 or n > maxline then return 'parse: line ' .. n .. ' outside the text' end\n"
  "    return\n"
  "  end\n"
  "  if type(recs) ~= 'table' then return 'parse returned a ' .. type(recs) end\n"
  "  local last, width = 0, 1\n"
  "  for i, r in ipairs(recs) do\n"
  "    if math.type(r.line) ~= 'integer' or r.line < last or r.line > maxline then\n"
  "      return 'record ' .. i .. ' has line ' .. tostring(r.line) end\n"
  "    last = r.line\n"
  "    if #r == 0 then return 'record ' .. i .. ' is empty' end\n"
  "    if #r == 1 and r[1] == '' then return 'record ' .. i .. ' is a blank line' end\n"
  "    for j, f in ipairs(r) do if type(f) ~= 'string' then return 'field ' .. j .. ' is a ' .. type(f) end end\n"
  "    if #r > width then width = #r end\n"
  "  end\n"
  "  if #recs > 0 then\n"
  "    local cols = {} for j = 1, width do cols[j] = j end\n"
  "    local text = csv.format(recs, cols)\n"
  "    local again, err2 = csv.parse(text)\n"
  "    if not again then return 'parse(format(records)) failed: ' .. tostring(err2) end\n"
  "    if #again ~= #recs + 1 then return 'parse(format(records)) has ' .. #again .. ' records, not ' .. #recs + 1 end\n"
  "    for i, r in ipairs(recs) do\n"
  "      local r2 = again[i + 1]\n"
  "      for j = 1, width do\n"
  "        if (r[j] or '') ~= r2[j] then\n"
  "          return string.format('round trip: record %d field %d is %q, was %q', i, j, tostring(r2[j]), r[j] or '')\n"
  "        end\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "  local rows, herr = csv.parse_table(s)\n"
  "  if rows == nil and type(herr) ~= 'string' then return 'parse_table: nil without a message' end\n"
  "end\n";

static lua_State *L;
static int csv_ref;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = fuzz_newstate();
  csv_ref = fuzz_load(L, "=fuzz_csv", csv_code);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_call(L, csv_ref, "fuzz_csv", data, size);
  return 0;
}
