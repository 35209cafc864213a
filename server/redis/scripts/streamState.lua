-- Where a tenant's stream stands, in one atomic step, creating it (empty, with
-- a new epoch) when it does not exist: readers learn the epoch their cursors
-- carry, and a stream that Redis lost comes back as a new incarnation (a new
-- epoch), so cursors from the lost one are told apart (cursors/epoch.ts).
--
-- KEYS[1]  the events stream
-- KEYS[2]  the epoch (string)
-- KEYS[3]  the "trimmed" marker (highest ID removed by retention)
-- KEYS[4]  the duplicate-window state, KEYS[5] and KEYS[6] its two buckets
-- ARGV[1]  a new epoch: used when the stream is created, or has none (written by another producer)
-- ARGV[2]  a stream ID to look up ("" for none)
-- Returns  {epoch, last-generated-id, first entry's ID or "", max-deleted-entry-id,
--           trimmed marker or "", 1 if the looked-up entry exists else 0, 1 if the stream was created else 0}
local stream = KEYS[1]
local epoch, created = incarnation(stream, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], true)

local info = redis.call('XINFO', 'STREAM', stream)
local lastGenerated, maxDeleted, first = '0-0', '0-0', ''
for i = 1, #info, 2 do
  local name = info[i]
  if name == 'last-generated-id' then lastGenerated = info[i + 1]
  elseif name == 'max-deleted-entry-id' then maxDeleted = info[i + 1]
  elseif name == 'first-entry' and info[i + 1] then first = info[i + 1][1]
  end
end
local exists = 0
if ARGV[2] ~= '' and #redis.call('XRANGE', stream, ARGV[2], ARGV[2]) > 0 then exists = 1 end
return {epoch, lastGenerated, first, maxDeleted, redis.call('GET', KEYS[3]) or '', exists, created and 1 or 0}
