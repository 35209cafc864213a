-- Extends a replica's stream leases on one tenant (see acquireStream.lua).
-- A lease that already expired is added back: the stream is still open.
--
-- KEYS[1]  the tenant's stream-lease sorted set
-- ARGV[1]  lease time to live, ms
-- ARGV[2..] lease members held by this replica
-- Returns  number of leases renewed
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return #ARGV - 1
