-- Appends a batch of events to a tenant's stream in one atomic step: one
-- command from the server instead of MULTI + one XADD per event + EXEC, which
-- halves the server's CPU per published event in a batch.
--
-- KEYS[1]  the tenant's event stream
-- ARGV     per event: the number of field/value arguments n, then those n arguments
-- Returns  the new entries' IDs, in order
local ids = {}
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return ids
