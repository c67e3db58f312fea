import type { RedisService } from '@app/platform';

/**
 * Redis key layout of the delivery ledger (every key behind QUEUE_PREFIX via RedisService.key):
 *
 *   dlv:restored                 marker; absent after Redis lost its data, until the ledger was rebuilt from MySQL
 *   dlv:restoring                marker; present while the rebuild runs (increments are then also
 *                                recorded under 's:<field>' of each hash and in dlv:li:<id>:qs)
 *   dlv:li:<lineItemId>          hash: spent, today, dayQ, res, resQ (milli-micros; see lua/reserve.lua),
 *                                imps, clicks, completes (observed counts), capTtl (longest cap period, s)
 *   dlv:li:<lineItemId>:q        hash: UTC quarter-hour index -> measured spend (last ~26 h)
 *   dlv:li:<lineItemId>:r        hash: 10-second decision bucket -> outstanding reservations
 *   dlv:cp:<campaignId>[:q|:r]   the same account fields for a campaign (no counts, no capTtl)
 *   dlv:fc:<lineItemId>:<userId> sorted set: impressions of a listener (member decision id, score time ms)
 *   dlv:fp:<lineItemId>:<userId> sorted set: decisions served to a listener whose impression is pending
 */
export class LedgerKeys {
  constructor(private readonly redis: RedisService) {}

  marker(): string {
    return this.redis.key('dlv', 'restored');
  }

  /** Present while the ledger is rebuilt from MySQL (apply.lua then records increments apart). */
  restoring(): string {
    return this.redis.key('dlv', 'restoring');
  }

  lineItem(id: string): string {
    return this.redis.key('dlv', 'li', id);
  }

  campaign(id: string): string {
    return this.redis.key('dlv', 'cp', id);
  }

  impressions(lineItemId: string, userId: string): string {
    return this.redis.key('dlv', 'fc', lineItemId, userId);
  }

  pending(lineItemId: string, userId: string): string {
    return this.redis.key('dlv', 'fp', lineItemId, userId);
  }

  /** The prefix the Lua scripts build the keys above from (lua/prelude.lua). */
  scriptPrefix(): string {
    return `${this.redis.key('dlv')}:`;
  }

  /** Glob matching every counter key of this deployment (for restore after a partial loss). */
  pattern(): string {
    return this.redis.key('dlv', '*');
  }
}
