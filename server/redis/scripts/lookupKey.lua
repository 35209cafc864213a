-- Resolves an API key by the SHA-256 of its token, with its tenant's tier, in
-- one round trip. The caller compares the stored hash in constant time.
--
-- KEYS[1]  key-hashes hash (hex SHA-256 -> key id)
-- KEYS[2]  keys hash (key id -> JSON record)
-- KEYS[3]  tenants hash (tenant id -> tier name)
-- ARGV[1]  hex SHA-256 of the presented token
-- Returns  {record JSON, tier name or false}, or false when no key has this hash
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local record = redis.call('HGET', KEYS[2], id)
if not record then return false end
local tenant = cjson.decode(record)['tenant']
return {record, redis.call('HGET', KEYS[3], tenant)}
