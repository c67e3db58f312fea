import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An advertiser-scoped API key. Only the SHA-256 of the key is stored; the key is shown once. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Index()
  @Column({ name: 'advertiser_id', type: 'char', length: 36 })
  advertiserId: string;

  /** The key that minted this one (an advertiser key), or null when the admin did; revoking it revokes this. */
  @Index()
  @Column({ name: 'parent_key_id', type: 'char', length: 36, nullable: true })
  parentKeyId: string | null;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** First characters of the key, kept to help people recognise it in lists. */
  @Column({ name: 'key_prefix', type: 'varchar', length: 16 })
  keyPrefix: string;

  @Column({ name: 'key_hash', type: 'char', length: 64, unique: true })
  keyHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy: string;

  @Column({ name: 'revoked_at', type: 'datetime', precision: 3, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 64, nullable: true })
  revokedBy: string | null;
}
