-- Begins or finishes a rebuild of one stripe of the ledger from MySQL; one rebuild at a time. Both
-- clear what apply.lua recorded under 's:<field>' and in '<li>:qs' for the stripe's accounts given;
-- "begin" then sets the stripe's `restoring` marker to the rebuild's token (apply.lua records from then
-- on), "finish" removes it and sets the stripe's `restored` marker in the same atomic step, so no event
-- is applied between the last clearing and the end of recording. Returns 0, changing nothing, when
-- another rebuild holds the marker (begin) or this one no longer does (finish: it outlived the
-- marker's TTL). "abort" only removes the marker of a rebuild that failed (the next "begin" clears what
-- it recorded).
--
-- KEYS[1] the stripe's restoring marker, KEYS[2] its restored marker, then the stripe's account hashes
-- ARGV[1] JSON RestorePhaseArg: phase 'begin' | 'finish' | 'abort', token, ttlMs (a crashed rebuild
--         stops the recording by itself), stamp (the restored marker's value)
local a = cjson.decode(ARGV[1])
local holder = redis.call('GET', KEYS[1])
if a.phase == 'begin' and holder then return 0 end
if a.phase ~= 'begin' and holder ~= a.token then return 0 end
if a.phase == 'abort' then
  redis.call('DEL', KEYS[1])
  return 1
end
for i = 3, #KEYS do
  redis.call('HDEL', KEYS[i], 's:spent', 's:imps', 's:clicks', 's:completes')
  redis.call('DEL', KEYS[i] .. ':qs')
end
if a.phase == 'begin' then
  redis.call('SET', KEYS[1], a.token, 'PX', a.ttlMs)
else
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], a.stamp)
end
return 1
