-- Takes over pending (delivered, unacknowledged) entries of a consumer group on
-- one stream: entries idle for at least ARGV[3] ms, optionally only those of one
-- owner (a reconnecting member taking back its own). For each entry:
--   * trimmed or deleted from the stream: acknowledged and counted, never looped on;
--   * delivered max-deliveries times already: moved to the dead-letter stream with
--     the reason, the last error text, the group and the original ID, then acknowledged;
--   * otherwise: claimed for ARGV[2] (its delivery count goes up by one).
--
-- KEYS[1]  stream (events or retry)   KEYS[2] dead-letter stream   KEYS[3] group's error texts (hash id -> text)
-- ARGV[1]  group   ARGV[2] claiming member   ARGV[3] min idle ms   ARGV[4] max entries
-- ARGV[5]  max deliveries   ARGV[6] owner ('' = any member)   ARGV[7] now (ISO-8601)
-- ARGV[8]  stream label for dead letters ('events' | 'retry')   ARGV[9] dead-letter stream max length
-- ARGV[10] where to start scanning the pending list ('-' or '(<id>' to page past entries already handled)
-- Returns  {{{id, fields, deliveries}, ...}, dead-lettered count, trimmed count, last pending ID looked at or ''}
local pending
if ARGV[6] ~= '' then
  pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[10], '+', ARGV[4], ARGV[6])
else
  pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[10], '+', ARGV[4])
end
local claimed, dead, trimmed = {}, 0, 0
for _, p in ipairs(pending) do
  local id, deliveries = p[1], tonumber(p[4])
  local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
  if not entry then
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('HDEL', KEYS[3], id)
    trimmed = trimmed + 1
  elseif deliveries >= tonumber(ARGV[5]) then
    -- A replayed dead letter keeps the cursor of the event it came from, not its retry-stream ID.
    local original, body = id, {}
    for i = 1, #entry[2], 2 do
      if entry[2][i] == 'replayed_from' then original = entry[2][i + 1]
      else body[#body + 1] = entry[2][i]; body[#body + 1] = entry[2][i + 1] end
    end
    local fields = {'original_msg_id', original, 'original_stream', ARGV[8], 'original_group', ARGV[1],
      'reason', 'max_deliveries_exceeded', 'error', redis.call('HGET', KEYS[3], id) or '',
      'failed_at', ARGV[7], 'delivery_count', tostring(deliveries)}
    for _, v in ipairs(body) do fields[#fields + 1] = v end
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', unpack(fields))
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('HDEL', KEYS[3], id)
    dead = dead + 1
  else
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
    claimed[#claimed + 1] = {id, entry[2], deliveries + 1}
  end
end
local last = ''
if #pending > 0 then last = pending[#pending][1] end
return {claimed, dead, trimmed, last}
