import { LedgerKeys, QUARTER_MS } from '@app/delivery-ledger';
import type { ReservationCandidate } from '@app/delivery-ledger';
import type { TrackingClaims } from '@app/delivery';
import type { Redis } from 'ioredis';

/** The delivery ledger's key layout under a deployment's QUEUE_PREFIX (for tests that look into Redis). */
export function ledgerKeys(prefix: string): LedgerKeys {
  return new LedgerKeys({ key: (...parts) => `${prefix}:${parts.join(':')}` });
}

/** Declares the ledger complete (every stripe's marker), as the worker's rebuild does. */
export async function markLedgerRestored(redis: Redis, prefix: string): Promise<void> {
  const keys = ledgerKeys(prefix);
  await Promise.all(keys.stripes().map((s) => redis.set(keys.marker(s), new Date().toISOString(), 'NX')));
}

/** True when every stripe of the ledger is marked restored. */
export async function ledgerRestored(redis: Redis, prefix: string): Promise<boolean> {
  const keys = ledgerKeys(prefix);
  return (await redis.exists(...keys.stripes().map((s) => keys.marker(s)))) === keys.stripes().length;
}

/** Start of the UTC day the ledger specs run on (2026-11-25), as a quarter-hour index. */
export const TEST_DAY_QUARTER = Math.floor(Date.UTC(2026, 10, 25) / QUARTER_MS);

/** A line item offered to the ledger: uncapped, unpaced, no daily or campaign budget, 2,000,000 milli-micros an event, unless overridden. */
export function ledgerCandidate(o: Partial<ReservationCandidate> = {}): ReservationCandidate {
  return {
    lineItemId: 'li-1',
    campaignId: 'cp-1',
    eventPriceMilliMicros: 2_000_000,
    reserveMilliMicros: 2_000_000,
    budgetMilliMicros: 1e15,
    dailyBudgetMilliMicros: null,
    campaignBudgetMilliMicros: null,
    dayStartQuarter: TEST_DAY_QUARTER,
    pacingBasis: 'none',
    pacingTargetMilliMicros: 0,
    pacingAllowanceMilliMicros: 1,
    random: 0.5,
    frequencyCaps: [],
    ...o,
  };
}

/** A served decision's tracking claims for the ledger specs: a CPM impression of li-1 (cp-1) for u-1 at 2,000,000 micros, unless overridden. */
export function ledgerClaims(o: Partial<TrackingClaims> = {}): TrackingClaims {
  return {
    decisionId: 'd-1',
    advertiserId: 'adv-1',
    campaignId: 'cp-1',
    lineItemId: 'li-1',
    creativeId: 'cr-1',
    userId: 'u-1',
    pricingModel: 'CPM',
    rateMicros: 2_000_000,
    country: 'US',
    platform: 'ios',
    issuedAt: Math.floor(Date.UTC(2026, 10, 25, 12) / 1000),
    ...o,
  };
}
