-- bench/bulk.lua: N add_domain calls with C in flight through cdnctl.parallel,
-- results streamed with on_result (nothing held), items from an iterator.
--   cdnctl bench/bulk.lua N C PREFIX
local n, c, prefix = tonumber(arg[1]), tonumber(arg[2]), arg[3] or "cd"
local i, failed = 0, 0
local function next_domain()
  i = i + 1
  if i > n then return nil end
  return prefix .. i .. ".bench.example"
end
local _, _, summary = cdnctl.parallel(next_domain, function(d) return shortpixel.add_domain(d) end, {
  concurrency = math.tointeger(c),
  on_result = function(_, r, err) if not r then failed = failed + 1; if failed < 3 then io.stderr:write(tostring(err), "\n") end end end,
})
io.stderr:write(string.format("cdnctl: %d done, %d failed\n", summary.done, failed))
if failed > 0 then cdnctl.exit(1) end
