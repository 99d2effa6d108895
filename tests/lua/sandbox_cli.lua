-- `cdnctl sandbox`'s options, parsed as a pure function: argv in, the
-- configuration (or a message) out; nothing is printed or started.
local t = require "t"
local cli = require "cdnctl.sandbox.cli"

local function parse(...) return cli.parse({ "sandbox", ... }, 2) end

t.test("no options: loopback, a free port, no accounts", function()
  local cfg, host, port = parse()
  t.same(cfg, { accounts = { shortpixel = {}, easyio = {} } })
  t.eq(host, "127.0.0.1")
  t.eq(port, 0)
end)

t.test("--listen takes HOST:PORT, [IPV6]:PORT or PORT, inline or as the next argument", function()
  local _, host, port = parse("--listen", "0.0.0.0:8080")
  t.eq(host, "0.0.0.0"); t.eq(port, 8080)
  _, host, port = parse("--listen=[::1]:9")
  t.eq(host, "::1"); t.eq(port, 9)
  _, host, port = parse("--listen", "7000")
  t.eq(host, "127.0.0.1"); t.eq(math.type(port), "integer"); t.eq(port, 7000)
  t.same({ parse("--listen", "host:70000") }, { nil, "--listen: 'host:70000' is not HOST:PORT" })
  t.same({ parse("--listen") }, { nil, "--listen needs HOST:PORT" })
end)

t.test("--account adds users; a key URLs cannot carry is refused", function()
  local cfg = parse("--account", "shortpixel:K1", "--account=shortpixel:K2:a@b.c", "--account", "easyio:E1:3",
    "--account", "easyio:E2")
  t.same(cfg.accounts.shortpixel, { { key = "K1", email = "user@example.com" }, { key = "K2", email = "a@b.c" } })
  t.same(cfg.accounts.easyio, { { key = "E1", licensed = 3 }, { key = "E2" } })
  t.same({ parse("--account", "shortpixel:a/b") }, { nil, "--account: the key has a character URLs cannot carry" })
  t.same({ parse("--account", "easyio:E:lots") },
    { nil, "--account: 'shortpixel:KEY[:EMAIL]' or 'easyio:KEY[:SITES]' expected" })
end)

t.test("file options need a name; numbers must be whole; --env takes no value", function()
  local cfg = parse("--state", "s.json", "--log=l.jsonl", "--seed", "7", "--pending", "0", "--env")
  t.eq(cfg.state, "s.json"); t.eq(cfg.log, "l.jsonl"); t.eq(cfg.seed, 7); t.eq(cfg.pending, 0); t.eq(cfg.env, true)
  t.same({ parse("--compare=") }, { nil, "--compare needs a file name" })
  t.same({ parse("--seed", "1.5") }, { nil, "--seed needs a whole number" })
  t.same({ parse("--pending", "-1") }, { nil, "--pending needs a whole number of seconds" })
  t.same({ parse("--env=1") }, { nil, "--env takes no value" })
end)

t.test("--help wins wherever it is; an unknown option is named, with the closest", function()
  t.eq(parse("--seed", "1", "-h"), "help")
  local cfg, err = parse("--stat", "x")
  t.eq(cfg, nil)
  t.match(err, "^unknown option '%-%-stat'")
  t.match(err, "%-%-state")
end)

t.done()
