-- Trims a group's retry stream below what the group still needs: entries it
-- has read (at or before its last-delivered ID) and that are not pending (older
-- than the first entry of its pending list). Unread and unacknowledged
-- replayed entries are never removed. The bound only ever moves forward, so
-- running this at any time is safe.
--
-- KEYS[1]  group's retry stream
-- ARGV[1]  group
-- Returns  number of entries removed (0 when the stream or its group does not exist)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, delivered
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then delivered = g[i + 1] end
  end
  if name == ARGV[1] then last = delivered end
end
-- No such group: nobody can tell what is still needed, so nothing is removed.
if not last then return 0 end

local function before(a, b) -- a < b for stream IDs "<ms>-<seq>"
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  if #as ~= #bs then return #as < #bs end
  return as < bs
end

local floor = last
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
if summary[1] > 0 and before(summary[2], floor) then floor = summary[2] end
-- MINID keeps the floor entry itself (at most one read entry stays behind).
return redis.call('XTRIM', KEYS[1], 'MINID', floor)
