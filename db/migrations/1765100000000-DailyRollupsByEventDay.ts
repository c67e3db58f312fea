import { MigrationInterface, QueryRunner } from 'typeorm';
import { ROLLUP_COUNTERS } from '../../libs/measurement/src/aggregation/aggregation.sql';

/**
 * Repairs `event_rollups_daily`. Since raw_events got its `event_day` column (the decision's day, the
 * partitioning key), the daily upsert's `GROUP BY … event_day` took that column instead of its own
 * alias for DATE(occurred_at): a decision's events played after UTC midnight were counted on the day it
 * was issued. The hourly rollups were right (same dimensions and counters, never pruned), so the daily
 * rows are rebuilt as their sums per UTC day, under the aggregation watermark's lock so that no batch
 * adds to either table meanwhile.
 */
export class DailyRollupsByEventDay1765100000000 implements MigrationInterface {
  name = 'DailyRollupsByEventDay1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query("SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups' FOR UPDATE");
    await q.query('DELETE FROM event_rollups_daily');
    await q.query(`INSERT INTO event_rollups_daily (campaign_id, day, line_item_id, creative_id, country, platform, advertiser_id, ${ROLLUP_COUNTERS.join(', ')})
      SELECT campaign_id, DATE(hour), line_item_id, creative_id, country, platform, MIN(advertiser_id), ${ROLLUP_COUNTERS.map((c) => `SUM(${c})`).join(', ')}
      FROM event_rollups_hourly GROUP BY campaign_id, DATE(hour), line_item_id, creative_id, country, platform`);
  }

  async down(): Promise<void> {
    // Nothing to undo: the rebuilt rows are what the daily rollups should always have held.
  }
}
