import { STRIPES, STRIPE_TAGS, stripeOf } from './stripes';

/** What the ledger needs of RedisService to name its keys. */
export interface KeyNamer {
  key(...parts: Array<string | number>): string;
}

/**
 * Redis key layout of the delivery ledger. Every key is behind QUEUE_PREFIX and in a stripe
 * (stripes.ts): `<QUEUE_PREFIX>:dlv:{<stripe tag>}:...`, written below as `S:`.
 *
 *   S:restored               marker per stripe; absent after its shard lost its data, until the rebuild
 *   S:restoring              marker per stripe; present while the ledger is rebuilt from MySQL (increments
 *                            are then also recorded under 's:<field>' of each hash and in <li>:qs)
 *   S:li:<lineItemId>        hash: spent, today, dayQ, res, resQ, leased (milli-micros; see lua/lease.lua),
 *                            imps, clicks, completes (observed counts), capTtl (longest cap period, s)
 *   S:li:<lineItemId>:q      hash: UTC quarter-hour index -> measured spend (last ~26 h)
 *   S:li:<lineItemId>:r      hash: 10-second decision bucket -> outstanding reservations
 *   S:li:<lineItemId>:l      hash: API replica -> "<unused lease>:<expiry ms>"
 *   S:cp:<campaignId>[:r|:l] the same account fields for a campaign (no quarter hours, counts, capTtl)
 *   S:u:<userId>:fc:<li>     sorted set: impressions of a listener (member decision id, score time ms)
 *   S:u:<userId>:fp:<li>     sorted set: decisions served to a listener whose impression is pending
 *   S:u:<userId>:lu:<window> the listener's outstanding decisions in a limit window
 *
 * An account lives in the stripe of its id, a listener's keys in the stripe of the listener id.
 */
export class LedgerKeys {
  constructor(private readonly redis: KeyNamer) {}

  stripeOf(id: string): number {
    return stripeOf(id);
  }

  /** The prefix of a stripe's keys ("<QUEUE_PREFIX>:dlv:{<tag>}:"), from which the scripts build theirs. */
  stripePrefix(stripe: number): string {
    return `${this.redis.key('dlv', `{${STRIPE_TAGS[stripe]}}`)}:`;
  }

  /** Every stripe, 0 .. STRIPES - 1. */
  stripes(): number[] {
    return Array.from({ length: STRIPES }, (_, i) => i);
  }

  marker(stripe: number): string {
    return `${this.stripePrefix(stripe)}restored`;
  }

  /** Present while the ledger is rebuilt (apply.lua then records increments apart). */
  restoring(stripe: number): string {
    return `${this.stripePrefix(stripe)}restoring`;
  }

  lineItem(id: string): string {
    return `${this.stripePrefix(stripeOf(id))}li:${id}`;
  }

  campaign(id: string): string {
    return `${this.stripePrefix(stripeOf(id))}cp:${id}`;
  }

  /** The base of a listener's keys (its caps, pending decisions, outstanding count). */
  listener(userId: string): string {
    return `${this.stripePrefix(stripeOf(userId))}u:${userId}`;
  }

  impressions(lineItemId: string, userId: string): string {
    return `${this.listener(userId)}:fc:${lineItemId}`;
  }

  pending(lineItemId: string, userId: string): string {
    return `${this.listener(userId)}:fp:${lineItemId}`;
  }

  /** Glob matching every ledger key of this deployment. */
  pattern(): string {
    return this.redis.key('dlv', '*');
  }
}
