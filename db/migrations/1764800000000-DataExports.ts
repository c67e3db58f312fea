import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The warehouse export's state, one row per (UTC day, exported table). The export job owns `running` to
 * `exported`; verification moves a day to `verified` or `mismatch`; retention drops a day's raw-event
 * partition only when its `raw_events` row is `verified` and not `partial`.
 */
export class DataExports1764800000000 implements MigrationInterface {
  name = 'DataExports1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE data_exports (
      day DATE NOT NULL,
      table_name VARCHAR(32) CHARACTER SET ascii NOT NULL,
      state ENUM('running','exported','verified','mismatch','failed') NOT NULL,
      \`partial\` TINYINT(1) NOT NULL DEFAULT 0,
      \`rows\` BIGINT UNSIGNED NULL,
      manifest JSON NULL,
      verification JSON NULL,
      error VARCHAR(1000) NULL,
      run_id VARCHAR(64) CHARACTER SET ascii NULL,
      started_at DATETIME(3) NOT NULL,
      finished_at DATETIME(3) NULL,
      verified_at DATETIME(3) NULL,
      PRIMARY KEY (day, table_name),
      KEY ix_data_exports_state (state, day)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE data_exports');
  }
}
