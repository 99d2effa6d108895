-- The inventory reader: one reading of the client list for every command,
-- with the habits of the spreadsheets that write it.
local t = require "t"
local inventory = require "cdnctl.inventory"

local function read(text, opts)
  local inv, err = inventory.parse(text, opts)
  t.ok(inv, "read: " .. tostring(err))
  return inv
end
local function refused(text, pattern, opts)
  local inv, err = inventory.parse(text, opts)
  t.eq(inv, nil, "refused")
  t.match(err, pattern)
end

t.test("only domain is required; defaults are both, present, https://www.APEX/ and the domain as the name", function()
  local inv = read("domain\nBistro.Example\n")
  t.eq(#inv.clients, 1)
  local c = inv.clients[1]
  t.eq(c.domain, "bistro.example")
  t.same(c.hosts, { "bistro.example", "www.bistro.example" })
  t.eq(c.service, "both")
  t.eq(c.state, "present")
  t.eq(c.site_url, "https://www.bistro.example/")
  t.eq(c.name, "bistro.example")
  t.eq(c.profile, nil)
  t.same(c.settings, {})
  t.eq(c.cname, nil)
end)

t.test("every column read: client, profile, service, site_url, state, cname and the settings", function()
  local inv = read("client,profile,domain,service,site_url,state,webp,avif,asset_domains,cname,x_note\n"
    .. "Bistro,bistro,bistro.example,easyio,https://bistro.example/shop,absent,TRUE,no,cdn.other.net,img.bistro.example,call Ann\n")
  local c = inv.clients[1]
  t.eq(c.name, "Bistro")
  t.eq(c.profile, "bistro")
  t.eq(c.service, "easyio")
  t.eq(c.shortpixel, false)
  t.eq(c.site_url, "https://bistro.example/shop/")
  t.eq(c.state, "absent")
  t.same(c.settings, { webp = 1, avif = 0, asset_domains = "cdn.other.net" })
  t.eq(c.cname, "img.bistro.example")
  t.same(c.notes, { x_note = "call Ann" })
end)

t.test("cname: empty leaves it, '-' is none", function()
  local inv = read("domain,cname\na.example,\nb.example,-\n")
  t.eq(inv.by_domain["a.example"].cname, nil)
  t.eq(inv.by_domain["b.example"].cname, false)
end)

t.test("spreadsheet habits: BOM, CRLF, ';', quotes, trailing spaces, header case, empty rows counted", function()
  local inv = read("\239\187\191Domain ; Service;PROFILE\r\n\"a.example\" ;shortpixel ; \r\n;;\r\n\r\nb.example;EasyIO;\r\n")
  t.eq(inv.delimiter, ";")
  t.eq(#inv.clients, 2)
  t.eq(inv.clients[1].service, "shortpixel")
  t.eq(inv.clients[2].service, "easyio")
  t.eq(inv.empty_rows, 1)
  t.eq(#inv.problems, 0)
end)

t.test("an empty spreadsheet row (',') is skipped and counted, not a problem", function()
  local inv = read("domain,service\n,\na.example,both\n")
  t.eq(inv.empty_rows, 1)
  t.eq(#inv.problems, 0)
  t.eq(#inv.clients, 1)
end)

t.test("a plain list of domains is an inventory", function()
  local inv = read("a.example\nwww.b.example\n\nhttps://c.example/\n")
  t.eq(#inv.clients, 3)
  t.eq(inv.clients[2].domain, "b.example")
  t.eq(inv.clients[3].domain, "c.example")
  t.eq(inv.clients[1].line, 1)
end)

t.test("a header without domain says which delimiter it was split at", function()
  refused("name\tservice\nx\ty\n", "no 'domain' column %(its line 'name\tservice' was split at ',' into 1 column;")
  refused("client;service\nx;y\n", "split at ';' into 2 columns")
end)

t.test("an unknown column is refused with did-you-mean; x_ columns and onboard's results columns are fine", function()
  refused("domain,servce\na.example,both\n", "header column 2: unknown column 'servce'; did you mean 'service'%?")
  refused("domain,colour\na.example,red\n", "unknown column 'colour' %(columns of the agency's own start with x_%)")
  local inv = read("domain,status,shortpixel_apex,shortpixel_www,easyio_site,easyio_site_id,easyio_alias,error,line,x_owner\n"
    .. "a.example,done,associated,associated,created,16,e1.exactdn.com,,2,Ann\n")
  t.eq(#inv.clients, 1)
  t.eq(#inv.problems, 0)
end)

t.test("key columns: refused by default with a pointer to profiles, read as the row's source with keys = 'rows'", function()
  refused("domain,shortpixel_key\na.example,abcdefghij0123456789\n",
    "'shortpixel_key': keys do not live in the inventory; put the key in a profile")
  local inv = read("domain,shortpixel_key,easyio_key\na.example,abcdefghij0123456789,\n", { keys = "rows" })
  t.same(inv.clients[1].keys, { shortpixel = "abcdefghij0123456789" })
  local bad = read("domain,easyio_key\na.example,bad key\n", { keys = "rows" })
  t.eq(#bad.clients, 0)
  t.match(bad.problems[1].message, "^line 2: easyio_key: contains a space")
  t.eq(bad.problems[1].message:find("bad key", 1, true), nil, "the key is not quoted")
end)

t.test("one domain listed twice is one client: apex and www rows, a URL and the bare name; services add up", function()
  local inv = read("domain,service\nbistro.example,shortpixel\nwww.bistro.example,easyio\nhttps://bistro.example/,\n")
  t.eq(#inv.clients, 1)
  local c = inv.clients[1]
  t.eq(c.service, "both")
  t.same(c.lines, { 2, 3, 4 })
  t.eq(#inv.problems, 0)
end)

t.test("rows that disagree about a domain's profile or site URL are a conflict naming both lines; the domain is withheld", function()
  local inv = read("domain,profile,site_url\na.example,one,\nwww.a.example,two,\nb.example,,https://b.example/\nb.example,,https://shop.b.example/\nc.example,,\n")
  t.eq(#inv.problems, 2)
  t.match(inv.problems[1].message, "^line 3: domain a%.example: profile 'two' here, 'one' on line 2")
  t.match(inv.problems[2].message, "^line 5: domain b%.example: site_url 'https://shop%.b%.example/' here, 'https://b%.example/' on line 4")
  t.eq(#inv.clients, 1)
  t.eq(inv.clients[1].domain, "c.example")
  t.eq(#inv.withheld, 2)
  t.eq(inv.by_domain["a.example"], nil)
end)

t.test("a default site URL yields to one a later row gives", function()
  local inv = read("domain,service,site_url\na.example,shortpixel,\na.example,easyio,https://a.example/\n")
  t.eq(#inv.problems, 0)
  t.eq(inv.clients[1].site_url, "https://a.example/")
end)

t.test("bad cells are problems of their row, naming line and column; the other rows are read", function()
  local inv = read("domain,service,state,webp,watermark_offset\nok.example,,,,\nbad..example,,,,\nb.example,ftp,,,\n"
    .. "c.example,,gone,,\nd.example,,,maybe,\ne.example,,,,-3\n\"f.example,,,,\n")
  t.eq(#inv.clients, 1)
  local m = {}
  for i, p in ipairs(inv.problems) do m[i] = p.message end
  t.match(m[1], "^line 3: domain:")
  t.match(m[2], "^line 4: service: unknown service 'ftp'")
  t.match(m[3], "^line 5: state: must be present or absent, got 'gone'")
  t.match(m[4], "^line 6: webp: must be true/false")
  t.match(m[5], "^line 7: watermark_offset:")
  t.match(m[6], "^line 8: unterminated quoted field")
end)

t.test("a problem row spoils its domain's other rows: nothing acts on half a client", function()
  local inv = read("domain,service\na.example,shortpixel\na.example,ftp\n")
  t.eq(#inv.clients, 0)
  t.eq(#inv.withheld, 1)
end)

t.test("the settings columns are update_site_config's fields, from the operation table", function()
  local ops = require "cdnctl.ops"
  for _, a in ipairs(ops.by_name["easyio.update_site_config"].args) do
    if a.fields then
      for f in pairs(a.fields) do t.ok(inventory.settings[f], f) end
    end
  end
  t.eq(inventory.settings.webp, "flag")
end)

t.test("an empty file and a header alone", function()
  refused("", "the CSV is empty")
  local inv = read("domain\n")
  t.eq(#inv.clients, 0)
end)

t.done()
