-- After a rebuild wrote an account's absolute values from its MySQL snapshot (in the same MULTI): adds
-- what apply.lua recorded since the rebuild began, i.e. the events stored after the snapshot. Events
-- stored before it but applied after the rebuild began are counted twice: an overestimate of spend,
-- which errs on the side of the budget.
--
-- KEYS[1] account hash, KEYS[2] (line items) its quarter hash
-- ARGV[1] JSON RestoreSinceArg: quarterTtlMs, fields (to add to: spent, imps, ...)
local a = cjson.decode(ARGV[1])
local h = KEYS[1]
for _, field in ipairs(a.fields) do
  local v = redis.call('HGET', h, 's:' .. field)
  if v then redis.call('HINCRBY', h, field, v) end
end
if KEYS[2] then
  local all = redis.call('HGETALL', KEYS[2] .. 's')
  for i = 1, #all, 2 do redis.call('HINCRBY', KEYS[2], all[i], all[i + 1]) end
  if #all > 0 then redis.call('PEXPIRE', KEYS[2], a.quarterTtlMs) end
end
return 1
