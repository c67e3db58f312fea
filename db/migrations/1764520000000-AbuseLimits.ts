import { MigrationInterface, QueryRunner } from 'typeorm';

const EVENT_TYPE = "ENUM('impression','start','firstQuartile','midpoint','thirdQuartile','complete','click')";

/**
 * Abuse limits: API keys remember the key that minted them (revoking a key revokes what it minted),
 * and unverifiable beacons are counted per hour and reason, with only a bounded sample kept as rows.
 */
export class AbuseLimits1764520000000 implements MigrationInterface {
  name = 'AbuseLimits1764520000000';

  async up(q: QueryRunner): Promise<void> {
    // NULL for keys minted by the admin (and for every key issued before this migration).
    await q.query(`ALTER TABLE api_keys
      ADD COLUMN parent_key_id CHAR(36) NULL AFTER advertiser_id,
      ADD KEY ix_api_keys_parent (parent_key_id),
      ADD CONSTRAINT fk_api_keys_parent FOREIGN KEY (parent_key_id) REFERENCES api_keys (id)`);

    // Every unverifiable beacon is counted here; rejected_events keeps a bounded sample of them.
    await q.query(`CREATE TABLE rejected_event_counts (
      hour DATETIME NOT NULL,
      reason VARCHAR(32) CHARACTER SET ascii NOT NULL,
      event_type ${EVENT_TYPE} NOT NULL,
      events BIGINT UNSIGNED NOT NULL,
      PRIMARY KEY (hour, reason, event_type)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`INSERT INTO rejected_event_counts (hour, reason, event_type, events)
      SELECT DATE_FORMAT(received_at, '%Y-%m-%d %H:00:00'), reason, event_type, COUNT(*) FROM rejected_events GROUP BY 1, 2, 3`);
    // A sample row takes one of REJECTED_SAMPLES_PER_HOUR slots of its hour and reason; the unique key
    // bounds the sample without a read. Rows stored before this migration have no slot (NULLs never clash).
    await q.query(`ALTER TABLE rejected_events
      ADD COLUMN sample_hour DATETIME NULL,
      ADD COLUMN sample_slot SMALLINT UNSIGNED NULL,
      ADD UNIQUE KEY uq_rejected_events_sample (sample_hour, reason, sample_slot)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE rejected_events DROP KEY uq_rejected_events_sample, DROP COLUMN sample_slot, DROP COLUMN sample_hour');
    await q.query('DROP TABLE rejected_event_counts');
    await q.query('ALTER TABLE api_keys DROP FOREIGN KEY fk_api_keys_parent, DROP KEY ix_api_keys_parent, DROP COLUMN parent_key_id');
  }
}
