-- Shared by the scripts that may create a tenant's stream (redis/commands.ts
-- puts it in front of them). A stream's incarnation is named by its epoch
-- (cursors/epoch.ts):
-- - a stream that does not exist is created (empty, when `createEmpty`; else by
--   the caller's XADD) as a new incarnation: a new epoch, and nothing of an
--   earlier one (trim marker, duplicate window);
-- - a stream without an epoch (written by another producer, or by a version
--   before epochs) gets one, and loses a duplicate window it may have: nothing
--   tells which history that belonged to.
-- Returns the epoch, and whether the stream is a new incarnation.
local function incarnation(stream, epochKey, trimmed, dedup, dedupA, dedupB, newEpoch, createEmpty)
  if redis.call('EXISTS', stream) == 0 then
    if createEmpty then
      -- An empty stream can only be made through a consumer group; the group goes at once.
      redis.call('XGROUP', 'CREATE', stream, '@streamgate-init', '$', 'MKSTREAM')
      redis.call('XGROUP', 'DESTROY', stream, '@streamgate-init')
    end
    redis.call('DEL', trimmed, dedup, dedupA, dedupB)
    redis.call('SET', epochKey, newEpoch)
    return newEpoch, true
  end
  local epoch = redis.call('GET', epochKey)
  if epoch then return epoch, false end
  redis.call('DEL', dedup, dedupA, dedupB)
  redis.call('SET', epochKey, newEpoch)
  return newEpoch, false
end

