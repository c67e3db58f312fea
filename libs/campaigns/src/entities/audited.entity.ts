import { Column } from 'typeorm';

/**
 * Columns every campaign-management table carries: audit (when and which key) and `version`, bumped
 * on every change and checked in `WHERE id = ? AND version = ?` so concurrent writes never overwrite
 * each other silently. Times are set by the application in UTC.
 */
export abstract class AuditedEntity {
  @Column({ type: 'int', unsigned: true, default: 1 })
  version: number;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy: string;

  @Column({ name: 'updated_by', type: 'varchar', length: 64 })
  updatedBy: string;
}
