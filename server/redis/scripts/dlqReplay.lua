-- Moves dead letters back into their group: each entry's event fields are
-- appended to the group's retry stream (with replayed_from = its original ID)
-- and the dead letter is removed, atomically.
--
-- The retry stream is never capped by length here: a cap would trim replayed
-- entries the group has not read (or holds unacknowledged) yet, losing them.
-- groupRetryTrim.lua removes only what the group no longer needs.
--
-- KEYS[1]  dead-letter stream   KEYS[2] group's retry stream
-- ARGV[1]  most entries to replay in this call (bounds the script's run time)
-- ARGV[2..] dead-letter IDs to replay; none: the oldest ARGV[1] of them
-- Returns  number of entries replayed
local META = {original_msg_id = true, original_stream = true, original_group = true, reason = true,
  error = true, failed_at = true, delivery_count = true, replayed_from = true}
local entries
if #ARGV == 1 then
  entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[1])
else
  entries = {}
  for i = 2, #ARGV do
    local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1]
    if e then entries[#entries + 1] = e end
  end
end
for _, e in ipairs(entries) do
  local fields, original = {}, nil
  for i = 1, #e[2], 2 do
    local k, v = e[2][i], e[2][i + 1]
    if k == 'original_msg_id' then original = v end
    if not META[k] then fields[#fields + 1] = k; fields[#fields + 1] = v end
  end
  fields[#fields + 1] = 'replayed_from'
  fields[#fields + 1] = original or e[1]
  redis.call('XADD', KEYS[2], '*', unpack(fields))
  redis.call('XDEL', KEYS[1], e[1])
end
return #entries
