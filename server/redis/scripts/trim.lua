-- Trims a tenant's event stream to its retention window, exactly, and records
-- the highest ID it removed so that cursor checks can tell a gap from no gap.
--
-- KEYS[1]  the events stream
-- KEYS[2]  the "trimmed" marker (string: highest stream ID ever removed by trimming)
-- ARGV[1]  max entries to keep (-1: no count limit)
-- ARGV[2]  min ID to keep ("0-0": no time limit); entries with a smaller ID go
-- ARGV[3]  slack: only trim by count once the stream exceeds maxlen + slack
--          (keeps trimming amortised O(1) per publish)
-- Returns  number of entries removed
local maxlen = tonumber(ARGV[1])
local minid = ARGV[2]
local slack = tonumber(ARGV[3])
local len = redis.call('XLEN', KEYS[1])
if len == 0 then return 0 end

-- The first ID to keep: the later of the count cut and the time cut. The count
-- cut is found by walking the stream's head in small chunks (entries are loaded
-- CHUNK at a time, never all at once), and one call removes at most MAX_WORK
-- entries by count so that it never blocks Redis for long; the next call goes on.
local CHUNK, MAX_WORK = 200, 100000
local keep = minid
if maxlen >= 0 and len > maxlen + slack then
  local skip = math.min(len - maxlen, MAX_WORK)
  local start, cutid = '-', nil
  while true do
    local range = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', math.min(skip + 1, CHUNK))
    if #range == 0 then break end
    if skip < #range then cutid = range[skip + 1][1]; break end
    skip = skip - #range
    start = '(' .. range[#range][1]
  end
  if not cutid then
    -- Nothing may stay (max entries 0): remove everything, remembering the last ID.
    local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
    local removed = redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
    redis.call('SET', KEYS[2], last[1][1])
    return removed
  end
  local function ms(id) return tonumber(string.match(id, '^(%d+)')) end
  local function sq(id) return tonumber(string.match(id, '-(%d+)$')) end
  if ms(cutid) > ms(keep) or (ms(cutid) == ms(keep) and sq(cutid) > sq(keep)) then keep = cutid end
end
if keep == '0-0' then return 0 end

local last = redis.call('XREVRANGE', KEYS[1], '(' .. keep, '-', 'COUNT', 1)
if #last == 0 then return 0 end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', keep)
redis.call('SET', KEYS[2], last[1][1])
return removed
