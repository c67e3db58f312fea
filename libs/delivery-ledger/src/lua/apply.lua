-- Applies measured events: spend (lifetime; for line items also per quarter hour and today), observed
-- counts, release of the decisions' reservations (CPM impressions), and each listener's impression for
-- frequency caps (not for line items known to have no cap: `capTtl` 0). A reservation bucket that
-- already lapsed is simply gone, so releasing needs no window bookkeeping.
--
-- Many events per call, summed per account first: an account's spend, quarter hours, counts and
-- releases are written once per call however many of its events the call carries, and only the
-- listener's frequency-cap entry is written per event. (Sums give the same state as event-by-event
-- updates: every update is an increment, and a release takes min(reserved, sum of releases) either way.)
--
-- An impression also takes its decision off its listener's outstanding-decision count (reserve.lua).
--
-- ARGV[1] the call (JSON, ApplyCallArg in ledger-scripts.ts): now, bucketMs, quarterMs, recentQuarters,
--         defaultCapTtlSeconds, prefix, limitWindowMs
-- then two per event: its JSON (ApplyEventArg: event, cost, release, occurred, issued, decision, li, cp)
--         and the user id (sent as is so that its keys are byte for byte those the reservations used).
local call = cjson.decode(ARGV[1])
local now, bucketMs = call.now, call.bucketMs
local quarterMs, recent, defaultTtl = call.quarterMs, call.recentQuarters, call.defaultCapTtlSeconds
local prefix = call.prefix
local limitWindowMs = call.limitWindowMs
local nowQ = math.floor(now / quarterMs)
local quarterTtl = ((recent + 8) * quarterMs)
-- While the ledger is rebuilt from a MySQL snapshot (see restore-since.lua), every increment is also
-- recorded under 's:<field>' (and quarter hours in '<li>:qs'), so that the rebuild can add what was
-- applied after it began to the snapshot's absolute values.
local restoring = redis.call('EXISTS', prefix .. 'restoring') == 1
local function incr(h, field, by)
  redis.call('HINCRBY', h, field, by)
  if restoring then redis.call('HINCRBY', h, 's:' .. field, by) end
end

-- Per account hash: { id (line items; nil for campaigns), q = quarter hash (line items), r = reservation
-- hash, spent, quarters = {q -> sum}, releases = {bucket -> sum}, imps, clicks, completes, seen =
-- impressions' listener, decision id and time } in first-seen order.
local accounts, order = {}, {}
local function acc(kind, id)
  local h = accountKey(prefix, kind, id)
  local a = accounts[h]
  if not a then
    a = { r = h .. ':r', spent = 0, quarters = {}, releases = {}, imps = 0, clicks = 0, completes = 0, seen = {} }
    if kind == 'li' then a.id, a.q = id, h .. ':q' end
    accounts[h] = a
    order[#order + 1] = h
  end
  return a
end

for i = 2, #ARGV, 2 do
  local e = cjson.decode(ARGV[i])
  local event, cost, release, occurred, issued, decisionId = e.event, e.cost, e.release, e.occurred, e.issued, e.decision
  local li, cp = acc('li', e.li), acc('cp', e.cp)
  if cost > 0 then
    li.spent, cp.spent = li.spent + cost, cp.spent + cost
    local eq = math.floor(occurred / quarterMs)
    -- Outside the recent window a quarter is not kept (lifetime spend still counts it).
    if eq >= nowQ - recent and eq <= nowQ + 4 then li.quarters[eq] = (li.quarters[eq] or 0) + cost end
  end
  if release > 0 then
    local b = math.floor(issued / bucketMs)
    li.releases[b] = (li.releases[b] or 0) + release
    cp.releases[b] = (cp.releases[b] or 0) + release
  end
  if event == 'impression' then
    li.imps = li.imps + 1
    li.seen[#li.seen + 1] = { ARGV[i + 1], decisionId, occurred }
    local lu = prefix .. 'lu:' .. math.floor(issued / limitWindowMs) .. ':' .. ARGV[i + 1]
    if num(redis.call('GET', lu)) > 0 then redis.call('DECR', lu) end
  elseif event == 'click' then
    li.clicks = li.clicks + 1
  elseif event == 'complete' then
    li.completes = li.completes + 1
  end
end

for _, h in ipairs(order) do
  local a = accounts[h]
  local fields = {}
  if a.q and (a.spent > 0 or #a.seen > 0) then fields = redis.call('HMGET', h, 'dayQ', 'capTtl') end
  if a.spent > 0 then incr(h, 'spent', a.spent) end
  -- Quarter hours and "today": line items only.
  if a.spent > 0 and a.q then
    local dq = tonumber(fields[1] or '')
    local today, added = 0, false
    for eq, sum in pairs(a.quarters) do
      -- A quarter's first spend creates its field: only then can the hash need its expiry pushed or pruning.
      if redis.call('HINCRBY', a.q, eq, sum) == sum then added = true end
      if restoring then
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
        for i = 1, #keys do
          if tonumber(keys[i]) < nowQ - recent then redis.call('HDEL', a.q, keys[i]) end
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
  if a.imps > 0 then incr(h, 'imps', a.imps) end
  if a.clicks > 0 then incr(h, 'clicks', a.clicks) end
  if a.completes > 0 then incr(h, 'completes', a.completes) end
  if #a.seen > 0 then
    local ttl = tonumber(fields[2] or defaultTtl)
    if ttl > 0 then
      for _, s in ipairs(a.seen) do
        local user, decisionId, occurred = s[1], s[2], s[3]
        local fc, fp = capKeys(prefix, a.id, user)
        -- Only a capped line item's decisions hold a pending entry (see reserve.lua).
        redis.call('ZREM', fp, decisionId)
        redis.call('ZADD', fc, occurred, decisionId)
        redis.call('ZREMRANGEBYSCORE', fc, '-inf', now - ttl * 1000)
        redis.call('PEXPIRE', fc, ttl * 1000)
      end
    end
  end
end
return 1
