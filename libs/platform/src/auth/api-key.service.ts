import { Injectable, Logger, OnModuleInit, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { ApiConfig } from '../config/api.config';
import type { Page, PageQuery } from '../database/tenant.repository';
import { RedisService } from '../redis/redis.service';
import { MetricsService } from '../telemetry/metrics.service';
import { BoundedTtlSet } from '../util/bounded-ttl-set';
import { uuidv7 } from '../util/uuid';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyRepository } from './api-key.repository';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { Principal, actorOf } from './principal';

const REVOKED_CHANNEL = 'api-keys.revoked';
const CACHE_TTL_MS = 30_000;

export interface CreatedApiKey {
  id: string;
  advertiserId: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  /** The key that minted this one (advertiser keys), or null when the admin did. */
  parentKeyId: string | null;
  /** The secret itself: returned here and never again. */
  key: string;
}

/**
 * Issues, resolves and revokes API keys. Keys are 256 random bits, so a plain SHA-256 is a safe
 * hash (no dictionary to attack) and lets a key be looked up by its hash in one indexed read.
 * Resolved keys are cached for a short time; a revocation is broadcast so every replica drops it.
 * Unknown keys are remembered for a few seconds (bounded), and failed authentications are limited per
 * client IP (AuthFailureLimiter), so that wrong keys cannot turn into a stream of MySQL reads.
 *
 * Who may mint: the admin, for any advertiser (the key has no parent); an advertiser key, for its own
 * advertiser only, and the new key records it as its parent. Revoking a key revokes every key it
 * minted, transitively, so a leaked key cannot leave live descendants behind.
 */
@Injectable()
export class ApiKeyService implements OnModuleInit {
  private readonly logger = new Logger(ApiKeyService.name);
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number }>();
  private readonly unknown: BoundedTtlSet;
  private readonly adminKeyHash: Buffer;
  private readonly lookups: Counter<'result'>;
  private readonly keys: ApiKeyRepository;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
    config: ApiConfig,
    private readonly failures: AuthFailureLimiter,
    metrics: MetricsService,
  ) {
    this.keys = new ApiKeyRepository(dataSource.manager);
    this.adminKeyHash = sha256(config.ADMIN_API_KEY);
    this.unknown = new BoundedTtlSet(config.AUTH_NEGATIVE_CACHE_TTL_MS, config.AUTH_NEGATIVE_CACHE_MAX_ENTRIES);
    this.lookups = metrics.counter('api_key_lookups_total', 'API keys looked up in MySQL (cache misses), by result', ['result']);
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(REVOKED_CHANNEL, (keyHash) => this.cache.delete(keyHash))
      .catch((err: Error) => this.logger.warn(`cannot subscribe to key revocations yet: ${err.message}`));
  }

  /**
   * Mints a key. An advertiser key's parent is locked while its child is written: a revocation running
   * at the same time either waits and then revokes the child too, or goes first and this answers 401.
   */
  async create(advertiserId: string, name: string, actor: Principal): Promise<CreatedApiKey> {
    const key = `adp_${randomBytes(32).toString('base64url')}`;
    const parentKeyId = actor.kind === 'advertiser' ? actor.keyId : null;
    const saved = await this.dataSource.transaction(async (manager) => {
      const keys = new ApiKeyRepository(manager);
      if (parentKeyId && !(await keys.lockLive(parentKeyId))) throw new UnauthorizedException('invalid or revoked API key');
      return keys.save({
        id: uuidv7(),
        advertiserId,
        parentKeyId,
        name,
        keyPrefix: key.slice(0, 12),
        keyHash: sha256(key).toString('hex'),
        createdBy: actorOf(actor),
        revokedAt: null,
        revokedBy: null,
      });
    });
    return { id: saved.id, advertiserId, name, keyPrefix: saved.keyPrefix, createdAt: saved.createdAt, parentKeyId, key };
  }

  /** An advertiser's keys, a page at a time, newest first. */
  page(advertiserId: string, query: PageQuery): Promise<Page<ApiKeyEntity>> {
    return this.keys.pageOf(advertiserId, query);
  }

  /**
   * Revokes a key and every key it minted, transitively, in one transaction; idempotent (revoking a
   * revoked key again still revokes any descendant left live). `scope` confines an advertiser to its
   * own keys: null when the key is unknown or another advertiser's. Every replica drops the revoked
   * keys from its cache.
   */
  async revoke(id: string, scope: string | undefined, actor: Principal): Promise<ApiKeyEntity | null> {
    if (!(await this.keys.findOwned(id, scope))) return null;
    const revokedHashes = await this.dataSource.transaction(async (manager) => {
      const keys = new ApiKeyRepository(manager);
      const live = (await keys.lockFamily(id)).filter((k) => !k.revokedAt);
      await keys.revoke(
        live.map((k) => k.id),
        new Date(),
        actorOf(actor),
      );
      return live.map((k) => k.keyHash);
    });
    for (const hash of revokedHashes) this.cache.delete(hash);
    await Promise.all(revokedHashes.map((hash) => this.redis.publish(REVOKED_CHANNEL, hash))).catch(() => undefined);
    return this.keys.findOwned(id, scope);
  }

  /**
   * As `resolve`, for a request from `clientIp`: a client past its failed-authentication limit gets 429
   * before any lookup, and each unknown key counts against it. A lookup that cannot reach MySQL is a
   * 503 naming the cause.
   */
  async resolveForRequest(presented: string, clientIp?: string): Promise<Principal | null> {
    const hash = sha256(presented);
    const known = this.known(hash);
    if (known) return known;
    if (clientIp && !this.unknown.has(hash.toString('hex'))) await this.failures.assertAllowed(clientIp);
    let principal: Principal | null;
    try {
      principal = await this.resolve(presented);
    } catch (err) {
      throw new ServiceUnavailableException(`cannot check the API key, database unavailable: ${(err as Error).message}`);
    }
    if (!principal && clientIp) await this.failures.recordFailure(clientIp);
    return principal;
  }

  /** The principal a presented key stands for, or null when it is unknown or revoked. */
  async resolve(presented: string): Promise<Principal | null> {
    const hash = sha256(presented);
    return this.known(hash) ?? this.lookUp(hash.toString('hex'));
  }

  /** The admin, or a key resolved in the last CACHE_TTL_MS; no I/O. */
  private known(hash: Buffer): Principal | undefined {
    if (timingSafeEqual(hash, this.adminKeyHash)) return { kind: 'admin', keyId: 'admin' };
    const cached = this.cache.get(hash.toString('hex'));
    return cached && cached.expiresAt > Date.now() ? cached.principal : undefined;
  }

  private async lookUp(hex: string): Promise<Principal | null> {
    if (this.unknown.has(hex)) return null;
    const row = await this.keys.findLiveByHash(hex);
    this.lookups.inc({ result: row ? 'found' : 'unknown' });
    if (!row) {
      this.unknown.add(hex);
      return null;
    }
    const principal: Principal = { kind: 'advertiser', keyId: row.id, advertiserId: row.advertiserId };
    this.cache.set(hex, { principal, expiresAt: Date.now() + CACHE_TTL_MS });
    return principal;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key of an `Authorization: Bearer <key>` header, or null when the header is absent or another shape. */
export function bearerKey(header: string | undefined): string | null {
  return header ? (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null) : null;
}
