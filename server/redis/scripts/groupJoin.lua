-- Creates a consumer group (Redis groups on the events and retry streams, plus
-- its settings) or returns the settings of the existing one, atomically, so two
-- members racing to create the same group agree on its filters.
--
-- The events stream is created here if need be, as a new incarnation (lib/incarnation.lua).
--
-- KEYS[1]  events stream        KEYS[2]  group's retry stream
-- KEYS[3]  group settings hash  KEYS[4]  tenant's set of group names
-- KEYS[5]  the stream's epoch   KEYS[6]  its trim marker   KEYS[7..9] its duplicate-window state and buckets
-- ARGV[1]  group name   ARGV[2] routing-key filter   ARGV[3] kref filter
-- ARGV[4]  start ID for a new group ("$", "0" or "<ms>-<seq>")
-- ARGV[5]  max deliveries   ARGV[6] ack timeout (ms)   ARGV[7] creation time (ISO-8601)
-- ARGV[8]  a new epoch, used when the stream is created (or has none)
-- Returns  {created (0|1), routing-key filter, kref filter, max deliveries, ack timeout}
incarnation(KEYS[1], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], ARGV[8], true)
local function create(stream, start)
  local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', stream, ARGV[1], start, 'MKSTREAM')
  -- A group left behind without settings (e.g. settings deleted by hand) is adopted as it is.
  if not ok and not string.find(tostring(err), 'BUSYGROUP') then error(err) end
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- A group whose stream was created again (Redis lost it, or the key was deleted) lost its Redis
  -- groups with it: they come back reading the new stream from its start, so that nothing of the
  -- new history is skipped (its members were ended with DATA_LOSS).
  create(KEYS[1], '0')
  create(KEYS[2], '0')
  local s = redis.call('HMGET', KEYS[3], 'routing_key_filter', 'kref_filter', 'max_deliveries', 'ack_timeout_ms')
  return {0, s[1], s[2], s[3], s[4]}
end
create(KEYS[1], ARGV[4])
create(KEYS[2], '0')
redis.call('HSET', KEYS[3], 'routing_key_filter', ARGV[2], 'kref_filter', ARGV[3],
  'max_deliveries', ARGV[5], 'ack_timeout_ms', ARGV[6], 'created_at', ARGV[7])
redis.call('SADD', KEYS[4], ARGV[1])
return {1, ARGV[2], ARGV[3], ARGV[5], ARGV[6]}
