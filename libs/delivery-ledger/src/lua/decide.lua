-- The listener's part of one decision, on the listener's stripe: the outstanding-decision limit,
-- frequency caps and pending impressions. The candidates come already checked against budgets and
-- pacing by the replica (leases): this call walks them best first and selects up to `slots`.
--
-- A listener's outstanding count ('<base>:lu:<window>', fixed windows) goes up by each ad served and
-- down by each impression measured (apply.lua). Past the limit the decision gets 'listener_limit' and
-- nothing is held. A capped line item is refused when the listener's impressions within a cap's period
-- plus the decisions still awaiting their impression reach the cap.
--
-- KEYS[1] the stripe's restore marker, KEYS[2] the listener's base key
-- ARGV[1] JSON DecideArg (ledger-scripts.ts): now, pendingMs, limitWindowMs, listenerLimit (0: none),
--         ids (one per slot), cands [{li, caps [[max, periodMs]]}]
-- Returns {'not_restored'}, {'listener_limit'}, or one verdict per candidate walked.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_restored'} end
local d = cjson.decode(ARGV[1])
local base = KEYS[2]
local now = d.now
local listenerLimit = d.listenerLimit
local slots = #d.ids
local lu = nil
if listenerLimit > 0 then lu = base .. ':lu:' .. math.floor(now / d.limitWindowMs) end
if lu then
  local held = num(redis.call('GET', lu))
  if held + 1 > listenerLimit then return { 'listener_limit' } end
  -- A pod may not take more slots than the limit leaves.
  slots = math.min(slots, listenerLimit - held)
end
local out = {}
local chosen = 0
for j, c in ipairs(d.cands) do
  if chosen >= slots then break end
  local verdict = false
  local caps = c.caps
  local fp = nil
  if #caps > 0 then
    local fc = base .. ':fc:' .. c.li
    fp = base .. ':fp:' .. c.li
    local pending = redis.call('ZCOUNT', fp, now - d.pendingMs, '+inf')
    for k = 1, #caps do
      local seen = redis.call('ZCOUNT', fc, now - caps[k][2], '+inf')
      if seen + pending >= caps[k][1] then
        verdict = 'frequency_capped'
        break
      end
    end
  end
  if verdict then
    out[j] = verdict
  else
    chosen = chosen + 1
    out[j] = 'selected'
    if fp then
      redis.call('ZADD', fp, now, d.ids[chosen])
      -- No trimming needed: pending decisions count against the cap, so the set stays within it.
      redis.call('PEXPIRE', fp, d.pendingMs)
    end
  end
end
if chosen > 0 and lu and redis.call('INCRBY', lu, chosen) == chosen then redis.call('PEXPIRE', lu, 2 * d.limitWindowMs) end
return out
