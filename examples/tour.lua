-- examples/tour.lua: every one of the twenty bindings once, in the order an
-- agency meets them (six of them destroy or cost: the purges, the revoke and
-- the removals; a script's bindings never ask first, `cdnctl call` does). Run it against the sandbox:  cdnctl --sandbox examples/tour.lua
-- (against production it would create and remove a real site and sub-key).
local function show(what, r, err)
  print(("%-34s %s"):format(what, r and "ok" or ("failed: " .. tostring(err))))
  return r, err
end

local domain = arg[1] or "tour-example.com"
for _, host in ipairs(shortpixel.hosts(domain)) do
  show("shortpixel.add_domain " .. host, shortpixel.add_domain(host))
end
show("shortpixel.add_domain (no key)", shortpixel.add_domain("free." .. domain, { key = false }))
show("shortpixel.set_domain", shortpixel.set_domain("free." .. domain))
local st = show("shortpixel.read_domain", shortpixel.read_domain(domain))
if st then print("  status: " .. st.Status .. " (" .. st.status_name .. ")") end
show("shortpixel.api_status", shortpixel.api_status())
show("shortpixel.read_domain_cdn_usage", shortpixel.read_domain_cdn_usage(domain))
show("shortpixel.purge_storage_bulk", shortpixel.purge_storage_bulk(domain, { both = true }))
show("shortpixel.purge_cdn_cache_bulk", shortpixel.purge_cdn_cache_bulk(domain, { both = true }))
-- one image and its variants, by its CDN URL (sent as .../photo*)
show("shortpixel.purge_cdn_cache", shortpixel.purge_cdn_cache("https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/"
  .. domain .. "/wp-content/uploads/photo.jpg"))
show("shortpixel.revoke_domain", shortpixel.revoke_domain("free." .. domain))

local site = show("easyio.create_site", easyio.create_site("https://www." .. domain .. "/"))
show("easyio.show_sites", easyio.show_sites())
if site then
  show("easyio.update_site_config", easyio.update_site_config(site.id, { webp = true, avif = true }))
  show("easyio.set_cname", easyio.set_cname(site.id, "cdn." .. domain))
  show("easyio.revert_cname", easyio.revert_cname(site.id))
  show("easyio.savings", easyio.savings(site.alias))
  local r, err = easyio.remove_site(site.id)
  if not r and err.kind == "api" and err.message:find("pending") then
    print(("%-34s %s"):format("easyio.remove_site", "refused as the API says: a new site is pending"))
  else
    show("easyio.remove_site", r, err)
  end
end
local key = show("easyio.create_key", easyio.create_key())
show("easyio.show_keys", easyio.show_keys())
if key then
  show("easyio.change_key", easyio.change_key(key.sub_key, { label = "tour", allowed = 100 }))
  show("easyio.remove_key", easyio.remove_key(key.sub_key))
end
