import { Inject, Injectable, Logger, NotFoundException, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { PlatformConfig } from '../config/platform.config';
import { RedisService } from '../redis/redis.service';
import { uuidv7 } from '../util/uuid';
import { ApiKeyEntity } from './api-key.entity';
import { Principal, actorOf } from './principal';

const REVOKED_CHANNEL = 'api-keys.revoked';
const CACHE_TTL_MS = 30_000;

export interface CreatedApiKey {
  id: string;
  advertiserId: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  /** The secret itself: returned here and never again. */
  key: string;
}

/**
 * Issues, resolves and revokes API keys. Keys are 256 random bits, so a plain SHA-256 is a safe
 * hash (no dictionary to attack) and lets a key be looked up by its hash in one indexed read.
 * Resolved keys are cached for a short time; a revocation is broadcast so every replica drops it.
 */
@Injectable()
export class ApiKeyService implements OnModuleInit {
  private readonly logger = new Logger(ApiKeyService.name);
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number }>();
  private readonly adminKeyHash?: Buffer;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
    @Inject(PlatformConfig) config: PlatformConfig,
  ) {
    const adminKey = (config as PlatformConfig & { ADMIN_API_KEY?: string }).ADMIN_API_KEY;
    if (adminKey) this.adminKeyHash = sha256(adminKey);
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(REVOKED_CHANNEL, (keyHash) => this.cache.delete(keyHash))
      .catch((err: Error) => this.logger.warn(`cannot subscribe to key revocations yet: ${err.message}`));
  }

  async create(advertiserId: string, name: string, actor: Principal): Promise<CreatedApiKey> {
    const key = `adp_${randomBytes(32).toString('base64url')}`;
    const row = this.dataSource.getRepository(ApiKeyEntity).create({
      id: uuidv7(),
      advertiserId,
      name,
      keyPrefix: key.slice(0, 12),
      keyHash: sha256(key).toString('hex'),
      createdBy: actorOf(actor),
      revokedAt: null,
      revokedBy: null,
    });
    const saved = await this.dataSource.getRepository(ApiKeyEntity).save(row);
    return { id: saved.id, advertiserId, name, keyPrefix: saved.keyPrefix, createdAt: saved.createdAt, key };
  }

  async list(advertiserId: string): Promise<ApiKeyEntity[]> {
    return this.dataSource.getRepository(ApiKeyEntity).find({ where: { advertiserId }, order: { id: 'DESC' } });
  }

  async findVisible(id: string, scope: string | undefined): Promise<ApiKeyEntity> {
    const row = await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { id } });
    if (!row || (scope !== undefined && row.advertiserId !== scope)) throw new NotFoundException(`api key ${id} not found`);
    return row;
  }

  /** Revokes a key; idempotent. `scope` confines an advertiser to its own keys (404 otherwise). */
  async revoke(id: string, scope: string | undefined, actor: Principal): Promise<ApiKeyEntity> {
    const row = await this.findVisible(id, scope);
    if (!row.revokedAt) {
      await this.dataSource
        .getRepository(ApiKeyEntity)
        .update({ id, revokedAt: IsNull() }, { revokedAt: new Date(), revokedBy: actorOf(actor) });
      this.cache.delete(row.keyHash);
      await this.redis.publish(REVOKED_CHANNEL, row.keyHash).catch(() => undefined);
    }
    return this.findVisible(id, scope);
  }

  /** As `resolve`, for a request: a lookup that cannot reach MySQL is a 503 naming the cause. */
  async resolveForRequest(presented: string): Promise<Principal | null> {
    try {
      return await this.resolve(presented);
    } catch (err) {
      throw new ServiceUnavailableException(`cannot check the API key, database unavailable: ${(err as Error).message}`);
    }
  }

  /** The principal a presented key stands for, or null when it is unknown or revoked. */
  async resolve(presented: string): Promise<Principal | null> {
    const hash = sha256(presented);
    if (this.adminKeyHash && timingSafeEqual(hash, this.adminKeyHash)) return { kind: 'admin', keyId: 'admin' };
    const hex = hash.toString('hex');
    const cached = this.cache.get(hex);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    const row = await this.dataSource
      .getRepository(ApiKeyEntity)
      .findOne({ where: { keyHash: hex, revokedAt: IsNull() }, select: { id: true, advertiserId: true } });
    if (!row) return null;
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
