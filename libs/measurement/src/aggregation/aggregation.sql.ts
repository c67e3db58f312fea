import { BILLABLE, EVENT_SPEND_MMICROS } from '@app/delivery-ledger';

/**
 * Set-based SQL of the aggregation, run inside MySQL over one id range of raw_events
 * (`id > ? AND id <= ?`). Kept beside each other so the rollup and its benchmark baseline stay in step.
 */

/** The UTC hour of an event (DATETIME arithmetic only: no dependence on the session time zone). */
export const EVENT_HOUR = 'DATE_ADD(DATE(occurred_at), INTERVAL HOUR(occurred_at) HOUR)';

export const ROLLUP_COUNTERS = [
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
  'written_off_events',
  'written_off_mmicros',
] as const;

/** The UTC day of an event. */
export const EVENT_DAY = 'DATE(occurred_at)';

const COUNTER_SUMS = `
  SUM(status = 'valid' AND event_type = 'impression'),
  SUM(status = 'valid' AND event_type = 'start'),
  SUM(status = 'valid' AND event_type = 'firstQuartile'),
  SUM(status = 'valid' AND event_type = 'midpoint'),
  SUM(status = 'valid' AND event_type = 'thirdQuartile'),
  SUM(status = 'valid' AND event_type = 'complete'),
  SUM(status = 'valid' AND event_type = 'click'),
  SUM(status = 'invalid' AND event_type = 'impression'),
  SUM(status = 'invalid' AND event_type = 'click'),
  SUM(status = 'invalid'),
  SUM(status = 'invalid' AND invalid_reason = 'expired'),
  SUM(status = 'invalid' AND invalid_reason = 'bot'),
  SUM(status = 'invalid' AND invalid_reason IN ('no_prior_impression', 'complete_before_start')),
  SUM(status = 'invalid' AND invalid_reason IN ('rate_limit', 'ip_rate_limit')),
  SUM(${BILLABLE} AND written_off = 0),
  SUM(IF(written_off = 0, ${EVENT_SPEND_MMICROS}, 0)),
  SUM(${BILLABLE} AND written_off = 1),
  SUM(IF(written_off = 1, ${EVENT_SPEND_MMICROS}, 0))`;

/** SELECT list of the hourly rollup, in ROLLUP_COUNTERS order. */
export const ROLLUP_SELECT = `campaign_id, ${EVENT_HOUR} AS event_hour, line_item_id, creative_id, country, platform, advertiser_id,${COUNTER_SUMS}`;
export const ROLLUP_GROUP_BY = 'campaign_id, event_hour, line_item_id, creative_id, country, platform, advertiser_id';
export const ROLLUP_COLUMNS = `campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, ${ROLLUP_COUNTERS.join(', ')}`;

const ADD_COUNTERS = ROLLUP_COUNTERS.map((c) => `${c} = ${c} + VALUES(${c})`).join(', ');

/** Delivered spend of one id range per line item (the budget cap's first look: most batches fit whole). */
export const RANGE_SPEND = `SELECT line_item_id AS li, campaign_id AS cp, SUM(${EVENT_SPEND_MMICROS}) AS spend, COUNT(*) AS events
  FROM raw_events WHERE id > ? AND id <= ? AND ${BILLABLE} GROUP BY line_item_id, campaign_id`;

/** The billable events of some campaigns in one id range, in arrival order (for campaigns that reach a budget in it). */
export const RANGE_BILLABLE_EVENTS = `SELECT id, line_item_id AS li, campaign_id AS cp, ${EVENT_SPEND_MMICROS} AS cost
  FROM raw_events WHERE id > ? AND id <= ? AND campaign_id IN (?) AND ${BILLABLE} ORDER BY id`;

/** Adds one id range of raw events to the hourly rollups (late events land in their own event hour). */
export const ROLLUP_UPSERT = `INSERT INTO event_rollups_hourly (${ROLLUP_COLUMNS})
  SELECT ${ROLLUP_SELECT} FROM raw_events WHERE id > ? AND id <= ? GROUP BY ${ROLLUP_GROUP_BY}
  ON DUPLICATE KEY UPDATE ${ADD_COUNTERS}`;

/** The same range into the daily rollups. */
// The alias must not be a column of raw_events: GROUP BY takes a column before an alias of the same
// name, and raw_events.event_day (the decision's day, its partitioning key) once grouped every
// decision's events on the day it was issued.
export const DAILY_ROLLUP_UPSERT = `INSERT INTO event_rollups_daily (campaign_id, day, line_item_id, creative_id, country, platform, advertiser_id, ${ROLLUP_COUNTERS.join(', ')})
  SELECT campaign_id, ${EVENT_DAY} AS rollup_day, line_item_id, creative_id, country, platform, advertiser_id,${COUNTER_SUMS}
  FROM raw_events WHERE id > ? AND id <= ? GROUP BY campaign_id, rollup_day, line_item_id, creative_id, country, platform, advertiser_id
  ON DUPLICATE KEY UPDATE ${ADD_COUNTERS}`;

/** The UTC quarter-hour of an event: every zone's offset is a multiple of 15 minutes, so any zone's day or month is whole quarters. */
export const EVENT_QUARTER = 'DATE_ADD(DATE(occurred_at), INTERVAL HOUR(occurred_at) * 60 + FLOOR(MINUTE(occurred_at) / 15) * 15 MINUTE)';

/**
 * The same range into the quarter-hour rollups (per line item, no breakdown dimensions): billing cuts
 * months in the advertiser's zone from these (Asia/Kathmandu's months start at :15 UTC).
 */
export const QUARTER_ROLLUP_UPSERT = `INSERT INTO event_rollups_quarter (campaign_id, quarter, line_item_id, advertiser_id, ${ROLLUP_COUNTERS.join(', ')})
  SELECT campaign_id, ${EVENT_QUARTER} AS event_quarter, line_item_id, advertiser_id,${COUNTER_SUMS}
  FROM raw_events WHERE id > ? AND id <= ? GROUP BY campaign_id, event_quarter, line_item_id, advertiser_id
  ON DUPLICATE KEY UPDATE ${ADD_COUNTERS}`;

/** Adds one id range's listeners with a valid impression to the exact reach table. */
export const REACH_UPSERT = `INSERT INTO reach_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, user_hash, impressions)
  SELECT campaign_id, ${EVENT_HOUR}, line_item_id, creative_id, country, platform, user_hash, 1
  FROM raw_events WHERE id > ? AND id <= ? AND event_type = 'impression' AND status = 'valid'
  ON DUPLICATE KEY UPDATE impressions = impressions + 1`;

/** The same range's listeners per rollup cell and hour, for the reach sketches (see reach-sketch.store). */
export const REACH_SKETCH_LISTENERS = `SELECT DISTINCT campaign_id, ${EVENT_HOUR} AS hour, line_item_id, creative_id, country, platform, CAST(user_hash AS CHAR) AS user_hash
  FROM raw_events WHERE id > ? AND id <= ? AND event_type = 'impression' AND status = 'valid'`;
