#!/usr/bin/env bash
# `cdnctl sandbox --compare` of a HAR recorded against the sandbox itself
# reports no differences, over every route the plugins showed production
# has: read-domain with its CDN traffic members (CDNQuota, UsedCDN,
# Unlimited) for a domain with an account, one without and one never
# added; purge-cdn-cache/KEY/URL (an spio and an spai image, a prefix);
# Easy IO's activate.php and verify.php (without and with the site's
# asset_domains) as EWWW's plugin sends them (no
# binding: the recording sends them through cdnctl's request primitive,
# recorded as every call is). Each of those exchanges is compared (same
# shape, not skipped or "state"), and an edit of a recorded answer of each
# new route is reported: the comparison holds them.
. "${CDNCTL_SOURCE_DIR:?}/tests/lib/harness.sh"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
export SHORTPIXEL_API_KEY=spDemoAgency00000001 EASYIO_API_KEY=ez-demo-account-0001
unset CDNCTL_HAR CDNCTL_DEBUG

start_sandbox sb --pending 0
use "$SURL"
cat >"$T/job.lua" <<'LUA'
local sched = require "cdnctl.sched"
local har = require "cdnctl.har"
local percent = require "cdnctl.percent"
-- post(path, fields): a form POST as EWWW's plugin sends it (no key), recorded in the run's HAR
local function post(path, fields)
  local body = {}
  for _, kv in ipairs(fields) do body[#body + 1] = kv[1] .. "=" .. percent.escape(kv[2]) end
  local req = { method = "POST", url = os.getenv("CDNCTL_EASYIO_URL") .. path, timeout = 30,
    headers = { "Content-Type: application/x-www-form-urlencoded" }, body = table.concat(body, "&") }
  local resp, terr = sched.request(req)
  har.record(cdnctl.settings.har, req, resp, terr)
  assert(resp and resp.status == 200, path .. ": " .. tostring(resp and resp.status or terr and terr.message))
  return resp.body
end
local SPIO = "https://spcdn.shortpixel.ai/spio/ret_img,q_cdnize,to_auto,s_webp:avif/img.example.com/wp-content/uploads/2024/12/"
assert(shortpixel.add_domain("img.example.com"))
assert(shortpixel.add_domain("free.example.com", { key = false }))
assert(shortpixel.read_domain("img.example.com"))
assert(shortpixel.read_domain("free.example.com"))
assert(shortpixel.read_domain("never.example.com"))
assert(shortpixel.read_domain("img.example.com", { refresh = true }))
assert(shortpixel.read_domain_cdn_usage("img.example.com"))
assert(shortpixel.purge_cdn_cache(SPIO .. "photo.jpg"))
assert(shortpixel.purge_cdn_cache("https://cdn.shortpixel.ai/spai/q_lossy+ret_img/https://img.example.com/wp-content/a.png"))
assert(shortpixel.purge_cdn_cache(SPIO .. "2024/*"))
local site = assert(easyio.create_site("https://shop.example.com/"))
assert(post("/exactdn/activate.php", { { "site_url", "https://shop.example.com/" }, { "home_url", "https://shop.example.com/" } }))
assert(post("/exactdn/verify.php", { { "alias", site.alias }, { "origin", "https://shop.example.com/" },
  { "url", "https://" .. site.alias .. "/wp-content/plugins/ewww/images/test.png" } }))
assert(easyio.update_site_config(site.id, { asset_domains = "assets.shop.example.com" }))
assert(post("/exactdn/verify.php", { { "alias", site.alias }, { "origin", "https://shop.example.com/" } }))
assert(easyio.show_sites())
LUA
"$BIN" --har "$T/job.har" "$T/job.lua" >"$T/job.out" 2>&1 || { echo "recording failed: $(cat "$T/job.out")"; exit 1; }

# what the recording holds: the new members and routes, as successes
python3 - "$T/job.har" >"$T/holds" <<'PY'
import json, sys
E = json.load(open(sys.argv[1]))['log']['entries']
def body(e): return json.loads(e['response']['content']['text'])
def find(part): return [e for e in E if part in e['request']['url']]
rd = [body(e) for e in find('/read-domain/')]
assert len(rd) == 4, len(rd)
for b in rd:
    for m, t in (('CDNQuota', int), ('UsedCDN', int), ('Unlimited', str)):
        assert isinstance(b.get(m), t), (m, b)
assert [b['HasAccount'] for b in rd] == [True, False, False, True], rd
assert len(find('/purge-cdn-cache/')) == 3 and all(body(e)['Status'] == 2 for e in find('/purge-cdn-cache/'))
a = [body(e) for e in find('/exactdn/activate.php')]
assert len(a) == 1 and a[0]['domain'].endswith('.exactdn.com') and 'plan_id' in a[0], a
v = [body(e) for e in find('/exactdn/verify.php')]
assert len(v) == 2 and all(x.get('success') is True for x in v), v
assert 'asset_domains' not in v[0] and isinstance(v[1].get('asset_domains'), str), v
print('ok')
PY
[ "$(cat "$T/holds")" = ok ] && ok "the recording holds read-domain's CDN members, three image purges, activate.php and verify.php (asset_domains once), all successes" \
  || bad "the recording" "$(cat "$T/holds")"

cmp_run() { "$BIN" sandbox --compare "$1" >"$T/cmp.out" 2>"$T/cmp.err"; echo $?; }
st=$(cmp_run "$T/job.har")
total=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['log']['entries']))" "$T/job.har")
[ "$st" = 0 ] && tail -1 "$T/cmp.out" | grep -qx "$total exchanges: $total same shape, 0 differ, 0 state (not comparable), 0 skipped" \
  && ok "--compare of the sandbox's own recording: every one of the $total exchanges has the same shape" \
  || bad "compare ($st)" "$(cat "$T/cmp.out" "$T/cmp.err")"
for line in 'GET /read-domain/free.example.com' 'GET /read-domain/never.example.com' \
            'GET /purge-cdn-cache/\*\*\*\*0001/https://spcdn.shortpixel.ai/spio/.*/photo\*' \
            'GET /purge-cdn-cache/\*\*\*\*0001/https://cdn.shortpixel.ai/spai/.*/a\*' \
            'POST /exactdn/activate.php' 'POST /exactdn/verify.php'; do
  grep -q "^#[0-9]* $line: same shape$" "$T/cmp.out" || bad "not compared: $line" "$(cat "$T/cmp.out")"
done
[ "$(grep -c '^#[0-9]* POST /exactdn/verify.php: same shape$' "$T/cmp.out")" = 2 ] \
  && ok "each new route is compared: read-domain, purge-cdn-cache, activate.php, verify.php" || bad "verify lines" "$(cat "$T/cmp.out")"

# alter N PYTHON: a copy of the recording with entry N's answer (J) edited
alter() {
  python3 - "$T/job.har" "$T/altered.har" "$1" "$2" <<'PY'
import json, sys
h = json.load(open(sys.argv[1])); e = h['log']['entries'][int(sys.argv[3]) - 1]
J = json.loads(e['response']['content']['text'])
exec(sys.argv[4])
e['response']['content']['text'] = json.dumps(J)
json.dump(h, open(sys.argv[2], 'w'))
PY
}
# num PATTERN: the number of the first exchange whose compare line matches
num() { grep -m1 "$1" "$T/cmp.out" | sed 's/^#\([0-9]*\) .*/\1/'; }
st=$(cmp_run "$T/job.har")
n_free=$(num 'GET /read-domain/free.example.com') n_purge=$(num 'GET /purge-cdn-cache/') \
  n_act=$(num 'POST /exactdn/activate.php') n_ver=$(num 'POST /exactdn/verify.php')
alter "$n_free" "J['CDNQuota'] = str(J['CDNQuota'])"
st=$(cmp_run "$T/altered.har")
[ "$st" = 1 ] && grep -q "^  CDNQuota: .* where string is expected" "$T/cmp.out" \
  && ok "read-domain's CDNQuota of another type in the recording is reported" || bad "CDNQuota ($st)" "$(cat "$T/cmp.out")"
alter "$n_free" "del J['Unlimited']"
st=$(cmp_run "$T/altered.har")
[ "$st" = 1 ] && grep -q "^  Unlimited: extra member" "$T/cmp.out" && ok "a recorded read-domain without Unlimited is reported" \
  || bad "Unlimited ($st)" "$(cat "$T/cmp.out")"
alter "$n_purge" "J['Purged'] = 1"
st=$(cmp_run "$T/altered.har")
[ "$st" = 1 ] && grep -q "^  Purged: missing (number expected)" "$T/cmp.out" && ok "a purge-cdn-cache answer of another shape is reported" \
  || bad "purge ($st)" "$(cat "$T/cmp.out")"
alter "$n_act" "J['plan_id'] = str(J['plan_id'])"
st=$(cmp_run "$T/altered.har")
[ "$st" = 1 ] && grep -q "^  plan_id: " "$T/cmp.out" && ok "an activate.php answer of another shape is reported" \
  || bad "activate ($st)" "$(cat "$T/cmp.out")"
alter "$n_ver" "J['asset_domains'] = 'cdn.example.com'" # the first verify.php: the site had none yet
st=$(cmp_run "$T/altered.har")
[ "$st" = 1 ] && grep -q "^  asset_domains: missing (string expected)" "$T/cmp.out" && ok "a verify.php answer of another shape is reported" \
  || bad "verify ($st)" "$(cat "$T/cmp.out")"
finish
