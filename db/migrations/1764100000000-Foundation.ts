import { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1764100000000 implements MigrationInterface {
  name = 'Foundation1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE api_keys (
      id CHAR(36) NOT NULL,
      advertiser_id CHAR(36) NOT NULL,
      name VARCHAR(100) NOT NULL,
      key_prefix VARCHAR(16) NOT NULL,
      key_hash CHAR(64) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      created_by VARCHAR(64) NOT NULL,
      revoked_at DATETIME(3) NULL,
      revoked_by VARCHAR(64) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_api_keys_hash (key_hash),
      KEY ix_api_keys_advertiser (advertiser_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`CREATE TABLE queue_probes (
      id CHAR(36) NOT NULL,
      queue VARCHAR(64) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      processed_at DATETIME(3) NULL,
      processed_by VARCHAR(128) NULL,
      PRIMARY KEY (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE queue_probes');
    await q.query('DROP TABLE api_keys');
  }
}
