import { CATALOG_CHANGED_CHANNEL } from '@app/campaigns';
import { RedisService } from '@app/platform';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ApprovedCreativeRepository } from '../repositories/approved-creative.repository';

/** How long the latest approved URL (for tokens that carry no version) is trusted without asking MySQL again, ms. */
const LATEST_TTL_MS = 60_000;
/** How long "no such approved version" is remembered, ms: short, it is an anomaly worth re-checking. */
const MISSING_TTL_MS = 10_000;
/** Entries per cache; the least recently used goes first. */
const MAX_ENTRIES = 100_000;

/**
 * Thrown when MySQL cannot say where a click goes right now (the click itself is already stored).
 */
export class ClickThroughUnavailableError extends Error {}

/**
 * The approved click-through URL of a served ad, for the click redirect: the URL of the creative's
 * approved version named in the tracking token (creative_approved_versions, rows never change, so they
 * are cached until evicted), or for tokens issued before versions were carried, the creative's latest
 * approved version (cached for a minute, and dropped when a catalog change is announced on Redis).
 * Never the creative's current, possibly unreviewed, URL. A cached click costs no query; concurrent
 * misses share one.
 */
@Injectable()
export class ClickThroughService implements OnModuleInit {
  private readonly logger = new Logger(ClickThroughService.name);
  /** `creativeId#version` → URL (null: no such version, until expiresAt). */
  private readonly versions = new LruCache<{ url: string | null; expiresAt: number }>(MAX_ENTRIES);
  /** creativeId → latest approved URL. */
  private readonly latest = new LruCache<{ url: string | null; expiresAt: number }>(MAX_ENTRIES);
  private readonly loading = new Map<string, Promise<string | null>>();

  constructor(
    private readonly approved: ApprovedCreativeRepository,
    private readonly redis: RedisService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CATALOG_CHANGED_CHANNEL, () => this.latest.clear())
      .catch((err: Error) => this.logger.warn(`cannot subscribe to catalog changes yet: ${err.message}`));
  }

  /**
   * The URL approved for this creative's `version` (the latest approved one when the token carries no
   * version), or null when none is known. Throws ClickThroughUnavailableError when MySQL cannot answer
   * and nothing is cached.
   */
  async urlFor(creativeId: string, version: number | undefined): Promise<string | null> {
    const key = version === undefined ? `${creativeId}#latest` : `${creativeId}#${version}`;
    const cache = version === undefined ? this.latest : this.versions;
    const hit = cache.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.url;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(creativeId, version, key, cache).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async load(creativeId: string, version: number | undefined, key: string, cache: LruCache<{ url: string | null; expiresAt: number }>): Promise<string | null> {
    let url: string | null;
    try {
      url = await this.approved.clickThroughUrl(creativeId, version);
    } catch (err) {
      this.logger.warn(`approved click-through URL of creative ${creativeId} unavailable: ${(err as Error).message}`);
      // A stale entry beats no redirect: it was approved.
      const stale = cache.get(key);
      if (stale?.url) return stale.url;
      throw new ClickThroughUnavailableError((err as Error).message);
    }
    const ttl = url === null ? MISSING_TTL_MS : version === undefined ? LATEST_TTL_MS : Number.POSITIVE_INFINITY;
    cache.set(key, { url, expiresAt: Date.now() + ttl });
    return url;
  }
}

/** A Map kept in use order: a hit moves its key to the end, and the first key goes when full. */
export class LruCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }
}
