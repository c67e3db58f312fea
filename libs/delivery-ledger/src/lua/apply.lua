-- Applies measured events to the stripes of one shard, in two kinds of items:
--   account items ('li', 'cp'): spend (lifetime; for line items also per quarter hour and today),
--     observed counts, release of the decisions' reservations (CPM impressions). A reservation bucket
--     that already lapsed is simply gone, so releasing needs no window bookkeeping.
--   listener items ('u', impressions only): the impression's entry for frequency caps (not for line
--     items without caps: `ttl` 0), and its decision taken off the listener's outstanding count.
-- The ledger sends the account items first and the listener items after, each shard's in one call,
-- since a listener item needs its line item's longest cap period, which account calls return.
--
-- Many events per call, summed per account first: an account's spend, quarter hours, counts and
-- releases are written once per call however many of its events the call carries. (Sums give the same
-- state as event-by-event updates: every update is an increment, and a release takes
-- min(reserved, sum of releases) either way.)
--
-- KEYS[1] the first stripe's restoring marker (it routes the call to its shard)
-- ARGV[1] JSON ApplyCallArg (ledger-scripts.ts): now, bucketMs, quarterMs, recentQuarters,
--         defaultCapTtlSeconds, limitWindowMs, prefixes and restoring markers of the stripes the call
--         touches (all on this shard; Redis takes one declared slot per call, the others are reached
--         with allow-cross-slot-keys)
-- then two per item: its JSON (ApplyItemArg: k, s (its stripe's position in KEYS), id | li, event,
--         cost, release, occurred, issued, decision, ttl) and the user id of a listener item ('' otherwise; sent as is, so that its keys
--         are byte for byte those the decisions used).
-- Returns the line items' longest cap periods: {id, capTtl, ...} for line items with impressions.
local call = cjson.decode(ARGV[1])
local now, bucketMs = call.now, call.bucketMs
local quarterMs, recent, defaultTtl = call.quarterMs, call.recentQuarters, call.defaultCapTtlSeconds
local limitWindowMs = call.limitWindowMs
local nowQ = math.floor(now / quarterMs)
local quarterTtl = ((recent + 8) * quarterMs)
-- While the ledger is rebuilt from a MySQL snapshot (see restore-since.lua), every increment is also
-- recorded under 's:<field>' (and quarter hours in '<li>:qs'), so that the rebuild can add what was
-- applied after it began to the snapshot's absolute values.
-- Read first, before any write: a stripe that moved to another shard fails the call here, not half way.
local restoringOf = {}
for s, marker in ipairs(call.restoring) do restoringOf[s] = redis.call('EXISTS', marker) == 1 end
local function restoring(s) return restoringOf[s] end
local function incr(a, h, field, by)
  redis.call('HINCRBY', h, field, by)
  if restoring(a.s) then redis.call('HINCRBY', h, 's:' .. field, by) end
end

-- Per account hash: { id, q = quarter hash (line items), r = reservation hash, spent, quarters =
-- {q -> sum}, releases = {bucket -> sum}, imps, clicks, completes } in first-seen order.
local accounts, order = {}, {}
local function acc(s, kind, id)
  local h = accountKey(call.prefixes[s], kind, id)
  local a = accounts[h]
  if not a then
    a = { s = s, id = id, r = h .. ':r', spent = 0, quarters = {}, releases = {}, imps = 0, clicks = 0, completes = 0 }
    if kind == 'li' then a.q = h .. ':q' end
    accounts[h] = a
    order[#order + 1] = h
  end
  return a
end

for i = 2, #ARGV, 2 do
  local e = cjson.decode(ARGV[i])
  if e.k == 'u' then
    local base = listenerKey(call.prefixes[e.s], ARGV[i + 1])
    local lu = base .. ':lu:' .. math.floor(e.issued / limitWindowMs)
    if num(redis.call('GET', lu)) > 0 then redis.call('DECR', lu) end
    local ttl = e.ttl or defaultTtl
    if ttl > 0 then
      local fc, fp = base .. ':fc:' .. e.li, base .. ':fp:' .. e.li
      -- Only a capped line item's decisions hold a pending entry (see decide.lua).
      redis.call('ZREM', fp, e.decision)
      redis.call('ZADD', fc, e.occurred, e.decision)
      redis.call('ZREMRANGEBYSCORE', fc, '-inf', now - ttl * 1000)
      redis.call('PEXPIRE', fc, ttl * 1000)
    end
  else
    local a = acc(e.s, e.k, e.id)
    local cost, release, event = e.cost, e.release, e.event
    if cost > 0 then
      a.spent = a.spent + cost
      local eq = math.floor(e.occurred / quarterMs)
      -- Outside the recent window a quarter is not kept (lifetime spend still counts it).
      if a.q and eq >= nowQ - recent and eq <= nowQ + 4 then a.quarters[eq] = (a.quarters[eq] or 0) + cost end
    end
    if release > 0 then
      local b = math.floor(e.issued / bucketMs)
      a.releases[b] = (a.releases[b] or 0) + release
    end
    if event == 'impression' then
      a.imps = a.imps + 1
    elseif event == 'click' then
      a.clicks = a.clicks + 1
    elseif event == 'complete' then
      a.completes = a.completes + 1
    end
  end
end

local capTtls = {}
for _, h in ipairs(order) do
  local a = accounts[h]
  local fields = {}
  if a.q and (a.spent > 0 or a.imps > 0) then fields = redis.call('HMGET', h, 'dayQ', 'capTtl') end
  if a.spent > 0 then incr(a, h, 'spent', a.spent) end
  -- Quarter hours and "today": line items only.
  if a.spent > 0 and a.q then
    local dq = tonumber(fields[1] or '')
    local today, added = 0, false
    for eq, sum in pairs(a.quarters) do
      -- A quarter's first spend creates its field: only then can the hash need its expiry pushed or pruning.
      if redis.call('HINCRBY', a.q, eq, sum) == sum then added = true end
      if restoring(a.s) then
        redis.call('HINCRBY', a.q .. 's', eq, sum)
        redis.call('PEXPIRE', a.q .. 's', quarterTtl)
      end
      if dq and eq >= dq then today = today + sum end
    end
    if today > 0 then redis.call('HINCRBY', h, 'today', today) end
    if added then
      redis.call('PEXPIRE', a.q, quarterTtl)
      if redis.call('HLEN', a.q) > recent + 8 then
        local keys = redis.call('HKEYS', a.q)
        for k = 1, #keys do
          if tonumber(keys[k]) < nowQ - recent then redis.call('HDEL', a.q, keys[k]) end
        end
      end
    end
  end
  local released = 0
  for b, sum in pairs(a.releases) do
    local v = num(redis.call('HGET', a.r, b))
    if v > 0 then
      local d = math.min(v, sum)
      redis.call('HINCRBY', a.r, b, -d)
      released = released + d
    end
  end
  if released > 0 and redis.call('HINCRBY', h, 'res', -released) < 0 then redis.call('HSET', h, 'res', '0') end
  if a.imps > 0 then
    incr(a, h, 'imps', a.imps)
    capTtls[#capTtls + 1] = a.id
    capTtls[#capTtls + 1] = tonumber(fields[2] or defaultTtl)
  end
  if a.clicks > 0 then incr(a, h, 'clicks', a.clicks) end
  if a.completes > 0 then incr(a, h, 'completes', a.completes) end
end
return capTtls
