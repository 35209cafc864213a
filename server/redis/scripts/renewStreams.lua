-- Extends a replica's stream leases on one tenant (see acquireStream.lua).
-- A lease that already expired is added back: the stream is still open. One
-- ZADD per few thousand leases, not one per lease: renewing 10,000 open
-- streams is a handful of commands.
--
-- KEYS[1]  the tenant's stream-lease sorted set
-- ARGV[1]  lease time to live, ms
-- ARGV[2..] lease members held by this replica
-- Returns  number of leases renewed
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local expiry = now + ttl
local batch = {}
for i = 2, #ARGV do
  batch[#batch + 1] = expiry
  batch[#batch + 1] = ARGV[i]
  -- unpack() is limited by Lua's stack: flush well before it.
  if #batch >= 4000 then
    redis.call('ZADD', KEYS[1], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then redis.call('ZADD', KEYS[1], unpack(batch)) end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return #ARGV - 1
