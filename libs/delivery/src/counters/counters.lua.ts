/**
 * Lua scripts of DeliveryCountersService. Redis runs each atomically, which is what makes budgets
 * and frequency caps hold across API replicas: a decision checks and reserves in one step, so two
 * replicas can never both take the last bit of a budget. Amounts are integer milli-micros; numbers
 * go back to Redis through fmt() because Lua's default number formatting switches to exponent
 * notation above 1e14.
 *
 * An "account" (line item or campaign) is a hash with
 *   spent   lifetime measured spend
 *   today   measured spend since the quarter `dayQ` (start of the advertiser's local day, set by decisions)
 *   res     outstanding reservations; `resQ` is the oldest reservation bucket still counted
 * plus two companion hashes: `<account>:q` measured spend per UTC quarter hour (last ~26 h, so that
 * "today" can be recomputed for any timezone) and `<account>:r` reservations per 10-second bucket of
 * decision time (released by the event they anticipate, or dropped when the window passes).
 */
const PRELUDE = `
local function fmt(x) return string.format('%d', x) end
local function num(x) return tonumber(x or '0') or 0 end

-- Drops reservation buckets older than the window from an account's outstanding total.
local function advance(h, r, nowB, win)
  local oldest = nowB - win + 1
  local q = tonumber(redis.call('HGET', h, 'resQ'))
  if not q then
    redis.call('HSET', h, 'resQ', fmt(oldest), 'res', '0')
    return
  end
  if q >= oldest then return end
  if oldest - q > win then
    redis.call('DEL', r)
    redis.call('HSET', h, 'res', '0', 'resQ', fmt(oldest))
    return
  end
  local sub = 0
  for b = q, oldest - 1 do
    local v = redis.call('HGET', r, fmt(b))
    if v then
      sub = sub + tonumber(v)
      redis.call('HDEL', r, fmt(b))
    end
  end
  local res = num(redis.call('HGET', h, 'res')) - sub
  if res < 0 then res = 0 end
  redis.call('HSET', h, 'res', fmt(res), 'resQ', fmt(oldest))
end

-- Recomputes "today" from the quarter-hour buckets when the local day changed.
local function rollDay(h, q, dayQ)
  if num(redis.call('HGET', h, 'dayQ')) == dayQ and redis.call('HEXISTS', h, 'dayQ') == 1 then return end
  local sum = 0
  local all = redis.call('HGETALL', q)
  for i = 1, #all, 2 do
    if tonumber(all[i]) >= dayQ then sum = sum + tonumber(all[i + 1]) end
  end
  redis.call('HSET', h, 'dayQ', fmt(dayQ), 'today', fmt(sum))
end
`;

/**
 * Walks candidates best first and selects up to `slots` of them, reserving each selection's expected
 * cost against the line item's budget, its daily budget and its campaign's budget, and holding a
 * pending impression against each frequency cap. Returns one verdict per candidate walked.
 *
 * KEYS[1] restore marker; then 8 per candidate: li, li:q, li:r, cp, cp:q, cp:r, fc (impressions), fp (pending)
 * ARGV: now, slots, n, bucketMs, windowBuckets, pendingMs, tailFraction, decision ids (slots of them),
 *       then 12 per candidate: price, reserve, budget, daily|-1, campaignBudget|-1, dayQ, basis d|f|n,
 *       target, allowance, random, caps "max:periodMs,...", capTtlSeconds
 */
export const RESERVE_LUA = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_restored'} end
local now = tonumber(ARGV[1])
local slots = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local bucketMs = tonumber(ARGV[4])
local win = tonumber(ARGV[5])
local pendingMs = tonumber(ARGV[6])
local tail = tonumber(ARGV[7])
local ids = {}
for i = 1, slots do ids[i] = ARGV[7 + i] end
local base = 7 + slots
local nowB = math.floor(now / bucketMs)
local out = {}
local chosen = 0
for j = 1, n do
  if chosen >= slots then break end
  local k = 1 + (j - 1) * 8
  local liH, liQ, liR, cpH, cpQ, cpR, fc, fp = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7], KEYS[k + 8]
  local a = base + (j - 1) * 12
  local price, reserve, budget = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local daily, campBudget, dayQ = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6])
  local basis, target, allowance, rnd = ARGV[a + 7], tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9]), tonumber(ARGV[a + 10])
  local caps, capTtl = ARGV[a + 11], ARGV[a + 12]

  advance(liH, liR, nowB, win)
  rollDay(liH, liQ, dayQ)
  local st = redis.call('HMGET', liH, 'spent', 'today', 'res')
  local spent, today, res = num(st[1]), num(st[2]), num(st[3])
  local verdict = false
  local inTail = false
  if spent + res + price > budget then
    verdict = 'budget_exhausted'
  elseif daily >= 0 and today + res + price > daily then
    verdict = 'daily_budget_exhausted'
  else
    if budget - spent - res - price < tail * budget then inTail = true end
    if daily >= 0 and daily - today - res - price < tail * daily then inTail = true end
    if campBudget >= 0 then
      advance(cpH, cpR, nowB, win)
      local cs = redis.call('HMGET', cpH, 'spent', 'res')
      local cSpent, cRes = num(cs[1]), num(cs[2])
      if cSpent + cRes + price > campBudget then
        verdict = 'campaign_budget_exhausted'
      elseif campBudget - cSpent - cRes - price < tail * campBudget then
        inTail = true
      end
    end
  end
  if not verdict and caps ~= '' then
    redis.call('ZREMRANGEBYSCORE', fp, '-inf', fmt(now - pendingMs))
    local pending = redis.call('ZCARD', fp)
    for max, period in string.gmatch(caps, '(%d+):(%d+)') do
      local seen = redis.call('ZCOUNT', fc, fmt(now - tonumber(period)), '+inf')
      if seen + pending >= tonumber(max) then
        verdict = 'frequency_capped'
        break
      end
    end
  end
  if not verdict and basis ~= 'n' then
    local actual = spent + res
    if basis == 'd' then actual = today + res end
    if actual > target and rnd >= 1 - (actual - target) / allowance then verdict = 'paced' end
  end
  if verdict then
    out[j] = verdict
  else
    chosen = chosen + 1
    out[j] = 'selected'
    -- Near the end of a budget a CPC/CPCL decision holds a whole event's price, not its expectation,
    -- so that a run of lucky clicks cannot push delivery past the budget.
    local hold = reserve
    if inTail and hold < price then hold = price end
    local ttl = fmt((2 * win + 2) * bucketMs)
    redis.call('HINCRBY', liR, fmt(nowB), fmt(hold))
    redis.call('PEXPIRE', liR, ttl)
    redis.call('HINCRBY', liH, 'res', fmt(hold))
    redis.call('HSET', liH, 'capTtl', capTtl)
    if campBudget < 0 then advance(cpH, cpR, nowB, win) end
    rollDay(cpH, cpQ, dayQ)
    redis.call('HINCRBY', cpR, fmt(nowB), fmt(hold))
    redis.call('PEXPIRE', cpR, ttl)
    redis.call('HINCRBY', cpH, 'res', fmt(hold))
    if caps ~= '' then
      redis.call('ZADD', fp, fmt(now), ids[chosen])
      redis.call('PEXPIRE', fp, fmt(pendingMs))
    end
  end
end
return out
`;

/**
 * Applies one measured event: spend (lifetime, per quarter hour, today), observed counts, release
 * of the decision's reservation (CPM impressions), and the listener's impression for frequency caps.
 *
 * KEYS: li, li:q, li:r, cp, cp:q, cp:r, fc, fp
 * ARGV: event, costMilli, releaseMilli, occurredMs, issuedMs, decisionId, now, bucketMs, windowBuckets,
 *       quarterMs, recentQuarters, defaultCapTtlSeconds
 */
export const APPLY_LUA = `${PRELUDE}
local event = ARGV[1]
local cost, release, occurred, issued = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local decisionId = ARGV[6]
local now, bucketMs, win = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local quarterMs, recent, defaultTtl = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local nowQ = math.floor(now / quarterMs)
local nowB = math.floor(now / bucketMs)

local function addSpend(h, q)
  redis.call('HINCRBY', h, 'spent', fmt(cost))
  local eq = math.floor(occurred / quarterMs)
  if eq < nowQ - recent or eq > nowQ + 4 then return end
  redis.call('HINCRBY', q, fmt(eq), fmt(cost))
  redis.call('PEXPIRE', q, fmt((recent + 8) * quarterMs))
  local dq = redis.call('HGET', h, 'dayQ')
  if dq and eq >= tonumber(dq) then redis.call('HINCRBY', h, 'today', fmt(cost)) end
  if redis.call('HLEN', q) > recent + 8 then
    local keys = redis.call('HKEYS', q)
    for i = 1, #keys do
      if tonumber(keys[i]) < nowQ - recent then redis.call('HDEL', q, keys[i]) end
    end
  end
end

local function releaseReservation(h, r)
  advance(h, r, nowB, win)
  local b = fmt(math.floor(issued / bucketMs))
  local v = num(redis.call('HGET', r, b))
  if v <= 0 then return end
  local d = math.min(v, release)
  redis.call('HINCRBY', r, b, fmt(-d))
  if redis.call('HINCRBY', h, 'res', fmt(-d)) < 0 then redis.call('HSET', h, 'res', '0') end
end

if cost > 0 then
  addSpend(KEYS[1], KEYS[2])
  addSpend(KEYS[4], KEYS[5])
end
if release > 0 then
  releaseReservation(KEYS[1], KEYS[3])
  releaseReservation(KEYS[4], KEYS[6])
end
if event == 'impression' then
  redis.call('HINCRBY', KEYS[1], 'imps', 1)
  redis.call('ZREM', KEYS[8], decisionId)
  local ttl = tonumber(redis.call('HGET', KEYS[1], 'capTtl') or defaultTtl)
  if ttl > 0 then
    redis.call('ZADD', KEYS[7], fmt(occurred), decisionId)
    redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', fmt(now - ttl * 1000))
    redis.call('PEXPIRE', KEYS[7], fmt(ttl * 1000))
  end
elseif event == 'click' then
  redis.call('HINCRBY', KEYS[1], 'clicks', 1)
elseif event == 'complete' then
  redis.call('HINCRBY', KEYS[1], 'completes', 1)
end
return 1
`;
