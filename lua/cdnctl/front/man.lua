-- cdnctl.front.man: the man page cdnctl(1), generated from the table of
-- operations so that OPERATIONS never drifts from the code (cdnctl --man).

local ops = require "cdnctl.ops"
local help = require "cdnctl.front.help"
local host = require "cdnctl.host"

local M = {}

-- Escape text for roff: backslashes, leading dots and quotes, hyphens.
local function esc(s)
  s = s:gsub("\\", "\\e"):gsub("%-", "\\-")
  if s:match("^[.']") then s = "\\&" .. s end
  return s
end

-- NAME, SYNOPSIS and DESCRIPTION.
local function head(w)
  w('.TH CDNCTL 1 "2026" "cdnctl ' .. host.version .. '" "User Commands"')
  w(".SH NAME")
  w("cdnctl \\- script the ShortPixel CDN and Easy IO admin APIs from Lua")
  w(".SH SYNOPSIS")
  w(".B cdnctl"); w("[\\fIoptions\\fR] [\\fIscript.lua\\fR [\\fIargs\\fR...]]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fB\\-e\\fR \\fIcode\\fR")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBcall\\fR \\fIOP\\fR [\\fIARG\\fR...] [\\fIname\\fR=\\fIvalue\\fR...] [\\fB\\-\\-output\\fR json|table|csv] [\\fB\\-\\-yes\\fR] [\\fB\\-\\-dry\\-run\\fR]")
  w(".br"); w(".B cdnctl"); w("\\fBprofiles\\fR")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBwhoami\\fR [\\fB\\-\\-offline\\fR]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBplan\\fR \\fIINVENTORY.csv\\fR [\\fB\\-\\-json\\fR] [\\fB\\-\\-out\\fR \\fIPLAN.json\\fR] [\\fB\\-\\-detailed\\-exitcode\\fR] [\\fB\\-\\-target\\fR \\fIKIND\\fR:\\fINAME\\fR...]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBapply\\fR \\fIINVENTORY.csv\\fR|\\fIPLAN.json\\fR [\\fB\\-\\-yes\\fR] [\\fB\\-\\-dry\\-run\\fR] [\\fB\\-\\-journal\\fR \\fIFILE\\fR] [\\fB\\-\\-json\\fR]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBstatus\\fR \\fIINVENTORY.csv\\fR [\\fB\\-\\-json\\fR | \\fB\\-\\-csv\\fR] [\\fB\\-\\-sort\\fR \\fICOLUMN\\fR]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBimport\\fR [\\fB\\-\\-profile\\fR \\fINAME\\fR...] [\\fB\\-\\-domains\\fR \\fIFILE\\fR] [\\fB\\-\\-out\\fR \\fIINVENTORY.csv\\fR]")
  w(".br"); w(".B cdnctl"); w("\\fBsandbox\\fR [\\fIsandbox options\\fR]")
  w(".br"); w(".B cdnctl"); w("[\\fIoptions\\fR] \\fBrun\\fR \\fINAME\\fR [\\fIargs\\fR...]")
  w(".br"); w(".B cdnctl"); w("\\fBversion\\fR")
  w(".br"); w(".B cdnctl"); w("\\fBhelp\\fR [\\fICOMMAND\\fR | \\fIBINDING\\fR]")
  w(".SH DESCRIPTION")
  w("cdnctl embeds Lua 5.4 and exposes every endpoint of ShortPixel's CDN API and EWWW's Easy IO Admin API as Lua functions in the global tables \\fBshortpixel\\fR and \\fBeasyio\\fR. Scripts run concurrent bulk work with \\fBcdnctl.parallel\\fR. With no script on a terminal it starts an interactive prompt. A built\\-in sandbox emulates both APIs on loopback for offline rehearsal.")
  w(".PP")
  w("\\fBcdnctl whoami\\fR prints, per service, the base URLs, the key (masked) and where each came from, then checks each key with the cheapest read (\\fBshortpixel.api_status\\fR, \\fBeasyio.show_keys\\fR) unless \\fB\\-\\-offline\\fR. It exits 1 when a key is refused.")
  w(".PP")
  w("The options below go before or after a subcommand (\\fBcdnctl call\\fR \\fIOP ARG\\fR \\fB\\-\\-profile\\fR \\fIname\\fR); after a script or \\fBrun\\fR \\fINAME\\fR the arguments are the script's. \\fB\\-\\-\\fR\\fIopt\\fR=\\fIvalue\\fR works as \\fB\\-\\-\\fR\\fIopt value\\fR does; \\fB\\-\\-\\fR ends the options. An option other than \\fB\\-e\\fR given twice with two values is refused. A first word that is neither a subcommand nor a script (a path with a /, a name ending in .lua, or an existing file) is an unknown command (exit 2). \\fBcdnctl run\\fR \\fINAME\\fR runs a ready script (purge, report, watch...); \\fBcdnctl version\\fR prints the version and the commit cdnctl was built from; \\fBcdnctl help\\fR \\fICOMMAND\\fR prints \\fBcdnctl\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR, \\fBcdnctl help\\fR \\fIBINDING\\fR a binding's help.")
  w(".PP")
  w("\\fBcdnctl plan\\fR reads the client list (the inventory: a CSV with a row per client domain, its \\fBprofile\\fR, \\fBservice\\fR, Easy IO settings and \\fBstate\\fR) and each row's live state with the row's profile, and prints the binding calls that would bring the accounts to it; \\fBcdnctl apply\\fR makes them (removals and changes to what exists ask first; a saved plan's actions are checked against what they read, a changed one is stale and not made); \\fBcdnctl status\\fR shows every client in one table, worst first; \\fBcdnctl import\\fR writes an inventory of what the accounts hold. docs/inventory.md describes the columns, the plan's JSON and the exit statuses; \\fBplan \\-\\-detailed\\-exitcode\\fR exits 0 with no changes and 2 with changes or conflicts.")
  w(".PP")
  w("A binding returns the decoded JSON answer as a Lua table, or \\fBnil\\fR and an error table with the fields \\fBop\\fR, \\fBkind\\fR (api, http, transport, invalid, decode), \\fBmessage\\fR, \\fBhttp_status\\fR and \\fBcode\\fR. Bad input is refused before anything is sent.")
  w(".PP")
  w("\\fBcall\\fR asks for confirmation on a terminal before an operation marked destructive below; \\fB\\-\\-yes\\fR skips the question; without a terminal and without \\fB\\-\\-yes\\fR nothing is sent and the exit status is 2. \\fB\\-\\-dry\\-run\\fR prints the exact requests (keys masked) and sends nothing, not even a read. Bindings called from a script never ask.")
end

-- OPTIONS: the options of the command line.
local function options(w)
  w(".SH OPTIONS")
  local list = {
    { "\\-e \\fIcode\\fR", "Run \\fIcode\\fR; may be repeated; runs before the script." },
    { "\\-", "Read the script from standard input." },
    { "\\-v", "Trace every request on standard error: method, URL with the key masked, status, time." },
    { "\\-\\-sandbox", "Start the embedded sandbox on a free loopback port and point both services and the default keys at it." },
    { "\\-\\-profile \\fIname\\fR", "Use this profile of the configuration file." },
    { "\\-\\-allow\\-http", "Allow sending keys over plain http to hosts other than loopback (with a warning)." },
    { "\\-\\-quiet", "No progress lines." },
    { "\\-\\-har \\fIfile\\fR", "Record every HTTP exchange, each attempt, to \\fIfile\\fR as HAR 1.2, keys masked, mode 0600, a complete file after every exchange; \\fBcdnctl sandbox \\-\\-compare\\fR \\fIfile\\fR replays it against the sandbox." },
    { "\\-\\-version", "Print the version and the commit cdnctl was built from, and exit (as \\fBcdnctl version\\fR)." },
    { "\\-h, \\-\\-help", "Print a usage summary and exit." },
  }
  for _, o in ipairs(list) do w(".TP"); w("\\fB" .. o[1]:gsub("\\fR", "\\fR\\fB", 0) .. "\\fR"); w(o[2]) end
end

-- A count in words, as the page's sentences say it ("twenty").
local WORDS = { "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "twenty-one",
  "twenty-two", "twenty-three", "twenty-four", "twenty-five" }
local function number_word(n) return WORDS[n] or tostring(n) end

-- OPERATIONS: one entry per operation of the table, with its rules.
local function operations(w)
  w(".SH OPERATIONS")
  local common = {}
  for _, o in ipairs(ops.common_option_list) do common[#common + 1] = "\\fB" .. o.name .. "\\fR (" .. esc(o.doc) .. ")" end
  local costly = 0
  for _, op in ipairs(ops.list) do if op.destructive then costly = costly + 1 end end
  w(string.format("The %s bindings below are the operations of both APIs, %s of which destroy or cost (marked destructive). ",
    number_word(#ops.list), number_word(costly))
    .. "Each operation is a Lua function and a \\fBcall\\fR verb. Every binding takes an optional last table of options: "
    .. table.concat(common, ", ") .. ".")
  for _, op in ipairs(ops.list) do
    w(".TP")
    w("\\fB" .. esc(help.signature(op)) .. "\\fR")
    w(esc(op.doc))
    w(".br")
    w(esc(help.endpoint(op)))
    if op.destructive then
      w(".br"); w(esc("Destructive (" .. op.destructive .. "): cdnctl call asks first on a terminal; --yes skips the question."))
    end
    for _, r in ipairs(op.rules or {}) do w(".br"); w(esc(r)) end
  end
end

-- The services' keys and base URLs (ops.services), as ENVIRONMENT lists them.
local function service_variables()
  local keys = {}
  for _, service in ipairs(ops.service_order) do keys[#keys + 1] = ops.services[service].key_env end
  local list = {
    { table.concat(keys, ", "), "The API keys. Keys are never printed: output shows **** and at most the last four characters." } }
  for _, service in ipairs(ops.service_order) do
    for _, u in ipairs(ops.services[service].urls) do
      local moved = ops.TRANSPORT_HINTS[u.default:match("^%a+://([^/]+)")]
      local hint = moved and ", the documented host; " .. moved:match("^(.-): set") or ""
      list[#list + 1] = { u.env, esc(u.doc .. " (default " .. u.default .. hint .. ").") }
    end
  end
  return list
end

-- ENVIRONMENT: the variables, and the one rule of where a key comes from.
local function environment(w)
  w(".SH ENVIRONMENT")
  local list = service_variables()
  for _, e in ipairs {
    { "CDNCTL_PROFILE", "The profile to use." },
    { "CDNCTL_HAR", "Record to this file, as \\fB\\-\\-har\\fR." },
    { "CDNCTL_DEBUG", "Set to 1 to trace requests, as \\fB\\-v\\fR." },
    { "CDNCTL_LUA_PATH", "Load the Lua library from this folder instead of the copy compiled in." },
    { "NO_COLOR", "Honoured: cdnctl prints no colours." },
    { "XDG_CONFIG_HOME, XDG_STATE_HOME", "Where the configuration file and the prompt's history live." },
  } do list[#list + 1] = e end
  for _, e in ipairs(list) do w(".TP"); w("\\fB" .. e[1] .. "\\fR"); w(e[2]) end
  w(".PP")
  w("Every service's key and base URLs come from one source per call, never mixed: the first set of \\fB\\-\\-sandbox\\fR, the run's profile (\\fB\\-\\-profile\\fR or \\fBCDNCTL_PROFILE\\fR, or a ready script's \\fB\\-\\-profile\\fR), the environment when it sets any of the key and URL variables above, the configuration's \\fBdefault_profile\\fR. A service that source does not configure has no key: its calls fail naming the source, and nothing is taken from a lower source. URLs the source does not give are the built\\-in defaults. The \\fBkey\\fR option of a call replaces the key only. Standard error names once, in one line, the lower sources set and ignored. A failure that involves a key names it, masked, and its source: (key ****9999 from profile 'old').")
end

-- FILES and EXIT STATUS.
local function files_and_status(w)
  w(".SH FILES")
  w(".TP"); w("\\fI$XDG_CONFIG_HOME/cdnctl/config.lua\\fR (default \\fI~/.config/cdnctl/config.lua\\fR)")
  w("Profiles: a Lua file returning { default_profile = \"name\", profiles = { name = { shortpixel_key = ..., easyio_key = ..., shortpixel_key_cmd = ..., easyio_key_cmd = ..., shortpixel_url = ..., easyio_url = ... } } }. It runs with no library at all. A file that others can read while it holds a key gets a warning. A profile with an error fails only the commands that use it (exit 2, naming the file, the profile and the field); \\fBcdnctl profiles\\fR lists it as broken.")
  w(".TP"); w("\\fI$XDG_STATE_HOME/cdnctl/history\\fR (default \\fI~/.local/state/cdnctl/history\\fR)")
  w("The prompt's history, mode 0600, keys masked.")
  w(".SH EXIT STATUS")
  w(".TP"); w("0"); w("Success.")
  w(".TP"); w("1"); w("A script error (message and traceback on standard error), for \\fBcall\\fR an API or network failure, for \\fBwhoami\\fR a key that the service refuses or that cannot be had (a failing key command).")
  w(".TP"); w("2"); w("A usage error: a bad option or argument; or a destructive operation not confirmed.")
  w(".TP"); w("3"); w("Used by the ready scripts: some items failed (the results file says which).")
end

-- EXAMPLES and SEE ALSO.
local function examples(w)
  w(".SH EXAMPLES")
  w(".nf")
  w("cdnctl \\-\\-sandbox scripts/onboard.lua clients.csv")
  w("cdnctl call shortpixel.read_domain example.com")
  w("cdnctl call easyio.update_site_config 17 webp=1 avif=0")
  w("cdnctl \\-\\-profile clientA call \\-\\-output table easyio.show_sites")
  w("cdnctl \\-\\-profile clientA whoami")
  w("cdnctl \\-e 'for _, h in ipairs(shortpixel.hosts(\"example.com\")) do print(h, shortpixel.purge_cdn_cache_bulk(h)) end'")
  w("cdnctl call \\-\\-yes shortpixel.purge_cdn_cache https://example.com/wp\\-content/uploads/photo.jpg")
  w(".fi")
  w(".SH SEE ALSO")
  w("\\fBlua5.4\\fR(1), \\fBcurl\\fR(1)")
end

-- M.page() -> the roff text of cdnctl(1), section by section.
function M.page()
  local out = {}
  local function w(s) out[#out + 1] = s end
  for _, section in ipairs({ head, options, operations, environment, files_and_status, examples }) do
    section(w)
  end
  return table.concat(out, "\n") .. "\n"
end

return M
