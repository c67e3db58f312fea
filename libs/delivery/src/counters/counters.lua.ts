/**
 * Lua scripts of DeliveryCountersService. Redis runs each atomically, which is what makes budgets
 * and frequency caps hold across API replicas: a decision checks and reserves in one step, so two
 * replicas can never both take the last bit of a budget. Amounts are integer milli-micros; numbers
 * go back to Redis through () because Lua's default number formatting switches to exponent
 * notation above 1e14.
 *
 * An "account" (line item or campaign) is a hash with
 *   spent   lifetime measured spend
 *   res     outstanding reservations; `resQ` is the oldest reservation bucket still counted
 * and a companion hash `<account>:r` of reservations per 10-second bucket of decision time (released
 * by the event they anticipate, or dropped when the window passes). Line items, which alone have daily
 * budgets, also keep
 *   today   measured spend since the quarter `dayQ` (start of the advertiser's local day, set by decisions)
 * and `<line item>:q`, measured spend per UTC quarter hour (last ~26 h, so that "today" can be
 * recomputed for any timezone). Campaigns keep neither: they have lifetime budgets only, and writing
 * their quarter hours cost every billed event three more Redis commands.
 */
const PRELUDE = `
local function num(x) return tonumber(x or '0') or 0 end
-- The key layout of counter-keys.ts, built from the deployment's prefix ("<QUEUE_PREFIX>:dlv:"); each
-- account hash has its companions '<key>:r' (reservations) and, for line items, '<key>:q' (quarter hours).
local function accountKey(prefix, kind, id) return prefix .. kind .. ':' .. id end
-- A listener's impressions and pending decisions for one line item.
local function capKeys(prefix, li, user)
  local tail = li .. ':' .. user
  return prefix .. 'fc:' .. tail, prefix .. 'fp:' .. tail
end
`;

/**
 * Decides a batch of decisions, one after another, as if each were its own call. For each it walks the
 * candidates best first and selects up to `slots` of them, reserving each selection's expected cost
 * against the line item's budget, its daily budget and its campaign's budget, and holding a pending
 * impression against each frequency cap. Returns, per decision, one verdict per candidate walked.
 * Written for few Redis commands, since each costs the script far more than the command itself
 * (arguments converted, the reply parsed back into Lua): an account is read with one HMGET and written
 * back with one HSET per call, however many of the call's decisions walk it; and one call carries every
 * decision an API process started in one event-loop turn (the Redis call's own cost, its two system
 * calls on each side and the script's setup are paid per batch).
 *
 * Each candidate comes as a JSON array, decoded (by cjson, in C, its numbers already numbers) only when
 * the walk reaches it: splitting a space-separated string with string.gmatch and converting each field
 * with tonumber cost Redis ~5 µs per candidate. Keys are built only when used.
 *
 * Before its candidates, a decision is checked against the outstanding-decision limits of its listener
 * and its IP (`<prefix>lu:<window>:<user>`, `<prefix>lip:<window>:<ip>`, fixed windows of
 * `limit window ms`): a listener's count goes up by each ad served and down by each
 * impression measured (APPLY_LUA), an IP's only up. Past a limit every candidate gets 'listener_limit'
 * or 'ip_limit' and nothing is reserved, so that a client requesting decisions it never plays cannot
 * hold a competitor's budget.
 *
 * KEYS[1] restore marker
 * ARGV: now, bucketMs, windowBuckets, pendingMs, tailFraction, key prefix ("<QUEUE_PREFIX>:dlv:"), limit
 *       window ms, then per decision: slots, n, user id, ip ('' for none), listener limit, IP limit (0:
 *       none), decision ids (slots of them), then its n candidates, best first,
 *       each a JSON array [line item id, campaign id, price, reserve, budget, daily|-1, campaignBudget|-1,
 *       dayQ, basis "d"|"f"|"n", target, allowance, random, caps [[max, periodMs], ...], capTtlSeconds]
 */
export const RESERVE_LUA = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_restored'} end
local now = tonumber(ARGV[1])
local bucketMs = tonumber(ARGV[2])
local win = tonumber(ARGV[3])
local pendingMs = tonumber(ARGV[4])
local tail = tonumber(ARGV[5])
local prefix = ARGV[6]
local limitWin = math.floor(now / tonumber(ARGV[7]))
local limitTtl = 2 * tonumber(ARGV[7])
local nowB = math.floor(now / bucketMs)
local oldest = nowB - win + 1
local bucket = nowB
local ttl = ((2 * win + 2) * bucketMs)

-- The accounts this call read, by hash key, in first-read order. Each is read once and written back
-- once, at the end, however many of the call's decisions walk it (decisions batched from one event-loop
-- turn often share their best line items and campaigns); later decisions see earlier ones' reservations
-- in these tables, exactly as if each had run alone.
local accounts, order = {}, {}

-- Reads an account, dropping lapsed reservation buckets and, given the local day (line items only),
-- recomputing "today" when it changed. Returns a table with spent, today, res, the reservations this
-- call added (held) and whether it must be written back (dirty).
local function account(h, dayQ)
  local a = accounts[h]
  if not a then
    local r = h .. ':r'
    local v = redis.call('HMGET', h, 'spent', 'today', 'res', 'resQ', 'dayQ')
    a = { h = h, r = r, spent = num(v[1]), today = num(v[2]), res = num(v[3]), resQ = tonumber(v[4]), dayQ = tonumber(v[5]), held = 0, dirty = false }
    if not a.resQ then
      a.res, a.resQ, a.dirty = 0, oldest, true
    elseif a.resQ < oldest then
      if oldest - a.resQ > win then
        redis.call('DEL', r)
        a.res = 0
      else
        local fields = {}
        for b = a.resQ, oldest - 1 do fields[#fields + 1] = b end
        local lapsed = redis.call('HMGET', r, unpack(fields))
        for i = 1, #lapsed do
          if lapsed[i] then a.res = a.res - tonumber(lapsed[i]) end
        end
        redis.call('HDEL', r, unpack(fields))
        if a.res < 0 then a.res = 0 end
      end
      a.resQ, a.dirty = oldest, true
    end
    accounts[h] = a
    order[#order + 1] = a
  end
  if dayQ and a.dayQ ~= dayQ then
    local sum = 0
    local all = redis.call('HGETALL', h .. ':q')
    for i = 1, #all, 2 do
      if tonumber(all[i]) >= dayQ then sum = sum + tonumber(all[i + 1]) end
    end
    a.today, a.dayQ, a.dirty = sum, dayQ, true
  end
  return a
end

-- Reserves on an account (written back by saveAll).
local function hold(a, amount)
  a.res, a.held, a.dirty = a.res + amount, a.held + amount, true
end

-- Writes back every account the call changed: its reservations of this call in the current bucket, and
-- its fields.
local function saveAll()
  for _, a in ipairs(order) do
    -- The first reservation of a bucket refreshes the hash's expiry (once per bucket is enough).
    if a.held > 0 and redis.call('HINCRBY', a.r, bucket, a.held) == a.held then redis.call('PEXPIRE', a.r, ttl) end
    if a.dirty then
      local fields = { 'res', a.res, 'resQ', a.resQ }
      if a.dayQ then
        fields[#fields + 1], fields[#fields + 2], fields[#fields + 3], fields[#fields + 4] = 'dayQ', a.dayQ, 'today', a.today
      end
      if a.capTtl then fields[#fields + 1], fields[#fields + 2] = 'capTtl', a.capTtl end
      redis.call('HSET', a.h, unpack(fields))
    end
  end
end

-- The outstanding-decision counters of a decision's listener and IP (nil where there is no limit).
local function limitKeys(user, ip, listenerLimit, ipLimit)
  local lu, lip = nil, nil
  if listenerLimit > 0 then lu = prefix .. 'lu:' .. limitWin .. ':' .. user end
  if ipLimit > 0 and ip ~= '' then lip = prefix .. 'lip:' .. limitWin .. ':' .. ip end
  return lu, lip
end

local function count(key, by)
  if key and redis.call('INCRBY', key, by) == by then redis.call('PEXPIRE', key, limitTtl) end
end

-- One decision: its verdicts, candidate by candidate, until its slots are filled.
local function decide(slots, n, user, ids, base, ip, listenerLimit, ipLimit)
  local out = {}
  local chosen = 0
  local lu, lip = limitKeys(user, ip, listenerLimit, ipLimit)
  local over = false
  if lu and num(redis.call('GET', lu)) + 1 > listenerLimit then over = 'listener_limit'
  elseif lip and num(redis.call('GET', lip)) + 1 > ipLimit then over = 'ip_limit' end
  if over then
    for j = 1, n do out[j] = over end
    return out
  end
  -- A pod may not take more slots than the limits leave.
  if lu then slots = math.min(slots, listenerLimit - num(redis.call('GET', lu))) end
  if lip then slots = math.min(slots, ipLimit - num(redis.call('GET', lip))) end
  for j = 1, n do
    if chosen >= slots then break end
    local f = cjson.decode(ARGV[base + j])
    local liId, price, reserve, budget, daily, campBudget, dayQ = f[1], f[3], f[4], f[5], f[6], f[7], f[8]
    local basis, target, allowance, rnd, caps, capTtl = f[9], f[10], f[11], f[12], f[13], f[14]

    local li = account(accountKey(prefix, 'li', liId), dayQ)
    local cp = nil
    local verdict = false
    local inTail = false
    if li.spent + li.res + price > budget then
      verdict = 'budget_exhausted'
    elseif daily >= 0 and li.today + li.res + price > daily then
      verdict = 'daily_budget_exhausted'
    else
      if budget - li.spent - li.res - price < tail * budget then inTail = true end
      if daily >= 0 and daily - li.today - li.res - price < tail * daily then inTail = true end
      if campBudget >= 0 then
        cp = account(accountKey(prefix, 'cp', f[2]), nil)
        if cp.spent + cp.res + price > campBudget then
          verdict = 'campaign_budget_exhausted'
        elseif campBudget - cp.spent - cp.res - price < tail * campBudget then
          inTail = true
        end
      end
    end
    local fp = nil
    if not verdict and #caps > 0 then
      local fc
      fc, fp = capKeys(prefix, liId, user)
      local pending = redis.call('ZCOUNT', fp, (now - pendingMs), '+inf')
      for c = 1, #caps do
        local seen = redis.call('ZCOUNT', fc, (now - caps[c][2]), '+inf')
        if seen + pending >= caps[c][1] then
          verdict = 'frequency_capped'
          break
        end
      end
    end
    if not verdict and basis ~= 'n' then
      local actual = li.spent + li.res
      if basis == 'd' then actual = li.today + li.res end
      if actual > target and rnd >= 1 - (actual - target) / allowance then verdict = 'paced' end
    end
    if verdict then
      out[j] = verdict
    else
      chosen = chosen + 1
      out[j] = 'selected'
      -- Near the end of a budget a CPC/CPCL decision holds a whole event's price, not its expectation,
      -- so that a run of lucky clicks cannot push delivery past the budget.
      local amount = reserve
      if inTail and amount < price then amount = price end
      hold(li, amount)
      li.capTtl = capTtl
      -- Campaign reservations only matter against a campaign budget.
      if cp then hold(cp, amount) end
      if fp then
        redis.call('ZADD', fp, now, ids[chosen])
        -- No trimming needed: pending decisions count against the cap, so the set stays within it.
        redis.call('PEXPIRE', fp, pendingMs)
      end
    end
  end
  if chosen > 0 then
    count(lu, chosen)
    count(lip, chosen)
  end
  return out
end

local results = {}
local i = 8
while i <= #ARGV do
  local slots, n, user = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
  local ip, listenerLimit, ipLimit = ARGV[i + 3], tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
  local ids = {}
  for k = 1, slots do ids[k] = ARGV[i + 5 + k] end
  local base = i + 5 + slots
  results[#results + 1] = decide(slots, n, user, ids, base, ip, listenerLimit, ipLimit)
  i = base + n + 1
end
saveAll()
return results
`;

/**
 * Applies measured events: spend (lifetime; for line items also per quarter hour and today), observed
 * counts, release of the decisions' reservations (CPM impressions), and each listener's impression for
 * frequency caps (not for line items known to have no cap: `capTtl` 0). A reservation bucket that
 * already lapsed is simply gone, so releasing needs no window bookkeeping.
 *
 * Many events per call, summed per account first: an account's spend, quarter hours, counts and
 * releases are written once per call however many of its events the call carries, and only the
 * listener's frequency-cap entry is written per event. (Sums give the same state as event-by-event
 * updates: every update is an increment, and a release takes min(reserved, Σ releases) either way.)
 * A call per event cost Redis a script invocation and ~20 commands, and the API a command of 17
 * arguments: most of a beacon's Redis time and much of its API time.
 *
 * An impression also takes its decision off its listener's outstanding-decision count (RESERVE_LUA).
 *
 * ARGV: now, bucketMs, quarterMs, recentQuarters, defaultCapTtlSeconds, key prefix, limit window ms, then two per event:
 *       the JSON array [event, costMilli, releaseMilli, occurredMs, issuedMs, decisionId, lineItemId,
 *       campaignId] (decoded by cjson, as RESERVE_LUA's candidates) and the user id (any string, sent
 *       as is so that its keys are byte for byte those the reservations used).
 */
export const APPLY_LUA = `${PRELUDE}
local now, bucketMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local quarterMs, recent, defaultTtl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local prefix = ARGV[6]
local limitWindowMs = tonumber(ARGV[7])
local nowQ = math.floor(now / quarterMs)
local quarterTtl = ((recent + 8) * quarterMs)
-- While measurement rebuilds the counters from a MySQL snapshot (see RESTORE_SINCE_LUA), every
-- increment is also recorded under 's:<field>' (and quarter hours in '<li>:qs'), so that the rebuild
-- can add what was applied after it began to the snapshot's absolute values.
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

for i = 8, #ARGV, 2 do
  local f = cjson.decode(ARGV[i])
  local event, cost, release, occurred, issued, decisionId = f[1], f[2], f[3], f[4], f[5], f[6]
  local li, cp = acc('li', f[7]), acc('cp', f[8])
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
      redis.call('HINCRBY', a.r, b, (-d))
      released = released + d
    end
  end
  if released > 0 and redis.call('HINCRBY', h, 'res', (-released)) < 0 then redis.call('HSET', h, 'res', '0') end
  if a.imps > 0 then incr(h, 'imps', a.imps) end
  if a.clicks > 0 then incr(h, 'clicks', a.clicks) end
  if a.completes > 0 then incr(h, 'completes', a.completes) end
  if #a.seen > 0 then
    local ttl = tonumber(fields[2] or defaultTtl)
    if ttl > 0 then
      for _, e in ipairs(a.seen) do
        local user, decisionId, occurred = e[1], e[2], e[3]
        local fc, fp = capKeys(prefix, a.id, user)
        -- Only a capped line item's decisions hold a pending entry (see RESERVE_LUA).
        redis.call('ZREM', fp, decisionId)
        redis.call('ZADD', fc, occurred, decisionId)
        redis.call('ZREMRANGEBYSCORE', fc, '-inf', (now - ttl * 1000))
        redis.call('PEXPIRE', fc, (ttl * 1000))
      end
    end
  end
end
return 1
`;

/**
 * Begins or finishes a rebuild of the counters from MySQL; one rebuild at a time. Both clear what
 * APPLY_LUA recorded under 's:<field>' and in '<li>:qs' for the given accounts; "begin" then sets the
 * `restoring` marker to the rebuild's token (APPLY_LUA records from then on), "finish" removes it and
 * sets the `restored` marker in the same atomic step, so no event is applied between the last clearing
 * and the end of recording. Returns 0, changing nothing, when another rebuild holds the marker (begin)
 * or this one no longer does (finish: it outlived the marker's TTL). "abort" only removes the marker
 * of a rebuild that failed (the next "begin" clears what it recorded).
 *
 * KEYS[1] restoring marker, KEYS[2] restored marker, then account hashes; ARGV: 'begin' | 'finish' | 'abort',
 * the rebuild's token, restoring marker TTL in ms (a crashed rebuild stops the recording by itself),
 * restored marker value.
 */
export const RESTORE_PHASE_LUA = `
local holder = redis.call('GET', KEYS[1])
if ARGV[1] == 'begin' and holder then return 0 end
if ARGV[1] ~= 'begin' and holder ~= ARGV[2] then return 0 end
if ARGV[1] == 'abort' then
  redis.call('DEL', KEYS[1])
  return 1
end
for i = 3, #KEYS do
  redis.call('HDEL', KEYS[i], 's:spent', 's:imps', 's:clicks', 's:completes')
  redis.call('DEL', KEYS[i] .. ':qs')
end
if ARGV[1] == 'begin' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[4])
end
return 1
`;

/**
 * After a rebuild wrote an account's absolute values from its MySQL snapshot (in the same MULTI): adds
 * what APPLY_LUA recorded since the rebuild began, i.e. the events stored after the snapshot. Events
 * stored before it but applied after the rebuild began are counted twice: an overestimate of spend,
 * which errs on the side of the budget.
 *
 * KEYS[1] account hash, KEYS[2] (line items) its quarter hash; ARGV: quarter hash TTL in ms, then the
 * fields to add to (spent, imps, ...).
 */
export const RESTORE_SINCE_LUA = `
local h = KEYS[1]
for i = 2, #ARGV do
  local v = redis.call('HGET', h, 's:' .. ARGV[i])
  if v then redis.call('HINCRBY', h, ARGV[i], v) end
end
if KEYS[2] then
  local all = redis.call('HGETALL', KEYS[2] .. 's')
  for i = 1, #all, 2 do redis.call('HINCRBY', KEYS[2], all[i], all[i + 1]) end
  if #all > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
end
return 1
`;

/**
 * Reads the same fields of many hashes in one call: a pipeline of one HMGET per account cost the API
 * a command object, a promise and a reply array each (a refresh of 1,000 line items held the event
 * loop for several ms; decisions queued behind it).
 *
 * KEYS: the hashes; ARGV: the fields. Returns the values flat, hash by hash (false for missing ones).
 */
export const READ_LUA = `
local out = {}
local n = #ARGV
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], unpack(ARGV))
  for j = 1, n do out[(i - 1) * n + j] = v[j] end
end
return out
`;
