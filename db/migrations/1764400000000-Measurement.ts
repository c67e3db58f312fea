import { MigrationInterface, QueryRunner } from 'typeorm';

const ID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';
const EVENT_TYPE = "ENUM('impression','start','firstQuartile','midpoint','thirdQuartile','complete','click')";
const COUNTER = 'BIGINT UNSIGNED NOT NULL DEFAULT 0';
const COUNTERS_SQL = [
  'impressions',
  'starts',
  'first_quartiles',
  'midpoints',
  'third_quartiles',
  'completes',
  'clicks',
  'invalid_impressions',
  'invalid_clicks',
  'invalid_events',
  'invalid_expired',
  'invalid_bot',
  'invalid_sequence',
  'invalid_rate',
  'billable_events',
  'spend_mmicros',
]
  .map((c) => `${c} ${COUNTER}`)
  .join(',\n      ');

/**
 * Measurement: raw events (the system of record of what was heard), rejected beacons, hourly rollups,
 * the exact reach table, and the aggregation watermark. Ids are ascii so comparisons and keys stay small.
 */
export class Measurement1764400000000 implements MigrationInterface {
  name = 'Measurement1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // The id is the aggregation watermark; (decision_id, event_type) is an event's identity.
    await q.query(`CREATE TABLE raw_events (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      decision_id ${ID} NOT NULL,
      event_type ${EVENT_TYPE} NOT NULL,
      status ENUM('valid','invalid') NOT NULL,
      invalid_reason VARCHAR(32) CHARACTER SET ascii NULL,
      occurred_at DATETIME(3) NOT NULL,
      received_at DATETIME(3) NOT NULL,
      advertiser_id ${ID} NOT NULL,
      campaign_id ${ID} NOT NULL,
      line_item_id ${ID} NOT NULL,
      creative_id ${ID} NOT NULL,
      user_id VARCHAR(128) NOT NULL,
      user_hash BIGINT UNSIGNED NOT NULL,
      country CHAR(2) CHARACTER SET ascii NOT NULL,
      platform VARCHAR(16) CHARACTER SET ascii NOT NULL,
      pricing_model ENUM('CPM','CPC','CPCL') NOT NULL,
      rate_micros BIGINT UNSIGNED NOT NULL,
      ip_hash BIGINT UNSIGNED NULL,
      ua_hash BIGINT UNSIGNED NULL,
      ingest_tag INT UNSIGNED NOT NULL,
      PRIMARY KEY (id),
      UNIQUE KEY uq_raw_events_identity (decision_id, event_type),
      KEY ix_raw_events_received (received_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Beacons whose token cannot be trusted (malformed, bad signature): kept for audit, attributable to nothing.
    await q.query(`CREATE TABLE rejected_events (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      event_type ${EVENT_TYPE} NOT NULL,
      reason VARCHAR(32) CHARACTER SET ascii NOT NULL,
      received_at DATETIME(3) NOT NULL,
      token_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
      ip_hash BIGINT UNSIGNED NULL,
      ua_hash BIGINT UNSIGNED NULL,
      PRIMARY KEY (id),
      KEY ix_rejected_events_received (received_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Spend is kept in milli-micros so CPM (rate / 1000 per impression) sums exactly; reports floor once.
    // Keyed campaign first, then hour: a campaign's report over any range is one range scan of the table.
    await q.query(`CREATE TABLE event_rollups_hourly (
      campaign_id ${ID} NOT NULL,
      hour DATETIME NOT NULL,
      line_item_id ${ID} NOT NULL,
      creative_id ${ID} NOT NULL,
      country CHAR(2) CHARACTER SET ascii NOT NULL,
      platform VARCHAR(16) CHARACTER SET ascii NOT NULL,
      advertiser_id ${ID} NOT NULL,
      ${COUNTERS_SQL},
      PRIMARY KEY (campaign_id, hour, line_item_id, creative_id, country, platform),
      KEY ix_rollups_advertiser (advertiser_id, hour),
      KEY ix_rollups_hour (hour)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // The same counters per UTC day, written in the same transaction as the hourly rows: reports by day or
    // in total over whole days read ~24x fewer rows.
    await q.query(`CREATE TABLE event_rollups_daily (
      campaign_id ${ID} NOT NULL,
      day DATE NOT NULL,
      line_item_id ${ID} NOT NULL,
      creative_id ${ID} NOT NULL,
      country CHAR(2) CHARACTER SET ascii NOT NULL,
      platform VARCHAR(16) CHARACTER SET ascii NOT NULL,
      advertiser_id ${ID} NOT NULL,
      ${COUNTERS_SQL},
      PRIMARY KEY (campaign_id, day, line_item_id, creative_id, country, platform),
      KEY ix_rollups_daily_advertiser (advertiser_id, day)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    // Exact reach: one row per user per rollup cell with a valid impression; COUNT(DISTINCT user_hash) over any range.
    await q.query(`CREATE TABLE reach_hourly (
      campaign_id ${ID} NOT NULL,
      hour DATETIME NOT NULL,
      line_item_id ${ID} NOT NULL,
      creative_id ${ID} NOT NULL,
      country CHAR(2) CHARACTER SET ascii NOT NULL,
      platform VARCHAR(16) CHARACTER SET ascii NOT NULL,
      user_hash BIGINT UNSIGNED NOT NULL,
      impressions INT UNSIGNED NOT NULL,
      PRIMARY KEY (campaign_id, hour, line_item_id, creative_id, country, platform, user_hash)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`CREATE TABLE aggregation_watermarks (
      name VARCHAR(32) CHARACTER SET ascii NOT NULL,
      last_id BIGINT UNSIGNED NOT NULL,
      batches BIGINT UNSIGNED NOT NULL DEFAULT 0,
      updated_at DATETIME(3) NULL,
      updated_by VARCHAR(128) NULL,
      PRIMARY KEY (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`INSERT INTO aggregation_watermarks (name, last_id) VALUES ('rollups', 0)`);

    // Ingest transactions share-lock this row; the aggregator takes it exclusively for an instant to learn
    // an id below which every transaction has finished (see AggregationService).
    await q.query(`CREATE TABLE ingest_fence (id TINYINT UNSIGNED NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB`);
    await q.query(`INSERT INTO ingest_fence (id) VALUES (1)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['ingest_fence', 'aggregation_watermarks', 'reach_hourly', 'event_rollups_daily', 'event_rollups_hourly', 'rejected_events', 'raw_events']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
