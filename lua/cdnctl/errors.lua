-- cdnctl.errors: the error objects every binding returns as `nil, err`.
-- An error is a table {op, kind, message, http_status, code, ...} whose
-- tostring is one readable line. Kinds: "api" (the service said no),
-- "http" (an HTTP error status), "transport" (no usable answer: refused,
-- reset, timeout), "invalid" (refused before sending), "decode" (the body
-- is not the JSON we expected), "interrupted" (Ctrl-C), "unknown" (a
-- create or remove that may or may not have taken effect: code
-- "unknown_outcome", with what may be left and how to see it). A failure of a
-- call that carried a key also has key_source ("profile 'old'",
-- "SHORTPIXEL_API_KEY", "opts.key", "--sandbox") and key_masked (****9999).

local redact = require "cdnctl.redact"

local M = {}

local Error = {}
Error.__index = Error
Error.__name = "cdnctl.Error"

function Error.__tostring(e)
  local s = (e.op or "cdnctl") .. ": " .. tostring(e.message)
  local extra = {}
  if math.type(e.code) == "integer" and e.kind == "api" then extra[#extra + 1] = "API code " .. tostring(e.code) end
  if e.http_status and e.http_status ~= 200 and e.http_status ~= 0 and e.kind ~= "http" then -- (http: its message starts with it)
    extra[#extra + 1] = "HTTP " .. e.http_status
  end
  if e.kind ~= "api" then extra[#extra + 1] = e.kind end
  if #extra > 0 then s = s .. " (" .. table.concat(extra, ", ") .. ")" end
  -- the key of a failure that involves it, masked, and where it came from
  if e.key_masked and e.key_source then s = s .. " (key " .. e.key_masked .. " from " .. e.key_source .. ")" end
  return s
end

M.KINDS = { api = true, http = true, transport = true, invalid = true, decode = true, interrupted = true,
            unknown = true }

-- M.new{op=, kind=, message=, ...} with the message masked of `secret`
-- (the call's key) and of every registered secret.
function M.new(t, secret)
  assert(M.KINDS[t.kind], "unknown error kind")
  t.message = redact.mask(tostring(t.message or t.kind), secret)
  return setmetatable(t, Error)
end

-- A failure that involves a key names it, masked, and where it came from
-- (key_masked, key_source; tostring adds "(key ****9999 from profile 'old')").
-- Transport failures are not about the key: they are left as they are.
function M.name_key(e, key, from)
  if getmetatable(e) == Error and e.kind ~= "transport" and e.kind ~= "interrupted" then
    e.key_source, e.key_masked = from, redact.short(key)
  end
  return e
end

return M
