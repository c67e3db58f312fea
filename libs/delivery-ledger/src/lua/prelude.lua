-- Shared by every ledger script (ledger-scripts.ts puts it in front of each one).
--
-- Amounts are integer milli-micros (a CPM impression's price is exact; sums stay below 2^53). A call
-- touches one stripe (one hash tag, one slot: ledger-keys.ts), and builds its keys from the stripe's
-- prefix ("<QUEUE_PREFIX>:dlv:{<tag>}:") it is given.

local function num(x) return tonumber(x or '0') or 0 end

-- An account hash; its companions are '<key>:r' (reservations), '<key>:l' (leases) and, for line
-- items, '<key>:q' (quarter hours).
local function accountKey(prefix, kind, id) return prefix .. kind .. ':' .. id end

-- The base of a listener's keys: '<base>:fc:<li>' impressions, '<base>:fp:<li>' pending decisions,
-- '<base>:lu:<window>' outstanding decisions.
local function listenerKey(prefix, user) return prefix .. 'u:' .. user end
