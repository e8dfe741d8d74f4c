-- SPDX-License-Identifier: GPL-2.0-only
-- wrk script for test_scrape.py: counts responses by status and checks that
-- every 200 body is a whole exposition. Arguments (after `--`): the least
-- body length, and a text every body must contain (the last family's
-- # TYPE line, so a body cut short lacks it). done() prints one
-- "key value" line per figure.
--
-- Each wrk thread runs its own copy of this script, so the counters are
-- globals that done() collects with thread:get().

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   minimum = tonumber(args[1]) or 0
   marker = args[2] or ""
   counts = {}
   incomplete = 0
   other_body = ""
   other_type = ""
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
   if status == 200 then
      if #body < minimum or body:sub(-1) ~= "\n" or not body:find(marker, 1, true) then
         incomplete = incomplete + 1
      end
   elseif other_body == "" then
      other_body = body:sub(1, 200)
      other_type = headers["Content-Type"] or headers["content-type"] or ""
   end
end

local function oneline(s)
   return (s:gsub("[\r\n]", " "))
end

function done(summary, latency, requests)
   local total, bad, body, ctype = {}, 0, "", ""
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("counts")) do
         total[status] = (total[status] or 0) + n
      end
      bad = bad + thread:get("incomplete")
      if body == "" then
         body = thread:get("other_body")
         ctype = thread:get("other_type")
      end
   end
   for status, n in pairs(total) do
      io.write(string.format("status %d %d\n", status, n))
   end
   io.write(string.format("incomplete %d\n", bad))
   io.write(string.format("other_type %s\n", oneline(ctype)))
   io.write(string.format("other_body %s\n", oneline(body)))
end
