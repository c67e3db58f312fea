import { MigrationInterface, QueryRunner } from 'typeorm';

const ID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';
const COUNTER = 'BIGINT UNSIGNED NOT NULL DEFAULT 0';
const QUARTER_COUNTERS = ['impressions', 'starts', 'first_quartiles', 'midpoints', 'third_quartiles', 'completes', 'clicks', 'invalid_impressions', 'invalid_clicks', 'invalid_events', 'invalid_expired', 'invalid_bot', 'invalid_sequence', 'invalid_rate', 'billable_events', 'spend_mmicros', 'written_off_events', 'written_off_mmicros'];
const BILLABLE = "status = 'valid' AND ((pricing_model = 'CPM' AND event_type = 'impression') OR (pricing_model = 'CPC' AND event_type = 'click') OR (pricing_model = 'CPCL' AND event_type = 'complete'))";
const SPEND = `IF(${BILLABLE}, IF(pricing_model = 'CPM', rate_micros, rate_micros * 1000), 0)`;
const QUARTER = 'DATE_ADD(DATE(occurred_at), INTERVAL HOUR(occurred_at) * 60 + FLOOR(MINUTE(occurred_at) / 15) * 15 MINUTE)';
const IMMUTABLE = "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT";

/**
 * Billing: quarter-hour rollups (every zone's offset is a multiple of 15 minutes, so a month of any
 * zone is a whole number of quarters), invoices and their lines, gapless numbers per year, triggers
 * that keep issued invoices immutable, reconciliation results, and stored Idempotency-Key answers.
 */
export class Billing1764600000000 implements MigrationInterface {
  name = 'Billing1764600000000';

  async up(q: QueryRunner): Promise<void> {
    // Clustered by advertiser then quarter: an advertiser's month (billing) is one range scan; reports by
    // campaign or line item go through ix_rollups_quarter_campaign (campaign, quarter, then the key's columns).
    await q.query(`CREATE TABLE event_rollups_quarter (
      campaign_id ${ID} NOT NULL,
      quarter DATETIME NOT NULL,
      line_item_id ${ID} NOT NULL,
      advertiser_id ${ID} NOT NULL,
      ${QUARTER_COUNTERS.map((c) => `${c} ${COUNTER}`).join(',\n      ')},
      PRIMARY KEY (advertiser_id, quarter, campaign_id, line_item_id),
      KEY ix_rollups_quarter_campaign (campaign_id, quarter)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // What is already rolled up (up to the watermark) goes into the quarter rollups too; the aggregation adds the rest.
    await q.query(`INSERT INTO event_rollups_quarter (campaign_id, quarter, line_item_id, advertiser_id, ${QUARTER_COUNTERS.join(', ')})
      SELECT campaign_id, ${QUARTER} AS q, line_item_id, advertiser_id,
        SUM(status = 'valid' AND event_type = 'impression'), SUM(status = 'valid' AND event_type = 'start'),
        SUM(status = 'valid' AND event_type = 'firstQuartile'), SUM(status = 'valid' AND event_type = 'midpoint'),
        SUM(status = 'valid' AND event_type = 'thirdQuartile'), SUM(status = 'valid' AND event_type = 'complete'),
        SUM(status = 'valid' AND event_type = 'click'), SUM(status = 'invalid' AND event_type = 'impression'),
        SUM(status = 'invalid' AND event_type = 'click'), SUM(status = 'invalid'),
        SUM(status = 'invalid' AND invalid_reason = 'expired'), SUM(status = 'invalid' AND invalid_reason = 'bot'),
        SUM(status = 'invalid' AND invalid_reason IN ('no_prior_impression', 'complete_before_start')), SUM(status = 'invalid' AND invalid_reason = 'rate_limit'),
        SUM(${BILLABLE} AND written_off = 0), SUM(IF(written_off = 0, ${SPEND}, 0)),
        SUM(${BILLABLE} AND written_off = 1), SUM(IF(written_off = 1, ${SPEND}, 0))
      FROM raw_events WHERE id <= (SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups')
      GROUP BY campaign_id, q, line_item_id, advertiser_id`);

    // One draft per advertiser and period, and at most one issued or paid invoice: unique keys over
    // generated columns that are NULL otherwise (NULLs never collide), so concurrent generators cannot
    // make two.
    await q.query(`CREATE TABLE invoices (
      id ${ID} NOT NULL,
      number VARCHAR(32) CHARACTER SET ascii NULL,
      advertiser_id ${ID} NOT NULL,
      period CHAR(7) CHARACTER SET ascii NOT NULL,
      currency CHAR(3) CHARACTER SET ascii NOT NULL,
      timezone VARCHAR(64) CHARACTER SET ascii NOT NULL,
      period_start DATETIME(3) NOT NULL,
      period_end DATETIME(3) NOT NULL,
      status ENUM('draft','issued','paid','void') NOT NULL,
      cutoff_at DATETIME(3) NOT NULL,
      cutoff_event_id BIGINT UNSIGNED NOT NULL,
      issued_at DATETIME(3) NULL,
      due_at DATETIME(3) NULL,
      paid_at DATETIME(3) NULL,
      voided_at DATETIME(3) NULL,
      void_reason VARCHAR(500) NULL,
      replaced_by ${ID} NULL,
      subtotal_micros BIGINT NOT NULL DEFAULT 0,
      adjustments_micros BIGINT NOT NULL DEFAULT 0,
      total_micros BIGINT NOT NULL DEFAULT 0,
      written_off_micros BIGINT NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      open_draft TINYINT AS (IF(status = 'draft', 1, NULL)) PERSISTENT,
      live TINYINT AS (IF(status IN ('issued', 'paid'), 1, NULL)) PERSISTENT,
      PRIMARY KEY (id),
      UNIQUE KEY uq_invoices_number (number),
      UNIQUE KEY uq_invoices_open_draft (advertiser_id, period, open_draft),
      UNIQUE KEY uq_invoices_live (advertiser_id, period, live),
      KEY ix_invoices_period (period, status),
      KEY ix_invoices_created (created_at, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Exact spend (milli-micros) kept beside the rounded amount, so later adjustments round the running
    // total once and never drift.
    await q.query(`CREATE TABLE invoice_lines (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      invoice_id ${ID} NOT NULL,
      position INT UNSIGNED NOT NULL,
      kind ENUM('usage','adjustment') NOT NULL,
      advertiser_id ${ID} NOT NULL,
      campaign_id ${ID} NOT NULL,
      line_item_id ${ID} NOT NULL,
      pricing_model ENUM('CPM','CPC','CPCL') NOT NULL,
      service_period CHAR(7) CHARACTER SET ascii NOT NULL,
      billable_units BIGINT NOT NULL,
      rate_micros BIGINT NOT NULL,
      spend_mmicros BIGINT NOT NULL,
      amount_micros BIGINT NOT NULL,
      written_off_mmicros BIGINT NOT NULL,
      written_off_micros BIGINT NOT NULL,
      original_invoice_id ${ID} NULL,
      reason VARCHAR(200) NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_invoice_lines_position (invoice_id, position),
      KEY ix_invoice_lines_billed (advertiser_id, service_period, line_item_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Locked FOR UPDATE by the issuing transaction: numbers are gapless because a rolled-back issue
    // rolls its increment back too.
    await q.query(`CREATE TABLE invoice_number_counters (
      year SMALLINT UNSIGNED NOT NULL,
      last_number INT UNSIGNED NOT NULL DEFAULT 0,
      PRIMARY KEY (year)
    ) ENGINE=InnoDB`);

    await q.query(`CREATE TABLE invoice_reconciliations (
      advertiser_id ${ID} NOT NULL,
      period CHAR(7) CHARACTER SET ascii NOT NULL,
      line_item_id ${ID} NOT NULL,
      checked_at DATETIME(3) NOT NULL,
      watermark BIGINT UNSIGNED NOT NULL,
      invoiced_units BIGINT NOT NULL,
      invoiced_mmicros BIGINT NOT NULL,
      rollup_units BIGINT NOT NULL,
      rollup_mmicros BIGINT NOT NULL,
      raw_units BIGINT NOT NULL,
      raw_mmicros BIGINT NOT NULL,
      state ENUM('ok','pending','mismatch') NOT NULL,
      PRIMARY KEY (advertiser_id, period, line_item_id),
      KEY ix_reconciliations_state (state, checked_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`CREATE TABLE idempotency_keys (
      caller VARCHAR(64) CHARACTER SET ascii NOT NULL,
      idempotency_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      request_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
      state ENUM('running','done') NOT NULL,
      status_code SMALLINT UNSIGNED NULL,
      response_body MEDIUMTEXT NULL,
      started_at DATETIME(3) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      PRIMARY KEY (caller, idempotency_key),
      KEY ix_idempotency_expires (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Where the data lives: an issued invoice can only become paid or void, changing nothing else.
    await q.query(`CREATE TRIGGER trg_invoices_immutable BEFORE UPDATE ON invoices FOR EACH ROW
      BEGIN
        IF OLD.status <> 'draft' AND NOT (
          OLD.status = 'issued' AND NEW.status IN ('paid', 'void')
          AND NEW.number <=> OLD.number AND NEW.advertiser_id = OLD.advertiser_id AND NEW.period = OLD.period
          AND NEW.currency = OLD.currency AND NEW.timezone = OLD.timezone AND NEW.period_start = OLD.period_start
          AND NEW.period_end = OLD.period_end AND NEW.cutoff_at = OLD.cutoff_at AND NEW.cutoff_event_id = OLD.cutoff_event_id
          AND NEW.issued_at <=> OLD.issued_at AND NEW.due_at <=> OLD.due_at AND NEW.subtotal_micros = OLD.subtotal_micros
          AND NEW.adjustments_micros = OLD.adjustments_micros AND NEW.total_micros = OLD.total_micros
          AND NEW.written_off_micros = OLD.written_off_micros AND NEW.created_at = OLD.created_at
        ) THEN
          ${IMMUTABLE} = 'invoice is not a draft: it cannot change (only issued -> paid or void)';
        END IF;
        IF OLD.status = 'draft' AND NEW.status NOT IN ('draft', 'issued') THEN
          ${IMMUTABLE} = 'a draft can only be issued';
        END IF;
      END`);
    await q.query(`CREATE TRIGGER trg_invoices_no_delete BEFORE DELETE ON invoices FOR EACH ROW
      BEGIN
        IF OLD.status <> 'draft' THEN ${IMMUTABLE} = 'invoice is not a draft: it cannot be deleted'; END IF;
      END`);
    for (const [event, row] of [
      ['INSERT', 'NEW'],
      ['UPDATE', 'OLD'],
      ['DELETE', 'OLD'],
    ]) {
      await q.query(`CREATE TRIGGER trg_invoice_lines_${event.toLowerCase()} BEFORE ${event} ON invoice_lines FOR EACH ROW
        BEGIN
          IF (SELECT status FROM invoices WHERE id = ${row}.invoice_id) <> 'draft' THEN
            ${IMMUTABLE} = 'invoice is not a draft: its lines cannot change';
          END IF;
        END`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['trg_invoice_lines_delete', 'trg_invoice_lines_update', 'trg_invoice_lines_insert', 'trg_invoices_no_delete', 'trg_invoices_immutable']) await q.query(`DROP TRIGGER ${t}`);
    for (const t of ['idempotency_keys', 'invoice_reconciliations', 'invoice_number_counters', 'invoice_lines', 'invoices', 'event_rollups_quarter']) await q.query(`DROP TABLE ${t}`);
  }
}
