-- The command line's global options as a pure function
-- (cdnctl.front.options.parse_options): every flag, where the options end,
-- and every usage error, in the words the user reads.
local t = require "t"
local options = require "cdnctl.front.options"

local parse = options.parse_options

-- parse(argv) with argv[0] set, as main hands it over
local function p(...)
  local argv = { [0] = "cdnctl", ... }
  return parse(argv)
end

t.test("no arguments: no options, no script, no subcommand", function()
  t.same(p(), { exprs = {}, args = {} })
end)

t.test("each switch sets its field", function()
  local cases = { ["-v"] = "verbose", ["--sandbox"] = "sandbox", ["--allow-http"] = "allow_http",
                  ["--quiet"] = "quiet", ["-q"] = "quiet" }
  for flag, field in pairs(cases) do
    local o = assert(p(flag))
    t.eq(o[field], true, flag)
  end
  local o = assert(p("-v", "--sandbox", "--allow-http", "--quiet"))
  t.eq(o.verbose and o.sandbox and o.allow_http and o.quiet, true, "all together")
end)

t.test("-e codes are kept in order", function()
  local o = assert(p("-e", "a = 1", "-e", "print(a)"))
  t.same(o.exprs, { "a = 1", "print(a)" })
end)

t.test("--profile NAME and --profile=NAME; --har FILE and --har=FILE", function()
  t.eq(assert(p("--profile", "acme")).profile, "acme")
  t.eq(assert(p("--profile=acme")).profile, "acme")
  t.eq(assert(p("--profile=")).profile, "", "an empty name is the config file's business")
  t.eq(assert(p("--har", "out.har")).har, "out.har")
  t.eq(assert(p("--har=out.har")).har, "out.har")
end)

t.test("--help, -h, --version and --man are actions that end the options", function()
  t.eq(assert(p("--help")).action, "help")
  t.eq(assert(p("-h")).action, "help")
  t.eq(assert(p("--version")).action, "version")
  t.eq(assert(p("--man")).action, "man")
  t.eq(assert(p("--help", "--bogus")).action, "help", "nothing after an action is read")
  t.eq(assert(p("-v", "--version")).verbose, true, "options before an action are read")
end)

t.test("a script: its place in argv and its arguments", function()
  local o = assert(p("-v", "run.lua", "a", "-x"))
  t.eq(o.script_index, 2)
  t.same(o.args, { "a", "-x" })
  t.eq(o.verbose, true)
  o = assert(p("-", "x"))
  t.eq(o.script_index, 1, "- is the script from stdin")
  t.same(o.args, { "x" })
  o = assert(p("--", "-odd.lua", "y"))
  t.eq(o.script_index, 2, "-- ends the options")
  t.same(o.args, { "y" })
  o = assert(p("--"))
  t.eq(o.script_index, nil, "-- and nothing: no script")
  t.same(o.args, {})
end)

-- parse(argv) where no word names a file (as for a fresh folder), or
-- where the words in `files` do
local function pf(files, ...)
  local argv = { [0] = "cdnctl", ... }
  return parse(argv, function(path) return files[path] == true end)
end

t.test("a subcommand: its place in argv and the words after it that are not global options", function()
  for _, c in ipairs(options.COMMANDS) do
    if c.name ~= "run" and not c.closed then
      local o = assert(p("--profile", "x", c.name, "--json", "-o"))
      t.eq(o.sub, c.name)
      t.eq(o.sub_index, 3)
      t.same(o.args, { "--json", "-o" }, c.name)
    end
  end
end)

t.test("a closed subcommand refuses an option it lacks, with the closest of its own and the globals", function()
  t.same({ p("whoami", "-V") }, { nil, "whoami: unknown option '-V' (did you mean '-v'?)" })
  t.same({ p("whoami", "--oflfine") }, { nil, "whoami: unknown option '--oflfine' (did you mean '--offline'?)" })
  t.same({ p("profiles", "--jsno=1") }, { nil, "profiles: unknown option '--jsno=1' (did you mean '--json'?)" })
  t.same({ p("version", "--zzzzzz") }, { nil, "version: unknown option '--zzzzzz'" })
  t.same(assert(p("profiles", "--names", "--json")).args, { "--names", "--json" })
  t.same(assert(p("whoami", "--offline", "-v")).args, { "--offline" })
end)

t.test("a command's own options: import's repeatable --profile names accounts, the other globals stay cdnctl's", function()
  local o = assert(p("import", "--profile", "a", "-v", "--profile=b", "--out", "x.csv", "--profile", "c"))
  t.same(o.args, { "--profile", "a", "--profile=b", "--out", "x.csv", "--profile", "c" })
  t.eq(o.profile, nil)
  t.eq(o.verbose, true)
  t.same(assert(p("--profile", "run1", "import", "--profile", "a")).args, { "--profile", "a" })
  t.eq(assert(p("--profile", "run1", "import", "--profile", "a")).profile, "run1")
end)

t.test("global options after a built-in subcommand are cdnctl's, in any order among its words", function()
  for _, c in ipairs(options.COMMANDS) do
    if c.name ~= "run" and not c.own then
      local o = assert(p(c.name, "a", "--profile", "bistro", "-v", "b", "--har=x.har", "--quiet", "--sandbox", "--allow-http", "c"))
      t.same(o.args, { "a", "b", "c" }, c.name .. ": its own words, in order")
      t.eq(o.profile, "bistro", c.name)
      t.eq(o.har, "x.har", c.name)
      t.eq(o.verbose and o.quiet and o.sandbox and o.allow_http, true, c.name)
    end
  end
  local o = assert(p("call", "shortpixel.read_domain", "bistro.example", "--profile=bistro", "--har", "h.har", "-q"))
  t.same(o.args, { "shortpixel.read_domain", "bistro.example" })
  t.eq(o.profile, "bistro")
  t.eq(o.har, "h.har")
  t.eq(o.quiet, true)
end)

t.test("-- after a subcommand ends cdnctl's options: the rest is the subcommand's, -- included", function()
  local o = assert(p("call", "op", "--", "-v", "--profile", "x"))
  t.same(o.args, { "op", "--", "-v", "--profile", "x" })
  t.eq(o.verbose, nil)
  t.eq(o.profile, nil)
end)

t.test("a global option after a subcommand still needs its value", function()
  local _, err = p("whoami", "--profile")
  t.eq(err, "--profile needs a name")
  _, err = p("call", "op", "--har=")
  t.eq(err, "--har needs a file name")
  _, err = p("call", "op", "--quiet=yes")
  t.eq(err, "--quiet takes no value")
end)

t.test("after run, cdnctl's options come before NAME; after NAME the words are the script's", function()
  local o = assert(p("run", "-v", "--profile", "bistro", "report", "a.csv", "--profile", "other", "-v"))
  t.eq(o.sub, "run")
  t.eq(o.script_index, 5, "NAME's place in argv")
  t.same(o.args, { "a.csv", "--profile", "other", "-v" })
  t.eq(o.profile, "bistro")
  t.eq(o.verbose, true)
  o = assert(p("run"))
  t.eq(o.sub, "run")
  t.eq(o.script_index, nil, "no NAME")
  o = assert(p("run", "--help"))
  t.same(o.args, { "--help" }, "run's own option: for run to answer")
  t.eq(o.script_index, nil)
end)

t.test("after a script path the words are the script's, cdnctl's option names included", function()
  local o = assert(p("x.lua", "--profile", "a", "-v", "--har", "f"))
  t.same(o.args, { "--profile", "a", "-v", "--har", "f" })
  t.eq(o.profile, nil)
  t.eq(o.verbose, nil)
end)

t.test("a non-repeatable option given twice with different values is refused; the same value twice is one", function()
  local _, err = p("--profile", "a", "call", "op", "--profile", "b")
  t.eq(err, "--profile is given twice, as 'a' and as 'b'")
  _, err = p("--har=a.har", "whoami", "--har", "b.har")
  t.eq(err, "--har is given twice, as 'a.har' and as 'b.har'")
  local o = assert(p("--profile", "a", "whoami", "--profile=a"))
  t.eq(o.profile, "a")
  o = assert(p("-v", "call", "op", "-v"))
  t.eq(o.verbose, true, "a switch twice is the switch")
  o = assert(p("-e", "x = 1", "-e", "x = 2"))
  t.same(o.exprs, { "x = 1", "x = 2" }, "-e is repeatable")
end)

t.test("a first word that is no subcommand and no script path is an unknown command, with did-you-mean", function()
  local cases = {
    { { "cal", "shortpixel.read_domain", "x.com" }, "unknown command 'cal'; did you mean 'call'?" },
    { { "profile" }, "unknown command 'profile'; did you mean 'profiles'?" },
    { { "versoin" }, "unknown command 'versoin'; did you mean 'version'?" },
    { { "-v", "hlep" }, "unknown command 'hlep'; did you mean 'help'?" },
    { { "zzzzzz" }, "unknown command 'zzzzzz' (cdnctl --help lists the commands)" },
  }
  for _, c in ipairs(cases) do
    local o, err = pf({}, table.unpack(c[1]))
    t.eq(o, nil, c[2])
    t.eq(err, c[2])
  end
end)

t.test("a script path: a word with a /, ending in .lua, or naming a file", function()
  t.eq(assert(pf({}, "./cal")).script_index, 1)
  t.eq(assert(pf({}, "dir/script")).script_index, 1)
  t.eq(assert(pf({}, "cal.lua")).script_index, 1)
  t.eq(assert(pf({ cal = true }, "cal", "x")).script_index, 1)
  local o = assert(pf({ call = true, version = true }, "call", "op"))
  t.eq(o.sub, "call", "a subcommand wins over a file of the same name")
  t.eq(o.script_index, nil)
  t.eq(assert(pf({}, "--", "call")).script_index, 2, "after --, the word is a script: ./call is reachable")
end)

t.test("an option of a subcommand given before it names the subcommand", function()
  local cases = {
    { { "--output", "json", "call", "op" }, "--output is an option of call: put it after call (cdnctl call ... --output)" },
    { { "--yes", "call", "op" }, "--yes is an option of call: put it after call (cdnctl call ... --yes)" },
    { { "--offline", "-v", "whoami" }, "--offline is an option of whoami: put it after whoami (cdnctl whoami ... --offline)" },
    { { "--output=csv", "call" }, "--output is an option of call: put it after call (cdnctl call ... --output)" },
  }
  for _, c in ipairs(cases) do
    local o, err = p(table.unpack(c[1]))
    t.eq(o, nil, c[2])
    t.eq(err, c[2])
  end
  local _, err = p("--output", "json", "x.lua")
  t.eq(err, "unknown option '--output'", "no subcommand follows: no claim about one")
end)

t.test("each command of the table has its phase, and call's, whoami's, run's options include --help", function()
  for _, c in ipairs(options.COMMANDS) do
    t.ok(c.phase, c.name .. ": a phase")
    t.eq(options.command(c.name), c, c.name .. ": found by name")
  end
  for _, name in ipairs { "call", "whoami", "run", "profiles", "sandbox" } do
    local has = false
    for _, opt in ipairs(options.command(name).options) do has = has or opt == "--help" end
    t.ok(has, name .. " --help")
  end
  t.eq(options.command("nope"), nil)
end)

t.test("after -e a subcommand's name is a script", function()
  local o = assert(p("-e", "x = 1", "call"))
  t.eq(o.sub, nil)
  t.eq(o.script_index, 3)
end)

t.test("usage errors, each in the user's words", function()
  local cases = {
    { { "-e" }, "-e needs an argument" },
    { { "--profile" }, "--profile needs a name" },
    { { "--har" }, "--har needs a file name" },
    { { "--har", "" }, "--har needs a file name" },
    { { "--har=" }, "--har needs a file name" },
    { { "--quite" }, "unknown option '--quite' (did you mean '--quiet'?)" },
    { { "--sandbox", "--verbose=1" }, "unknown option '--verbose'" },
    { { "-V" }, "unknown option '-V' (did you mean '-v'?)" },
    { { "--Quiet" }, "unknown option '--Quiet' (did you mean '--quiet'?)" },
    { { "--quiet=1" }, "--quiet takes no value" },
    { { "-v", "--bogus", "--help" }, "unknown option '--bogus'" },
  }
  for _, c in ipairs(cases) do
    local o, err = p(table.unpack(c[1]))
    t.eq(o, nil, c[2])
    t.eq(err, c[2])
  end
end)

t.test("parse_options reads nothing and writes nothing: the same argv gives the same table", function()
  local argv = { [0] = "cdnctl", "-v", "x.lua" }
  t.same(parse(argv), parse(argv))
  t.same(argv, { [0] = "cdnctl", "-v", "x.lua" }, "argv is left as it was")
end)

t.done()
