import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { UUID_PATTERN } from '../util/uuid';

export const DEFAULT_PAGE_SIZE = 20;

/** `?limit=&cursor=` or `?page=`: a page of a list, newest first (ids are UUIDv7). */
export interface PageQuery {
  limit?: number;
  cursor?: string;
  /** 1-based; ignored with `cursor`. */
  page?: number;
}

/** Rows to skip for `?page=` (1-based) of `limit` rows each; 0 with a cursor, which pages by itself. */
export function pageOffset(query: PageQuery, limit: number): number {
  return !query.cursor && query.page && query.page > 1 ? (query.page - 1) * limit : 0;
}

export interface Page<T> {
  data: T[];
  /** The cursor of the next page (the last id of this one), or null on the last page. */
  next: string | null;
}

/** `share`: LOCK IN SHARE MODE (MariaDB and MySQL both accept it; TypeORM's FOR SHARE is MySQL 8 only). `update`: FOR UPDATE. */
export type RowLock = 'share' | 'update';

/** The rows of one table that belong to an advertiser: `owner` names the column holding the advertiser's id. */
export interface TenantTable<E> {
  entity: EntityTarget<E>;
  table: string;
  /** `advertiser_id`, or `id` for the advertisers themselves. */
  ownerColumn: string;
  owner: (row: E) => string;
}

/**
 * What every tenant-owned aggregate's repository does the same way: find a row within a scope (an
 * advertiser key sees its own advertiser's rows only; admin: `scope` undefined), and list a scope's
 * rows a page at a time. Bound to one EntityManager: the data source's, or a transaction's.
 */
export class TenantRepository<E extends ObjectLiteral & { id: string }> {
  constructor(
    protected readonly manager: EntityManager,
    protected readonly tenant: TenantTable<E>,
  ) {}

  protected get orm() {
    return this.manager.getRepository(this.tenant.entity);
  }

  /** The row if `id` is well formed, exists and is within `scope`; null otherwise (callers answer all three alike). */
  async findOwned(id: string, scope: string | undefined, lock?: RowLock): Promise<E | null> {
    if (!UUID_PATTERN.test(id)) return null;
    if (lock === 'share') await this.manager.query(`SELECT id FROM ${this.tenant.table} WHERE id = ? LOCK IN SHARE MODE`, [id]);
    const row = await this.orm.findOne({ where: { id } as FindOptionsWhere<E>, ...(lock === 'update' ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    return row && (scope === undefined || this.tenant.owner(row) === scope) ? row : null;
  }

  /** These rows, whoever owns them (for rows already reached through a visible one). */
  async findByIds(ids: string[]): Promise<E[]> {
    if (ids.length === 0) return [];
    return this.orm.createQueryBuilder('t').where('t.id IN (:...ids)', { ids }).getMany();
  }

  /** A page of the rows within `scope` that match every defined `filters` column, newest first. */
  async page(query: PageQuery, scope: string | undefined, filters: Record<string, string | undefined> = {}): Promise<Page<E>> {
    const qb = this.orm.createQueryBuilder('t');
    if (scope !== undefined) qb.andWhere(`t.${this.tenant.ownerColumn} = :scope`, { scope });
    for (const [column, value] of Object.entries(filters)) {
      if (value !== undefined) qb.andWhere(`t.${column} = :${column}`, { [column]: value });
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    // limit + 1 rows tell whether another page follows.
    qb.orderBy('t.id', 'DESC').limit(limit + 1);
    if (query.cursor) qb.andWhere('t.id < :cursor', { cursor: query.cursor });
    const offset = pageOffset(query, limit);
    if (offset > 0) qb.offset(offset);
    const rows = await qb.getMany();
    const data = rows.slice(0, limit);
    return { data, next: rows.length > limit ? data[data.length - 1].id : null };
  }
}

/** The same page with each row mapped (entity to DTO). */
export function mapPage<R, T>(page: Page<R>, map: (rows: R[]) => T[]): Page<T> {
  return { data: map(page.data), next: page.next };
}
