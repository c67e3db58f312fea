import { TenantRepository } from '@app/platform';
import type { ObjectLiteral } from 'typeorm';
import type { AuditedEntity } from '../entities/audited.entity';
import { staleVersion } from '../http/errors';

/** A tenant's versioned rows (see AuditedEntity): inserted whole, changed only at the version last read. */
export class AuditedRepository<E extends ObjectLiteral & AuditedEntity & { id: string }> extends TenantRepository<E> {
  async insert(row: E): Promise<void> {
    await this.orm.insert(row as never);
  }

  /**
   * `UPDATE ... SET ..., version = version + 1 WHERE id = ? AND version = ?`: a concurrent change in
   * between makes it match no row, answered 409 instead of overwriting that change.
   */
  async updateVersioned(kind: string, id: string, expectedVersion: number, patch: Partial<E>, actor: string, now: Date): Promise<void> {
    const result = await this.manager
      .createQueryBuilder()
      .update(this.tenant.entity)
      .set({ ...patch, version: () => 'version + 1', updatedAt: now, updatedBy: actor } as never)
      .where('id = :id AND version = :version', { id, version: expectedVersion })
      .execute();
    if (!result.affected) throw staleVersion(kind, id, expectedVersion);
  }
}
