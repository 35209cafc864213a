-- Appends a batch of events to a tenant's stream in one atomic step: one
-- command from the server instead of MULTI + one XADD per event + EXEC. Field
-- names are not sent per event (fewer, shorter arguments to build and parse):
-- the script writes the layout's names (redis/layout.ts, Field), calling XADD
-- with its arguments spelled out rather than unpacking a table per event.
--
-- KEYS[1]  the tenant's event stream
-- ARGV     per event: a mask of the optional fields present (1 author, 2 username, 4 details),
--          routing_key, kref, then the optional fields present, in that order
-- Returns  the new entries' IDs, in order
local key = KEYS[1]
local ids = {}
local i = 1
local n = #ARGV
while i <= n do
  local mask = ARGV[i]
  local rk, kref = ARGV[i + 1], ARGV[i + 2]
  local id
  if mask == '0' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref)
    i = i + 3
  elseif mask == '1' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[i + 3])
    i = i + 4
  elseif mask == '2' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'username', ARGV[i + 3])
    i = i + 4
  elseif mask == '3' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[i + 3], 'username', ARGV[i + 4])
    i = i + 5
  elseif mask == '4' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'details', ARGV[i + 3])
    i = i + 4
  elseif mask == '5' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[i + 3], 'details', ARGV[i + 4])
    i = i + 5
  elseif mask == '6' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'username', ARGV[i + 3], 'details', ARGV[i + 4])
    i = i + 5
  elseif mask == '7' then
    id = redis.call('XADD', key, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[i + 3], 'username', ARGV[i + 4], 'details', ARGV[i + 5])
    i = i + 6
  else
    return redis.error_reply('appendEvents: bad field mask ' .. tostring(mask))
  end
  ids[#ids + 1] = id
end
return ids
