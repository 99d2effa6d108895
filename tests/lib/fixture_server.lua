-- Runs the fixture server as a process of its own (for tests that drive the
-- binary): prints its base URL on the first line, serves until SIGINT/SIGTERM.
--   cdnctl -e "package.path=..." tests/lib/fixture_server.lua
local server = require "cdnctl.server"
local fixture = require "fixture"
local srv = assert(server.start { host = "127.0.0.1", port = 0, source = fixture.SOURCE })
io.stdout:write("http://127.0.0.1:", srv:port(), "\n")
io.stdout:flush()
server.wait_signal()
srv:stop()
