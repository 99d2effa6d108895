-- `call --output csv|table`: a list of objects (or an answer's sites or
-- keys) is one row each under the union of their fields, ids and names
-- first; anything else is one row per field. As plain function calls.
local t = require "t"
local output = require "cdnctl.front.output"
local json = require "cdnctl.json"

local SITES = { live_sites = 2, sites = {
  { site_url = "https://a.com/", site_id = 1, config = { webp = 1 } },
  { site_id = 22, alias = "b.exactdn.com", note = "two\nlines" },
} }

t.test("csv: one row per site, the union of fields, ids, URLs and names first", function()
  t.eq(output.csv(SITES), 'site_id,site_url,alias,config,note\n1,https://a.com/,,"{""webp"":1}",\n22,,b.exactdn.com,,"two\nlines"\n')
end)

t.test("table: the same rows, aligned, upper-case headers, line ends as spaces", function()
  t.eq(output.table(SITES), "SITE_ID  SITE_URL        ALIAS          CONFIG      NOTE\n"
    .. "1        https://a.com/                 {\"webp\":1}  \n"
    .. "22                       b.exactdn.com              two lines\n")
end)

t.test("an object that holds no list: key,value rows in csv, FIELD VALUE in a table, keys sorted", function()
  local v = { Status = 2, Message = "All\nOK", Extra = json.null }
  t.eq(output.csv(v), 'key,value\nExtra,\nMessage,"All\nOK"\nStatus,2\n')
  t.eq(output.table(v), "FIELD    VALUE\nExtra    \nMessage  All OK\nStatus   2\n")
end)

t.test("a value that is no table is one row, its line ends as spaces in a table", function()
  t.eq(output.csv("x\ny"), 'key,value\nvalue,"x\ny"\n')
  t.eq(output.table("x\ny"), "FIELD  VALUE\nvalue  x y\n")
end)

t.done()
