-- Appends events to a tenant's stream in one atomic step, each at most once
-- per idempotency key within the duplicate window, and returns their IDs with
-- the stream's epoch. Field names are not sent per event (fewer, shorter
-- arguments to build and parse): the script writes the layout's names
-- (redis/layout.ts, Field), calling XADD with its arguments spelled out rather
-- than unpacking a table per event.
--
-- Duplicate window: idempotency keys live in two hash buckets that take turns.
-- New keys go to the current bucket; a lookup checks both. When the current
-- bucket is `window` ms old, the older bucket is dropped and the current one
-- becomes the older: a key is remembered for at least `window` ms and at most
-- about twice that, at the cost of one hash field per keyed event. Time is
-- Redis's own (TIME), so replicas with skewed clocks agree.
--
-- KEYS[1]  the events stream
-- KEYS[2]  the epoch (string)
-- KEYS[3]  the "trimmed" marker
-- KEYS[4]  the duplicate-window state: "<start ms>:<a|b>" (the current bucket and when it began)
-- KEYS[5]  bucket a, KEYS[6] bucket b (hashes: idempotency key -> stream ID)
-- ARGV[1]  a new epoch, used when the stream is created (or has none)
-- ARGV[2]  the duplicate window in ms
-- ARGV[3.] per event: a mask of the optional fields present (1 author, 2 username,
--          4 details, 8 idempotency key), the idempotency key if present,
--          routing_key, kref, then the optional fields present, in that order
-- Returns  {epoch, {ID per event}, a "0"/"1" per event: "1" when it was a duplicate
--           (not appended; its ID is the first one's)}
local stream = KEYS[1]
-- This append may create the stream: then it is a new incarnation (lib/incarnation.lua).
local epoch = incarnation(stream, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], false)

local window = tonumber(ARGV[2])
local current, older -- the buckets, when the batch has keys
local function buckets()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local state = redis.call('GET', KEYS[4])
  local which = 'a'
  if state then
    local sep = string.find(state, ':', 1, true)
    local started = tonumber(string.sub(state, 1, sep - 1))
    which = string.sub(state, sep + 1)
    if now - started >= window then
      which = (which == 'a') and 'b' or 'a'
      redis.call('UNLINK', which == 'a' and KEYS[5] or KEYS[6])
      redis.call('SET', KEYS[4], now .. ':' .. which)
    end
  else
    redis.call('SET', KEYS[4], now .. ':a')
  end
  if which == 'a' then return KEYS[5], KEYS[6] end
  return KEYS[6], KEYS[5]
end

-- First pass: where each event's arguments start, and its key. The keys are then looked up in
-- both buckets with a few HMGETs per batch rather than two HGETs per event (a call from Lua costs
-- about as much as the lookup itself), in chunks that stay within Lua's unpack limit.
local starts, keys = {}, {}
local i, n = 3, #ARGV
while i <= n do
  local maskArg = ARGV[i]
  local mask = tonumber(maskArg)
  local key = false
  if mask >= 8 then
    key = ARGV[i + 1]
    mask = mask - 8
    i = i + 1
  end
  if mask > 7 or mask < 0 then return redis.error_reply('appendEvents: bad field mask ' .. tostring(maskArg)) end
  starts[#starts + 1] = i + 1
  keys[#keys + 1] = key
  i = i + 1 + ((mask == 0 and 2) or ((mask == 3 or mask == 5 or mask == 6) and 4) or (mask == 7 and 5) or 3)
end

local CHUNK = 1000
local seen = {} -- key -> ID, from the buckets or appended earlier in this batch
local keyed = {}
for e = 1, #keys do if keys[e] then keyed[#keyed + 1] = keys[e] end end
if #keyed > 0 then
  current, older = buckets()
  for _, bucket in ipairs({older, current}) do
    for from = 1, #keyed, CHUNK do
      local to = math.min(from + CHUNK - 1, #keyed)
      local found = redis.call('HMGET', bucket, unpack(keyed, from, to))
      for j = 1, #found do if found[j] then seen[keyed[from + j - 1]] = found[j] end end
    end
  end
end

local ids, dups, fresh = {}, {}, {}
for e = 1, #starts do
  local key = keys[e]
  local id = key and seen[key]
  if id then
    dups[e] = '1'
  else
    local a = starts[e]
    local mask = tonumber(ARGV[a - 1 - (key and 1 or 0)]) % 8
    local rk, kref = ARGV[a], ARGV[a + 1]
    if mask == 0 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref)
    elseif mask == 1 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[a + 2])
    elseif mask == 2 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'username', ARGV[a + 2])
    elseif mask == 3 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[a + 2], 'username', ARGV[a + 3])
    elseif mask == 4 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'details', ARGV[a + 2])
    elseif mask == 5 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[a + 2], 'details', ARGV[a + 3])
    elseif mask == 6 then
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'username', ARGV[a + 2], 'details', ARGV[a + 3])
    else
      id = redis.call('XADD', stream, '*', 'routing_key', rk, 'kref', kref, 'author', ARGV[a + 2], 'username', ARGV[a + 3], 'details', ARGV[a + 4])
    end
    if key then
      seen[key] = id
      fresh[#fresh + 1] = key
      fresh[#fresh + 1] = id
    end
    dups[e] = '0'
  end
  ids[e] = id
end
-- The new keys, in chunks of pairs; an idle tenant's buckets expire on their own, a busy one's are
-- dropped as they take turns.
for from = 1, #fresh, 2 * CHUNK do
  redis.call('HSET', current, unpack(fresh, from, math.min(from + 2 * CHUNK - 1, #fresh)))
end
-- Refreshed on every write, not set once: were Redis's clock to step back (a failover to a host
-- whose clock is behind), a bucket still in use must not expire early.
if #fresh > 0 then redis.call('PEXPIRE', current, 2 * window) end
return {epoch, ids, table.concat(dups)}
