import { CATALOG_CHANGED_CHANNEL } from '@app/campaigns';
import { RedisService } from '@app/platform';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** How long a creative's click-through URL is trusted without asking MySQL again, ms. */
const TTL_MS = 60_000;
const MAX_ENTRIES = 100_000;

/**
 * The click-through URL of a creative, for the click redirect. Read from the creatives table and
 * cached in memory (a click costs no query once its creative is known); a catalog change announced
 * on Redis empties the cache so an edited URL applies at once. Concurrent misses share one query.
 */
@Injectable()
export class ClickThroughService implements OnModuleInit {
  private readonly logger = new Logger(ClickThroughService.name);
  private readonly cache = new Map<string, { url: string | null; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<string | null>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CATALOG_CHANGED_CHANNEL, () => this.cache.clear())
      .catch((err: Error) => this.logger.warn(`cannot subscribe to catalog changes yet: ${err.message}`));
  }

  /** The URL, or null when the creative is unknown or MySQL cannot say right now. */
  async urlFor(creativeId: string): Promise<string | null> {
    const hit = this.cache.get(creativeId);
    if (hit && hit.expiresAt > Date.now()) return hit.url;
    let pending = this.loading.get(creativeId);
    if (!pending) {
      pending = this.load(creativeId).finally(() => this.loading.delete(creativeId));
      this.loading.set(creativeId, pending);
    }
    return pending;
  }

  private async load(creativeId: string): Promise<string | null> {
    try {
      const rows = (await this.dataSource.query('SELECT click_through_url FROM creatives WHERE id = ?', [creativeId])) as Array<{ click_through_url: string }>;
      const url = rows[0]?.click_through_url ?? null;
      if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
      this.cache.set(creativeId, { url, expiresAt: Date.now() + TTL_MS });
      return url;
    } catch (err) {
      this.logger.warn(`click-through URL of creative ${creativeId} unavailable: ${(err as Error).message}`);
      // A stale entry beats no redirect.
      return this.cache.get(creativeId)?.url ?? null;
    }
  }
}
