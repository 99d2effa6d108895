-- bench/json-empty-arrays.lua [ROUNDS]: what keeping [] an array costs
-- (json.c marks each empty array in its pre-pass and gives the decoded
-- table json.array_mt; both encoders check that metatable on empty tables).
--   cdnctl bench/json-empty-arrays.lua [ROUNDS]
-- Decodes, then encodes, answers shaped as Easy IO's show_sites and
-- show_keys with many empty arrays, and the same texts with every [] as {}
-- (the same length and structure, nothing to mark: the baseline), in
-- alternating rounds in one run (default 7), and prints the median of each
-- and the ratios to the baseline; also json.decode against cjson's own
-- decode of the same text (the whole boundary: numbers and arrays).
-- Not a test: figures only, this machine's.
local json = require "cdnctl.json"
local cjson = require "cjson"

local ROUNDS = math.tointeger(tonumber(arg[1] or "7")) or 7
local REPS = 400

-- show_sites with 50 sites (each with two empty lists) and show_keys with
-- 40 keys and empty maps: about 1 empty array per 70 bytes.
local function answer_text()
  local sites = {}
  for i = 1, 50 do
    sites[i] = ('{"site_id":%d,"site_url":"https://s%d.example.com/","alias":"s%d.exactdn.com","pending":0,'
      .. '"bandwidth":%d,"errors":[],"cnames":[],"config":{"lazy":1,"webp":1}}'):format(i + 15, i, i, i * 1048576)
  end
  local keys = {}
  for i = 1, 40 do keys[i] = ('"sk%032d"'):format(i) end
  return '{"show_sites":{"live_sites":50,"quota":2000000000000,"sites":[' .. table.concat(sites, ",") .. ']},'
    .. '"show_keys":{"keys":[' .. table.concat(keys, ",") .. '],"limits":[],"sites":[],"labels":[],"allowed":[]}}'
end

local function time(f, text)
  local t0 = os.clock()
  for _ = 1, REPS do f(text) end
  return (os.clock() - t0) / REPS * 1e6 -- microseconds per call
end

local function median(l)
  table.sort(l)
  return l[(#l + 1) // 2]
end

local text = answer_text()
local base = text:gsub("%[%]", "{}")
local _, empties = text:gsub("%[%]", "")
local v, vb = assert(json.decode(text)), assert(json.decode(base))
assert(json.encode(v):find('"limits":[]', 1, true), "a decoded [] encodes as []")
local m = { dec = {}, dec_base = {}, enc = {}, enc_base = {}, cj = {} }
for _ = 1, ROUNDS do
  m.dec[#m.dec + 1] = time(json.decode, text)
  m.dec_base[#m.dec_base + 1] = time(json.decode, base)
  m.cj[#m.cj + 1] = time(cjson.decode, text)
  m.enc[#m.enc + 1] = time(json.encode, v)
  m.enc_base[#m.enc_base + 1] = time(json.encode, vb)
end
local d, db, c, e, eb = median(m.dec), median(m.dec_base), median(m.cj), median(m.enc), median(m.enc_base)
print(("answers of %d bytes with %d empty arrays, %d calls a round, %d rounds (median, microseconds a call)")
  :format(#text, empties, REPS, ROUNDS))
print(("json.decode, [] kept:        %8.1f us"):format(d))
print(("json.decode, the {} text:    %8.1f us   ratio %.2f (the cost of marking %d empty arrays)"):format(db, d / db, empties))
print(("json.encode of the decoded:  %8.1f us"):format(e))
print(("json.encode, the {} value:   %8.1f us   ratio %.2f"):format(eb, e / eb))
print(("cjson.decode alone:          %8.1f us   json.decode / cjson.decode %.2f (exact numbers and [] together)")
  :format(c, d / c))
