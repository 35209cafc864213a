-- Moves dead letters back into their group: each entry's event fields are
-- appended to the group's retry stream (with replayed_from = its original ID)
-- and the dead letter is removed, atomically.
--
-- KEYS[1]  dead-letter stream   KEYS[2] group's retry stream
-- ARGV     dead-letter IDs to replay; none: all of them
-- Returns  number of entries replayed
local META = {original_msg_id = true, original_stream = true, original_group = true, reason = true,
  error = true, failed_at = true, delivery_count = true, replayed_from = true}
local entries
if #ARGV == 0 then
  entries = redis.call('XRANGE', KEYS[1], '-', '+')
else
  entries = {}
  for _, id in ipairs(ARGV) do
    local e = redis.call('XRANGE', KEYS[1], id, id)[1]
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
