import { CATALOG_CHANGED_CHANNEL } from '@app/campaigns';
import { RedisService } from '@app/platform';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Clock } from '@app/delivery-ledger';
import { CatalogSource } from './catalog-source';
import type { ObservedCounts } from '../selection/ranking';
import { EligibilitySnapshot } from './indexed-line-item';

/** Change messages arriving within this window trigger one reload. */
export const INDEX_DEBOUNCE_MS = 100;
/** Safety net: how often the catalog version is compared, in case a change message was lost. */
export const INDEX_POLL_MS = 3_000;

/**
 * The in-memory eligibility index of this API process: a snapshot of the servable catalog, rebuilt
 * when campaigns announces a change on CATALOG_CHANGED_CHANNEL (debounced) and whenever the catalog
 * version moved (polled), so no decision touches MySQL. Decisions read `snapshot` (swapped
 * atomically); reloads never overlap.
 */
@Injectable()
export class EligibilityIndexService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EligibilityIndexService.name);
  private current?: EligibilitySnapshot;
  private debounce?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private loading?: Promise<void>;
  private reloadAgain = false;
  private stopped = false;
  private counts?: (lineItemId: string) => ObservedCounts | undefined;

  constructor(
    private readonly source: CatalogSource,
    private readonly redis: RedisService,
    private readonly clock: Clock,
  ) {}

  /** The current snapshot, or undefined before the first successful load. */
  get snapshot(): EligibilitySnapshot | undefined {
    return this.current;
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CATALOG_CHANGED_CHANNEL, () => this.scheduleReload())
      .catch((err: Error) => this.logger.warn(`cannot subscribe to catalog changes yet (polling covers it): ${err.message}`));
    // A failed first load must not stop the API from booting: the poll retries.
    await this.reload().catch(() => undefined);
    this.poll = setInterval(() => void this.checkVersion(), INDEX_POLL_MS);
    this.poll.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  /** Re-ranks the current snapshot (and later ones) by expected value from observed counts. */
  rerank(counts: (lineItemId: string) => ObservedCounts | undefined): void {
    this.counts = counts;
    this.current?.rerank(counts);
  }

  /** Reloads soon; a burst of changes costs one reload. */
  scheduleReload(): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload().catch(() => undefined);
    }, INDEX_DEBOUNCE_MS);
  }

  /** Loads the catalog and swaps the snapshot; concurrent calls coalesce into one more load. */
  reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.loadOnce();
        } while (this.reloadAgain && !this.stopped);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    const started = this.clock.now();
    try {
      // Version first: a change landing during the load then shows up as a newer version on the next poll.
      const version = await this.source.version();
      const catalog = await this.source.load();
      const snapshot = EligibilitySnapshot.build(catalog.lineItems, version, catalog.loadedAt);
      if (this.counts) snapshot.rerank(this.counts);
      this.current = snapshot;
      this.logger.debug(`eligibility index: ${catalog.lineItems.length} line item(s), version ${version}, ${this.clock.now() - started} ms`);
    } catch (err) {
      this.logger.warn(`cannot load the delivery catalog: ${(err as Error).message}`);
      throw err;
    }
  }

  private async checkVersion(): Promise<void> {
    if (this.stopped || this.loading) return;
    try {
      const version = await this.source.version();
      if (!this.current || version !== this.current.version) await this.reload();
    } catch (err) {
      this.logger.debug(`catalog version check failed: ${(err as Error).message}`);
    }
  }
}
