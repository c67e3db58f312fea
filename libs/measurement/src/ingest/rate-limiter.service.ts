import { ApiConfig, RedisService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { EventType, InvalidReason } from '../events/event-types';

/** Most valid impressions one listener can produce in a minute of event time: audio ads last 15-30 s, so
 * even skipped pods stay far below; anything above is a script, not a listener. */
export const MAX_IMPRESSIONS_PER_USER_MINUTE = 120;
/** Most valid clicks one listener can produce in a minute of event time. */
export const MAX_CLICKS_PER_USER_MINUTE = 60;

const USER_LIMITS: Partial<Record<EventType, number>> = { impression: MAX_IMPRESSIONS_PER_USER_MINUTE, click: MAX_CLICKS_PER_USER_MINUTE };
const WINDOW_MS = 60_000;

/**
 * Per-minute limits of the rules per source address (ApiConfig IVT_MAX_*); a missing or 0 limit turns
 * that rule off for that event type. One listener id per beacon is the attacker's to choose; the address
 * it comes from is not (as freely).
 */
export interface SourceRateLimits {
  perIp: Partial<Record<EventType, number>>;
  perIpAndUserAgent: Partial<Record<EventType, number>>;
}

export function sourceRateLimits(config: ApiConfig): SourceRateLimits {
  return {
    perIp: { impression: config.IVT_MAX_IMPRESSIONS_PER_IP_MINUTE, click: config.IVT_MAX_CLICKS_PER_IP_MINUTE },
    perIpAndUserAgent: { impression: config.IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE, click: config.IVT_MAX_CLICKS_PER_IP_UA_MINUTE },
  };
}
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
  /** Salted hashes of the beacon's source address and User-Agent (ClassifiedEvent), null when unknown. */
  ipHash?: string | null;
  uaHash?: string | null;
}

/** The Redis key (without prefix) counting one user's events of one type in one minute of event time. */
export function rateKey(c: RateCandidate): string | null {
  if (!USER_LIMITS[c.event]) return null;
  return `ivt:rate:${c.event}:${Math.floor(c.occurredAt / WINDOW_MS)}:${c.userId}`;
}

/** The key counting one IP's events of one type in one minute, or null when the rule is off or the IP unknown. */
export function ipRateKey(c: RateCandidate, limits: SourceRateLimits): string | null {
  if (!limits.perIp[c.event] || !c.ipHash) return null;
  return `ivt:ip:${c.event}:${Math.floor(c.occurredAt / WINDOW_MS)}:${c.ipHash}`;
}

/** The key counting one (IP, User-Agent)'s events of one type in one minute; a missing User-Agent is a value of its own. */
export function ipUserAgentRateKey(c: RateCandidate, limits: SourceRateLimits): string | null {
  if (!limits.perIpAndUserAgent[c.event] || !c.ipHash) return null;
  return `ivt:ipua:${c.event}:${Math.floor(c.occurredAt / WINDOW_MS)}:${c.ipHash}:${c.uaHash ?? '-'}`;
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

/** The limit of a key built by rateKey, ipRateKey or ipUserAgentRateKey: `ivt:<rule>:<event>:...`. */
export function limitOfKey(key: string, limits: SourceRateLimits): number {
  const [, rule, event] = key.split(':');
  const table = rule === 'rate' ? USER_LIMITS : rule === 'ip' ? limits.perIp : limits.perIpAndUserAgent;
  return table[event as EventType] || Number.MAX_SAFE_INTEGER;
}

/**
 * Per candidate, the reason it is over a limit, or null: the listener's own limit first ('rate_limit'),
 * then its IP's and its IP and User-Agent's ('ip_rate_limit'). Every rule counts every candidate, so a
 * flood keeps counting whatever label its first events got. `keysByRule` are aligned with the candidates.
 */
export function rateVerdicts(keysByRule: { user: Array<string | null>; ip: Array<string | null>; ipUa: Array<string | null> }, totals: Map<string, number>, limitOf: (key: string) => number): Array<InvalidReason | null> {
  const user = overLimit(keysByRule.user, totals, limitOf);
  const ip = overLimit(keysByRule.ip, totals, limitOf);
  const ipUa = overLimit(keysByRule.ipUa, totals, limitOf);
  return user.map((over, i) => (over ? 'rate_limit' : ip[i] || ipUa[i] ? 'ip_rate_limit' : null));
}

/**
 * Abnormal rates from one listener, one IP, and one IP with one User-Agent, counted per minute of event
 * time in Redis so every API replica shares the count; one script call per group-commit batch for all
 * three rules. When Redis is away the process counts on its own (a per-replica approximation) rather
 * than failing or letting everything through.
 */
@Injectable()
export class RateLimiterService {
  private readonly logger = new Logger(RateLimiterService.name);
  private readonly local = new Map<string, { count: number; expiresAt: number }>();
  private readonly limits: SourceRateLimits;
  private lastPrune = 0;
  private degraded = false;

  constructor(
    private readonly redis: RedisService,
    config: ApiConfig,
  ) {
    this.limits = sourceRateLimits(config);
    if (typeof (redis.client as unknown as Partial<CountClient>).ivtCount !== 'function') redis.client.defineCommand('ivtCount', { lua: COUNT_LUA });
  }

  /** One verdict per candidate: the reason it exceeds a per-minute limit, or null. */
  async check(candidates: RateCandidate[]): Promise<Array<InvalidReason | null>> {
    const keysByRule = {
      user: candidates.map(rateKey),
      ip: candidates.map((c) => ipRateKey(c, this.limits)),
      ipUa: candidates.map((c) => ipUserAgentRateKey(c, this.limits)),
    };
    const keys = [...keysByRule.user, ...keysByRule.ip, ...keysByRule.ipUa];
    const distinct = [...new Set(keys.filter((k): k is string => k !== null))];
    if (distinct.length === 0) return candidates.map(() => null);
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
    return rateVerdicts(keysByRule, totals, (key) => limitOfKey(key, this.limits));
  }

  private async countInRedis(keys: string[], increments: Map<string, number>): Promise<Map<string, number>> {
    if (!this.redis.isReady()) throw new Error(`not connected (${this.redis.client.status})`);
    const client = this.redis.client as unknown as CountClient;
    const count = async (group: string[]) => client.ivtCount(group.length, ...group.map((k) => this.redis.key(k)), COUNTER_TTL_SECONDS, ...group.map((k) => increments.get(k)!));
    // A batch's counters are of many listeners and addresses, spread over a cluster's slots on purpose (a
    // shared tag would put every beacon on one shard): there, one call per counter, sent together.
    const replies = this.redis.isCluster ? (await Promise.all(keys.map((k) => count([k])))).flat() : await count(keys);
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
