-- Reads the same fields of many hashes in one call: a pipeline of one HMGET per account cost the API
-- a command object, a promise and a reply array each (a refresh of 1,000 line items held the event
-- loop for several ms; decisions queued behind it). The hashes may be in several stripes of one shard.
--
-- KEYS[1] the first hash (it routes the call to its shard)
-- ARGV[1] JSON ReadArg: keys (the hashes), fields. Returns the values flat, hash by hash (false for missing ones).
local a = cjson.decode(ARGV[1])
local out = {}
local n = #a.fields
for i, key in ipairs(a.keys) do
  local v = redis.call('HMGET', key, unpack(a.fields))
  for j = 1, n do out[(i - 1) * n + j] = v[j] end
end
return out
