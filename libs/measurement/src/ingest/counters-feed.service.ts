import { CountableEvent, DeliveryLedger } from '@app/delivery-ledger';
import { RedisService } from '@app/platform';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

const REPAIR_EVERY_MS = 1000;
const COUNTED = new Set<CountableEvent['event']>(['impression', 'click', 'complete']);

/**
 * Feeds newly stored valid events to delivery's Redis counters, after COMMIT and off the request path.
 * MySQL is the truth and the counters are rebuildable, so a failed update is not retried event by
 * event (a half-applied pipeline would count twice): the process instead clears the counters'
 * restore marker as soon as Redis answers again, and the worker rebuilds them from MySQL.
 */
@Injectable()
export class CountersFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CountersFeed.name);
  private dirtySince: number | null = null;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly counters: DeliveryLedger,
    private readonly redis: RedisService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.repair(), REPAIR_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  apply(events: CountableEvent[]): void {
    // Starts and quartiles change no counter (no spend, no cap, no observed rate): not sent to Redis.
    const counted = events.filter((e) => COUNTED.has(e.event));
    if (counted.length === 0) return;
    this.counters.applyEvents(counted).catch((err: Error) => {
      if (this.dirtySince === null) this.logger.warn(`delivery counters missed ${counted.length} event(s); they will be rebuilt from MySQL: ${err.message}`);
      this.dirtySince ??= Date.now();
    });
  }

  private async repair(): Promise<void> {
    if (this.dirtySince === null || !this.redis.isReady()) return;
    const since = this.dirtySince;
    try {
      await this.counters.markLost();
      this.logger.warn(`delivery counters marked for restore (updates missed since ${new Date(since).toISOString()})`);
      if (this.dirtySince === since) this.dirtySince = null;
    } catch (err) {
      this.logger.debug(`restore marker not cleared yet: ${(err as Error).message}`);
    }
  }
}
