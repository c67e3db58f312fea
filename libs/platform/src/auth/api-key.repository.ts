import { EntityManager, IsNull } from 'typeorm';
import { PageQuery, Page, TenantRepository } from '../database/tenant.repository';
import { ApiKeyEntity } from './api-key.entity';

export interface KeyHashRow {
  id: string;
  keyHash: string;
  revokedAt: Date | null;
}

/** API keys: each belongs to an advertiser, and a key minted by another key names it as its parent. */
export class ApiKeyRepository extends TenantRepository<ApiKeyEntity> {
  constructor(manager: EntityManager) {
    super(manager, { entity: ApiKeyEntity, table: 'api_keys', ownerColumn: 'advertiser_id', owner: (k) => k.advertiserId });
  }

  pageOf(advertiserId: string, query: PageQuery): Promise<Page<ApiKeyEntity>> {
    return this.page(query, advertiserId);
  }

  /** Locks the key if it is live (FOR UPDATE); false when it is revoked or unknown. */
  async lockLive(id: string): Promise<boolean> {
    const rows = (await this.manager.query('SELECT id FROM api_keys WHERE id = ? AND revoked_at IS NULL FOR UPDATE', [id])) as unknown[];
    return rows.length > 0;
  }

  async save(key: Omit<ApiKeyEntity, 'createdAt'>): Promise<ApiKeyEntity> {
    return this.orm.save(this.orm.create(key));
  }

  /**
   * The key and every key it minted, transitively, each locked FOR UPDATE. Level by level: the
   * locking reads see children committed meanwhile, and a concurrent mint under any of these keys
   * waits for the caller's transaction.
   */
  async lockFamily(id: string): Promise<KeyHashRow[]> {
    type Row = { id: string; key_hash: string; revoked_at: Date | null };
    const toRow = (r: Row): KeyHashRow => ({ id: r.id, keyHash: r.key_hash, revokedAt: r.revoked_at });
    const family = ((await this.manager.query('SELECT id, key_hash, revoked_at FROM api_keys WHERE id = ? FOR UPDATE', [id])) as Row[]).map(toRow);
    const seen = new Set([id]);
    for (let level = [id]; level.length > 0; ) {
      const children = ((await this.manager.query('SELECT id, key_hash, revoked_at FROM api_keys WHERE parent_key_id IN (?) FOR UPDATE', [level])) as Row[]).map(toRow);
      level = children.filter((c) => !seen.has(c.id)).map((c) => c.id);
      for (const c of children) if (!seen.has(c.id)) family.push(c);
      for (const childId of level) seen.add(childId);
    }
    return family;
  }

  async revoke(ids: string[], at: Date, by: string): Promise<void> {
    if (ids.length > 0) await this.manager.query('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id IN (?) AND revoked_at IS NULL', [at, by, ids]);
  }

  /** The live key with this SHA-256 (hex), id and advertiser only. */
  async findLiveByHash(keyHash: string): Promise<Pick<ApiKeyEntity, 'id' | 'advertiserId'> | null> {
    return this.orm.findOne({ where: { keyHash, revokedAt: IsNull() }, select: { id: true, advertiserId: true } });
  }
}
