-- Shared by every ledger script (ledger-scripts.ts puts it in front of each one).
--
-- Amounts are integer milli-micros (a CPM impression's price is exact; sums stay below 2^53).

local function num(x) return tonumber(x or '0') or 0 end

-- The key layout of ledger-keys.ts, built from the deployment's prefix ("<QUEUE_PREFIX>:dlv:"); each
-- account hash has its companions '<key>:r' (reservations) and, for line items, '<key>:q' (quarter hours).
local function accountKey(prefix, kind, id) return prefix .. kind .. ':' .. id end

-- A listener's impressions and pending decisions for one line item.
local function capKeys(prefix, li, user)
  local tail = li .. ':' .. user
  return prefix .. 'fc:' .. tail, prefix .. 'fp:' .. tail
end
