-- Takes a lease on one of a tenant's concurrent-stream slots, shared by every
-- replica. Leases expire unless renewed (renewStreams.lua), so the slots of a
-- replica that died come back on their own. Time is Redis's, not a replica's.
--
-- KEYS[1]  the tenant's stream-lease sorted set (member -> expiry ms)
-- ARGV[1]  lease member ("<replica>:<n>")
-- ARGV[2]  limit (-1: unlimited)
-- ARGV[3]  lease time to live, ms
-- Returns  {1, open} when granted (open counts this lease), {0, open} when the limit is reached
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[2])
if limit >= 0 and open >= limit then return {0, open} end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return {1, open + 1}
