-- cdnctl.answer: how one attempt's answer is read, by the table of
-- operations (cdnctl.ops): a result, or a failure with whether a retry is
-- safe and whether the work may have been done all the same. Plain
-- functions of the answer (status, headers, body) or of the transport's
-- failure, tested as units (tests/lua/classify.lua); and what the failure
-- of a checked create or remove says when its outcome is unknown or it is
-- not sent. cdnctl.client decides what follows.

local json = require "cdnctl.json"
local errors = require "cdnctl.errors"
local ops = require "cdnctl.ops"

local M = {}

local RETRY_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }
local NOT_SENT_CURL = { [6] = true, [7] = true } -- could not resolve / connect: nothing reached the server
-- A certificate that fails verification fails the same way next time:
-- CURLE_SSL_CERTPROBLEM, PEER_FAILED_VERIFICATION, SSL_CACERT_BADFILE,
-- SSL_ISSUER_ERROR, SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS.
local NO_RETRY_CURL = { [58] = true, [60] = true, [77] = true, [83] = true, [90] = true, [91] = true }


-- What came back, in a few words, for messages about answers that are not
-- what the operation expects: "[]", "an empty body", "an HTML page (text/html,
-- HTTP 200) starting '<!DOCTYPE html>...'".
local function what_came_back(resp)
  local text = resp.body
  if text:find("^%s*$") then return "an empty body (HTTP " .. resp.status .. ")" end
  local ctype = resp.headers["content-type"] or "no content type"
  local first = text:sub(1, 48):gsub("[%c]", " ")
  if #text > 48 then first = first .. "..." end
  if #text <= 16 and not ctype:find("html", 1, true) then return first end
  local what = (ctype:find("html", 1, true) or text:find("^%s*<")) and "an HTML page" or "a body"
  return string.format("%s (%s, HTTP %d) starting '%s'", what, ctype, resp.status, first)
end

-- A hint for a transport failure against a host that is known to have moved.
local function transport_hint(url)
  local host = url:match("^%a+://([^/:]+)")
  return host and ops.TRANSPORT_HINTS[host:lower()]
end

-- An answer that is not a JSON object where one is expected.
local function not_object(op, values, resp, key)
  local what = what_came_back(resp)
  local hint = op.not_object
  if hint then
    local msg = hint.message:gsub("{(%w+)}", function(n) return tostring(values[n]) end)
    return errors.new({ op = op.full, kind = "api", http_status = resp.status, code = hint.code,
                        message = msg .. " (the service answered " .. what .. ", not a JSON object)" }, key)
  end
  return errors.new({ op = op.full, kind = "decode", http_status = resp.status,
                      message = "the service answered " .. what .. " where a JSON object was expected" }, key)
end

local function transport_error(op, req, terr, key)
  local kind = terr.code == "interrupted" and "interrupted" or "transport"
  local hint = kind == "transport" and transport_hint(req.url)
  local err = errors.new({ op = op.full, kind = kind, message = terr.message .. (hint and ("; " .. hint) or ""),
                           code = terr.code, curl_code = terr.curl_code, http_status = 0 }, key)
  local retryable = kind == "transport" and terr.code ~= "too_big" and not NO_RETRY_CURL[terr.curl_code]
  return nil, err, retryable, not NOT_SENT_CURL[terr.curl_code]
end

-- An operation that takes any 2xx answer (op.any_answer, cdnctl.ops): its
-- reading of the decoded object (nil when the answer is not a JSON object).
local function any_answer(op, values, opts, resp, body, key)
  local is_object = type(body) == "table" and resp.body:find("^%s*{") ~= nil
  local result, msg, code = op.any_answer(is_object and body or nil, values, opts or {})
  if result then return result end
  return nil, errors.new({ op = op.full, kind = "api", http_status = resp.status, message = msg, code = code,
                           body = body }, key), false
end

-- What came back, for cdnctl.meta of an any_answer result: the decoded
-- JSON, or the text when it is not JSON.
function M.kept(resp)
  local v = json.decode(resp.body)
  if v == nil then return resp.body end
  return v
end

-- Read one answer: result | nil, err, retryable, maybe_done (the answer
-- does not prove that the request did not take effect: anything but a 4xx,
-- a refusal in the service's words, or a connection never made). A plain function of the answer (resp:
-- status, headers, body) or the transport failure (terr), so that its
-- rules are tested as units (tests/lua/classify.lua).
function M.classify(op, values, req, resp, terr, key, opts)
  if not resp then return transport_error(op, req, terr, key) end
  local body, derr = json.decode(resp.body)
  local status = resp.status
  if status < 200 or status >= 300 then
    local said = ops.http_error_message(body)
    local err = errors.new({ op = op.full, kind = "http", http_status = status,
                             message = "HTTP " .. status .. (said and ("; the answer says: " .. said) or ""),
                             retry_after = resp.headers["retry-after"] }, key)
    -- a 4xx (429 included) is the server refusing: not done; anything else may be
    return nil, err, RETRY_STATUS[status] or false, not (status >= 400 and status < 500)
  end
  if op.any_answer then return any_answer(op, values, opts, resp, body, key) end
  local is_object = type(body) == "table" and resp.body:find("^%s*{") ~= nil
  if not is_object and op.bare and op.bare(body) then body, is_object = op.bare(body), true end
  if not is_object then
    -- a 2xx that is not the JSON object expected proves nothing about the work: maybe done
    if body == nil and not resp.body:find("^%s*$") and not op.not_object then
      return nil, errors.new({ op = op.full, kind = "decode", http_status = status,
                               message = "the answer is not JSON (" .. tostring(derr):gsub(" at character %d+", "")
                                 .. "): " .. what_came_back(resp) }, key), false, true
    end
    return nil, not_object(op, values, resp, key), false, op.not_object == nil
  end
  if op.lists then
    for _, field in ipairs(op.lists) do body[field] = ops.as_list(body[field]) end
  end
  local ok, msg, code = op.accept(body)
  if not ok then
    local low = msg:lower()
    for text, name in pairs(op.refusals or {}) do
      if low:find(text, 1, true) then code = name end
    end
    return nil, errors.new({ op = op.full, kind = "api", http_status = status, message = msg, code = code,
                             body = body }, key), false, false
  end
  if op.finish then op.finish(body) end
  return body
end

-- The failure of a call whose outcome is unknown (err: what happened; why:
-- the check's words, an error or {message, appeared}): it names what may
-- be left and how to see it (op.unchecked), every time.
function M.unknown_outcome(op, values, key, err, why)
  local hint = (op.unchecked or "it may have taken effect"):gsub("{([%w_]+)}", function(n) return tostring(values[n]) end)
  local reason = why
  if type(why) == "table" then
    reason = why.kind == "interrupted" and "not checked: a second signal came"
      or why.op and ("checking failed: " .. tostring(why.message)) or tostring(why.message)
  end
  local interrupted = err.kind == "interrupted"
  return errors.new({ op = op.full, kind = "unknown", code = "unknown_outcome", http_status = err.http_status,
    attempts = err.attempts, interrupted = interrupted or nil, appeared = type(why) == "table" and why.appeared or nil,
    message = (interrupted and "interrupted" or err.message) .. "; the outcome is unknown (" .. reason .. "): " .. hint },
    key)
end

-- The failure of a create or remove whose read before failed: it is not
-- sent, and says why (the read's own failure, or interrupted before it);
-- err.not_sent is true when the read failed.
function M.not_sent(op, rerr)
  if rerr.op == op.full then return rerr end -- the read answered already: a duplicate, not_found
  if rerr.kind == "api" then rerr.op = op.full; return rerr end -- the key is refused for the call as for its read
  if rerr.kind == "interrupted" then
    rerr.op, rerr.message = op.full, "interrupted before anything was sent"
    return rerr
  end
  return errors.new({ op = op.full, kind = rerr.kind, code = rerr.code, http_status = rerr.http_status, not_sent = true,
    message = "not sent: " .. rerr.op .. ", the read that tells afterwards whether it took effect, failed ("
      .. tostring(rerr.message) .. ")" })
end

return M
