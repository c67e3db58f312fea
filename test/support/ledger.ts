import { LedgerKeys } from '@app/delivery-ledger';
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
