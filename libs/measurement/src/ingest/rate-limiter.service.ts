import { RedisService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { EventType } from '../events/event-types';

/** Most valid impressions one listener can produce in a minute of event time: audio ads last 15-30 s, so
 * even skipped pods stay far below; anything above is a script, not a listener. */
export const MAX_IMPRESSIONS_PER_USER_MINUTE = 120;
/** Most valid clicks one listener can produce in a minute of event time. */
export const MAX_CLICKS_PER_USER_MINUTE = 60;

const LIMITS: Partial<Record<EventType, number>> = { impression: MAX_IMPRESSIONS_PER_USER_MINUTE, click: MAX_CLICKS_PER_USER_MINUTE };
const WINDOW_MS = 60_000;
/** Counters outlive their minute a little: offline players deliver a minute's events together, later. */
const COUNTER_TTL_SECONDS = 600;

/** KEYS: counters; ARGV[1]: ttl seconds, then one increment per key. Returns the totals. One call per batch. */
const COUNT_LUA = `
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[i + 1])
  if totals[i] == tonumber(ARGV[i + 1]) then redis.call('EXPIRE', key, ARGV[1]) end
end
return totals`;

type CountClient = { ivtCount(...args: Array<string | number>): Promise<number[]> };

export interface RateCandidate {
  userId: string;
  event: EventType;
  occurredAt: number;
}

/** The Redis key (without prefix) counting one user's events of one type in one minute of event time. */
export function rateKey(c: RateCandidate): string | null {
  if (!LIMITS[c.event]) return null;
  return `ivt:rate:${c.event}:${Math.floor(c.occurredAt / WINDOW_MS)}:${c.userId}`;
}

/**
 * Given the keys of a batch in order and each key's total after the batch was counted, flags the
 * events that took a counter past its limit (the first `limit` of a minute stay valid).
 */
export function overLimit(keys: Array<string | null>, totals: Map<string, number>, limitOf: (key: string) => number): boolean[] {
  const inBatch = new Map<string, number>();
  for (const k of keys) if (k) inBatch.set(k, (inBatch.get(k) ?? 0) + 1);
  const seen = new Map<string, number>();
  return keys.map((k) => {
    if (!k) return false;
    const j = (seen.get(k) ?? 0) + 1;
    seen.set(k, j);
    const before = (totals.get(k) ?? 0) - inBatch.get(k)!;
    return before + j > limitOf(k);
  });
}

function limitOfKey(key: string): number {
  return LIMITS[key.split(':')[2] as EventType] ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Abnormal rates from one listener, counted per minute of event time in Redis so every API replica
 * shares the count; one pipeline per group-commit batch. When Redis is away the process counts on its
 * own (a per-replica approximation) rather than failing or letting everything through.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly local = new Map<string, { count: number; expiresAt: number }>();
  private lastPrune = 0;
  private degraded = false;

  constructor(private readonly redis: RedisService) {
    if (typeof (redis.client as unknown as Partial<CountClient>).ivtCount !== 'function') redis.client.defineCommand('ivtCount', { lua: COUNT_LUA });
  }

  /** One flag per candidate: true when it exceeds its user's per-minute limit. */
  async check(candidates: RateCandidate[]): Promise<boolean[]> {
    const keys = candidates.map(rateKey);
    const distinct = [...new Set(keys.filter((k): k is string => k !== null))];
    if (distinct.length === 0) return keys.map(() => false);
    const increments = new Map<string, number>();
    for (const k of keys) if (k) increments.set(k, (increments.get(k) ?? 0) + 1);
    let totals: Map<string, number>;
    try {
      totals = await this.countInRedis(distinct, increments);
      if (this.degraded) this.logger.log('rate counters back in Redis');
      this.degraded = false;
    } catch (err) {
      if (!this.degraded) this.logger.warn(`rate counters in Redis unavailable, counting locally until it returns: ${(err as Error).message}`);
      this.degraded = true;
      totals = this.countLocally(distinct, increments);
    }
    return overLimit(keys, totals, limitOfKey);
  }

  private async countInRedis(keys: string[], increments: Map<string, number>): Promise<Map<string, number>> {
    if (!this.redis.isReady()) throw new Error(`not connected (${this.redis.client.status})`);
    const replies = await (this.redis.client as unknown as CountClient).ivtCount(
      keys.length,
      ...keys.map((k) => this.redis.key(k)),
      COUNTER_TTL_SECONDS,
      ...keys.map((k) => increments.get(k)!),
    );
    return new Map(keys.map((k, i) => [k, Number(replies[i])]));
  }

  private countLocally(keys: string[], increments: Map<string, number>): Map<string, number> {
    const now = Date.now();
    if (now - this.lastPrune > WINDOW_MS) {
      for (const [k, v] of this.local) if (v.expiresAt < now) this.local.delete(k);
      this.lastPrune = now;
    }
    const totals = new Map<string, number>();
    for (const k of keys) {
      const entry = this.local.get(k);
      const count = (entry && entry.expiresAt >= now ? entry.count : 0) + increments.get(k)!;
      this.local.set(k, { count, expiresAt: now + COUNTER_TTL_SECONDS * 1000 });
      totals.set(k, count);
    }
    return totals;
  }
}
