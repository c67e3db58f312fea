import type { EntityManager, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { ListQueryDto } from '../dto/common.dto';
import { staleVersion } from '../http/errors';

export const DEFAULT_PAGE_SIZE = 20;

export interface Page<T> {
  data: T[];
  next: string | null;
}

/**
 * Cuts a `limit + 1` query result into a page: ids are UUIDv7, so `ORDER BY id DESC` is newest
 * first and the last id of the page is the cursor of the next one.
 */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (rows: R[]) => T[]): Page<T> {
  const pageRows = rows.slice(0, limit);
  return { data: map(pageRows), next: rows.length > limit ? pageRows[pageRows.length - 1].id : null };
}

/**
 * Newest first, `limit + 1` rows after the cursor (or from the 1-based `page`), so that toPage can
 * tell whether another page follows. Returns the page size.
 */
export function paginate<E extends ObjectLiteral>(qb: SelectQueryBuilder<E>, alias: string, query: ListQueryDto): number {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  qb.orderBy(`${alias}.id`, 'DESC').limit(limit + 1);
  if (query.cursor) qb.andWhere(`${alias}.id < :cursor`, { cursor: query.cursor });
  else if (query.page && query.page > 1) qb.offset((query.page - 1) * limit);
  return limit;
}

/**
 * `UPDATE ... SET ..., version = version + 1 WHERE id = ? AND version = ?`: a concurrent change in
 * between makes it match no row, answered 409 instead of overwriting that change.
 */
export async function updateVersioned<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  kind: string,
  id: string,
  expectedVersion: number,
  patch: Record<string, unknown>,
  actor: string,
  now: Date,
): Promise<void> {
  const result = await manager
    .createQueryBuilder()
    .update(entity)
    .set({ ...patch, version: () => 'version + 1', updatedAt: now, updatedBy: actor } as never)
    .where('id = :id AND version = :version', { id, version: expectedVersion })
    .execute();
  if (!result.affected) throw staleVersion(kind, id, expectedVersion);
}

export function iso(date: Date): string {
  return date.toISOString();
}

export function isoOrNull(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

export function auditOf(row: { version: number; createdAt: Date; updatedAt: Date; createdBy: string; updatedBy: string }) {
  return { version: row.version, createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt), createdBy: row.createdBy, updatedBy: row.updatedBy };
}
