-- One API replica's lease on one account (line item or campaign): reports what the replica reserved
-- from its lease since its last call, then returns the unused part (release) or takes a new slice of
-- the account's remaining budget. A replica decides locally while its lease lasts: no Redis call per
-- decision for budgets, daily budgets, campaign budgets or pacing.
--
-- The account holds: spent (measured), res (reservations of served decisions, per 10-second bucket in
-- '<h>:r', lapsing after the window or released by their impressions), leased (unused leases of all
-- replicas, each in '<h>:l' as "<amount>:<expiry ms>"). Budget check of every grant:
-- spent + res + leased <= budget (and today + res + leased <= daily budget), so reservations taken from
-- leases never pass a budget. The total of leases is capped (`cap`, ~1% of the budget), so an idle or
-- dead replica holds little. An expired lease (its replica died or stalled) is reclaimed by the next
-- call on the account: held whole as reservations of now, since its replica may have served decisions
-- from it that it never reported; those lapse with the window.
--
-- KEYS[1] the stripe's restore marker, KEYS[2] the account hash
-- ARGV[1] JSON LeaseArg (ledger-scripts.ts): replica, now, bucketMs, windowBuckets, ttlMs, used
--         [[bucket, amount]], exposure, release, want, unit, budget, daily?, dayQ? (line items), cap, tailFraction,
--         capTtl?
-- Returns {'lost'} when the stripe lost its data, else {'ok', lease, spent, res, today, leased, tail (0|1),
-- granted, room} (room: what is left for further leases, as far as budgets go).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'lost'} end
local a = cjson.decode(ARGV[1])
local h = KEYS[2]
local r, l = h .. ':r', h .. ':l'
local now = a.now
local nowB = math.floor(now / a.bucketMs)
local win = a.windowBuckets
local oldest = nowB - win + 1
local ttl = ((2 * win + 2) * a.bucketMs)
local v = redis.call('HMGET', h, 'spent', 'today', 'res', 'resQ', 'dayQ', 'leased')
local spent, today, res, resQ, dayQ, leased = num(v[1]), num(v[2]), num(v[3]), tonumber(v[4]), tonumber(v[5]), num(v[6])

-- Reservations whose window passed lapse.
if not resQ then
  res, resQ = 0, oldest
elseif resQ < oldest then
  if oldest - resQ > win then
    redis.call('DEL', r)
    res = 0
  else
    local fields = {}
    for b = resQ, oldest - 1 do fields[#fields + 1] = b end
    local lapsed = redis.call('HMGET', r, unpack(fields))
    for i = 1, #lapsed do
      if lapsed[i] then res = res - tonumber(lapsed[i]) end
    end
    redis.call('HDEL', r, unpack(fields))
    if res < 0 then res = 0 end
  end
  resQ = oldest
end

-- "today" of a line item, recomputed from its quarter hours when the advertiser's local day changed.
if a.dayQ and dayQ ~= a.dayQ then
  local sum = 0
  local all = redis.call('HGETALL', h .. ':q')
  for i = 1, #all, 2 do
    if tonumber(all[i]) >= a.dayQ then sum = sum + tonumber(all[i + 1]) end
  end
  today, dayQ = sum, a.dayQ
end

local function reserve(b, amount)
  if amount <= 0 or b < oldest then return end
  if redis.call('HINCRBY', r, b, amount) == amount then redis.call('PEXPIRE', r, ttl) end
  res = res + amount
end

-- Other replicas' expired leases are held whole as reservations. This replica's own lease counts as
-- long as it is there, expired or not: the replica is reporting what it used of it.
local leases = redis.call('HGETALL', l)
local mine, found, others = 0, false, 0
for i = 1, #leases, 2 do
  local amount, expiry = string.match(leases[i + 1], '^(%d+):(%d+)$')
  amount, expiry = tonumber(amount), tonumber(expiry)
  if leases[i] == a.replica then
    mine, found = amount, true
  elseif expiry <= now then
    reserve(nowB, amount)
    leased = leased - amount
    redis.call('HDEL', l, leases[i])
  else
    others = others + 1
  end
end

-- What the replica reserved from its lease: reservations in the buckets of their decisions, while the
-- lease gives up what they took from it, their exposure (a whole event's price each, at least their
-- reservations): the difference comes back as room. (Without a live lease the replica's lease was
-- reclaimed whole, or lost with the stripe and rebuilt with a reservation of recent spend: its
-- decisions are held already.)
if found then
  local used = 0
  for _, u in ipairs(a.used) do
    reserve(u[1], u[2])
    used = used + u[2]
  end
  used = math.min(math.max(used, a.exposure), mine)
  mine, leased = mine - used, leased - used
end

local grant = 0
if a.release then
  leased = leased - mine
  mine = 0
else
  local room = a.budget - spent - res - leased
  if a.daily then room = math.min(room, a.daily - today - res - leased) end
  -- Leases together hold at most `cap`, or a few decisions per replica holding one.
  local cap = math.max(a.cap, (others + 1) * 4 * a.unit)
  grant = math.min(a.want, room, cap - leased)
  -- In whole decisions: a remainder smaller than one would only sit idle in this lease.
  grant = math.floor(grant / a.unit) * a.unit
  if grant > 0 then mine, leased = mine + grant, leased + grant else grant = 0 end
end
if leased < 0 then leased = 0 end
if mine > 0 then
  redis.call('HSET', l, a.replica, string.format('%d:%d', mine, now + a.ttlMs))
elseif found then
  redis.call('HDEL', l, a.replica)
end

local fields = { 'res', res, 'resQ', resQ, 'leased', leased }
if a.dayQ then fields[#fields + 1], fields[#fields + 2], fields[#fields + 3], fields[#fields + 4] = 'dayQ', dayQ, 'today', today end
if a.capTtl then fields[#fields + 1], fields[#fields + 2] = 'capTtl', a.capTtl end
redis.call('HSET', h, unpack(fields))

-- Within the last `tailFraction` of a budget (what is left once every lease is spent), CPC and CPCL
-- decisions reserve a whole event's price instead of its expectation.
local left = a.budget - spent - res - leased
local tail = left < a.tailFraction * a.budget
if a.daily then
  left = math.min(left, a.daily - today - res - leased)
  if a.daily - today - res - leased < a.tailFraction * a.daily then tail = true end
end
return { 'ok', mine, spent, res, today, leased, tail and 1 or 0, grant, math.max(left, 0) }
