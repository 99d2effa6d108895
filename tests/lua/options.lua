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

t.test("a subcommand: its place in argv and the words after it, unread", function()
  for name in pairs(options.SUBCOMMANDS) do
    local o = assert(p("--profile", "x", name, "--json", "-v"))
    t.eq(o.sub, name)
    t.eq(o.sub_index, 3)
    t.same(o.args, { "--json", "-v" }, name)
    t.eq(o.verbose, nil, name .. ": its own options are not cdnctl's")
  end
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
    { { "--har=" }, "unknown option '--har='" },
    { { "--quite" }, "unknown option '--quite' (did you mean '--quiet'?)" },
    { { "--sandbox", "--verbose=1" }, "unknown option '--verbose=1'" },
    { { "-x" }, "unknown option '-x' (did you mean '-e'?)" },
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
