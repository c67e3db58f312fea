-- Reads the same fields of many hashes in one call: a pipeline of one HMGET per account cost the API
-- a command object, a promise and a reply array each (a refresh of 1,000 line items held the event
-- loop for several ms; decisions queued behind it).
--
-- KEYS: the hashes; ARGV: the fields. Returns the values flat, hash by hash (false for missing ones).
local out = {}
local n = #ARGV
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], unpack(ARGV))
  for j = 1, n do out[(i - 1) * n + j] = v[j] end
end
return out
