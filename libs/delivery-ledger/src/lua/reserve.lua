-- Decides a batch of decisions, one after another, as if each were its own call. For each it walks the
-- candidates best first and selects up to `slots` of them, reserving each selection's expected cost
-- against the line item's budget, its daily budget and its campaign's budget, and holding a pending
-- impression against each frequency cap. Returns, per decision, one verdict per candidate walked.
-- Written for few Redis commands, since each costs the script far more than the command itself: an
-- account is read with one HMGET and written back with one HSET per call, however many of the call's
-- decisions walk it; and one call carries every decision an API process started in one event-loop turn.
--
-- Each candidate comes as a JSON object, decoded (by cjson, in C) only when the walk reaches it. Keys
-- are built only when used.
--
-- Before its candidates, a decision is checked against the outstanding-decision limits of its listener
-- and its IP (`<prefix>lu:<window>:<user>`, `<prefix>lip:<window>:<ip>`, fixed windows): a listener's
-- count goes up by each ad served and down by each impression measured (apply.lua), an IP's only up.
-- Past a limit every candidate gets 'listener_limit' or 'ip_limit' and nothing is reserved.
--
-- KEYS[1] restore marker
-- ARGV[1] the call (JSON, ReserveCallArg in ledger-scripts.ts): now, bucketMs, windowBuckets, pendingMs,
--         tailFraction, prefix ("<QUEUE_PREFIX>:dlv:"), limitWindowMs
-- then per decision: its JSON (ReserveDecisionArg: ids, n, listenerLimit, ipLimit), the user id and the
--         IP ('' for none) as they are (so that their keys are byte for byte apply.lua's), then its n
--         candidates best first, each a JSON CandidateArg: li, cp, price, reserve, budget, daily?,
--         campaignBudget?, dayQ, basis 'd'|'f'|'n', target, allowance, random, caps [[max, periodMs]], capTtl
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_restored'} end
local call = cjson.decode(ARGV[1])
local now = call.now
local bucketMs = call.bucketMs
local win = call.windowBuckets
local pendingMs = call.pendingMs
local tail = call.tailFraction
local prefix = call.prefix
local limitWin = math.floor(now / call.limitWindowMs)
local limitTtl = 2 * call.limitWindowMs
local nowB = math.floor(now / bucketMs)
local oldest = nowB - win + 1
local bucket = nowB
local ttl = ((2 * win + 2) * bucketMs)

-- The accounts this call read, by hash key, in first-read order. Each is read once and written back
-- once, at the end, however many of the call's decisions walk it; later decisions see earlier ones'
-- reservations in these tables, exactly as if each had run alone.
local accounts, order = {}, {}

-- Reads an account, dropping lapsed reservation buckets and, given the local day (line items only),
-- recomputing "today" when it changed.
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
local function decide(d, user, ip, base)
  local out = {}
  local chosen = 0
  local slots, n, ids, listenerLimit, ipLimit = #d.ids, d.n, d.ids, d.listenerLimit, d.ipLimit
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
    local c = cjson.decode(ARGV[base + j])
    local liId, price, reserve, budget, daily, campBudget = c.li, c.price, c.reserve, c.budget, c.daily, c.campaignBudget
    local caps = c.caps

    local li = account(accountKey(prefix, 'li', liId), c.dayQ)
    local cp = nil
    local verdict = false
    local inTail = false
    if li.spent + li.res + price > budget then
      verdict = 'budget_exhausted'
    elseif daily and li.today + li.res + price > daily then
      verdict = 'daily_budget_exhausted'
    else
      if budget - li.spent - li.res - price < tail * budget then inTail = true end
      if daily and daily - li.today - li.res - price < tail * daily then inTail = true end
      if campBudget then
        cp = account(accountKey(prefix, 'cp', c.cp), nil)
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
      local pending = redis.call('ZCOUNT', fp, now - pendingMs, '+inf')
      for k = 1, #caps do
        local seen = redis.call('ZCOUNT', fc, now - caps[k][2], '+inf')
        if seen + pending >= caps[k][1] then
          verdict = 'frequency_capped'
          break
        end
      end
    end
    if not verdict and c.basis ~= 'n' then
      local actual = li.spent + li.res
      if c.basis == 'd' then actual = li.today + li.res end
      if actual > c.target and c.random >= 1 - (actual - c.target) / c.allowance then verdict = 'paced' end
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
      li.capTtl = c.capTtl
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
local i = 2
while i <= #ARGV do
  local d = cjson.decode(ARGV[i])
  results[#results + 1] = decide(d, ARGV[i + 1], ARGV[i + 2], i + 2)
  i = i + 3 + d.n
end
saveAll()
return results
