-- Replaces a stream's epoch after a server saw its history rolled back, unless
-- another server already did: a compare-and-set, so that every replica that
-- notices the same rollback ends up with one new epoch (cursors/epoch.ts).
--
-- KEYS[1]  the epoch (string)
-- ARGV[1]  the epoch the caller saw
-- ARGV[2]  the new epoch
-- Returns  the epoch now in force
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or not current then
  redis.call('SET', KEYS[1], ARGV[2])
  return ARGV[2]
end
return current
