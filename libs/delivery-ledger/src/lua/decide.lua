-- The listeners' part of decisions, on their stripes (all on one shard): the outstanding-decision
-- limit, frequency caps and pending impressions. Each decision's candidates come already checked
-- against budgets and pacing by the replica (leases): the call walks them best first and selects up to
-- the decision's slots. The decisions an API process starts together share a call per shard (decided
-- one after another, each as if alone).
--
-- A listener's outstanding count ('<base>:lu:<window>', fixed windows) goes up by each ad served and
-- down by each impression measured (apply.lua). Past the limit the decision gets 'listener_limit' and
-- nothing is held. A capped line item is refused when the listener's impressions within a cap's period
-- plus the decisions still awaiting their impression reach the cap.
--
-- KEYS[1] the first decision's stripe marker (it routes the call to its shard)
-- ARGV[1] JSON DecideArg (ledger-scripts.ts): now, pendingMs, limitWindowMs, markers (restore marker of
--         each stripe involved), decisions [{m (its stripe's marker, from 1), listenerLimit (0: none),
--         ids (one per slot), cands [{li, caps [[max, periodMs]]}]}]
-- ARGV[2..] each decision's listener base key, as is (so that its keys are byte for byte apply.lua's)
-- Returns per decision {'not_restored'}, {'listener_limit'}, or one verdict per candidate walked.
local d = cjson.decode(ARGV[1])
local now = d.now
-- Read first, before any write: a stripe that moved to another shard fails the call here, not half way.
local restored = {}
for m, marker in ipairs(d.markers) do restored[m] = redis.call('EXISTS', marker) == 1 end

local function decide(one, base)
  if not restored[one.m] then return { 'not_restored' } end
  local listenerLimit = one.listenerLimit
  local slots = #one.ids
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
  for j, c in ipairs(one.cands) do
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
        redis.call('ZADD', fp, now, one.ids[chosen])
        -- No trimming needed: pending decisions count against the cap, so the set stays within it.
        redis.call('PEXPIRE', fp, d.pendingMs)
      end
    end
  end
  if chosen > 0 and lu and redis.call('INCRBY', lu, chosen) == chosen then redis.call('PEXPIRE', lu, 2 * d.limitWindowMs) end
  return out
end

local results = {}
for i, one in ipairs(d.decisions) do results[i] = decide(one, ARGV[i + 1]) end
return results
