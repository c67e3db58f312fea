import { MigrationInterface, QueryRunner } from 'typeorm';

const ID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';
const COUNTER = 'BIGINT UNSIGNED NOT NULL DEFAULT 0';

/**
 * Billed spend capped at budgets: each billable raw event is billed or written off once, by the
 * aggregation, against a ledger of what each line item and campaign has been billed so far. Rollups
 * carry the written-off spend beside the billed spend, so that reports show both.
 */
export class BudgetLedger1764500000000 implements MigrationInterface {
  name = 'BudgetLedger1764500000000';

  async up(q: QueryRunner): Promise<void> {
    // Instant ADD COLUMN (MariaDB 10.3+, MySQL 8.0.12+): no table copy on a large raw_events.
    await q.query('ALTER TABLE raw_events ADD COLUMN written_off TINYINT(1) NOT NULL DEFAULT 0');
    for (const table of ['event_rollups_hourly', 'event_rollups_daily']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN written_off_events ${COUNTER}, ADD COLUMN written_off_mmicros ${COUNTER}`);
    }
    await q.query(`CREATE TABLE spend_ledger (
      account_kind ENUM('line_item','campaign') NOT NULL,
      account_id ${ID} NOT NULL,
      billed_events ${COUNTER},
      billed_mmicros ${COUNTER},
      written_off_events ${COUNTER},
      written_off_mmicros ${COUNTER},
      updated_at DATETIME(3) NULL,
      PRIMARY KEY (account_kind, account_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // What was rolled up before this migration was billed as it stood; the ledger starts from it.
    await q.query(`INSERT INTO spend_ledger (account_kind, account_id, billed_events, billed_mmicros, updated_at)
      SELECT 'line_item', line_item_id, SUM(billable_events), SUM(spend_mmicros), NOW(3) FROM event_rollups_hourly GROUP BY line_item_id`);
    await q.query(`INSERT INTO spend_ledger (account_kind, account_id, billed_events, billed_mmicros, updated_at)
      SELECT 'campaign', campaign_id, SUM(billable_events), SUM(spend_mmicros), NOW(3) FROM event_rollups_hourly GROUP BY campaign_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE spend_ledger');
    for (const table of ['event_rollups_hourly', 'event_rollups_daily']) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN written_off_events, DROP COLUMN written_off_mmicros`);
    }
    await q.query('ALTER TABLE raw_events DROP COLUMN written_off');
  }
}
