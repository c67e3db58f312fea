import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillReachSketches } from '../../libs/measurement/src/reach/reach-sketch.store';

const ID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin';
const CELL = `line_item_id ${ID} NOT NULL,
      creative_id ${ID} NOT NULL,
      country CHAR(2) CHARACTER SET ascii NOT NULL,
      platform VARCHAR(16) CHARACTER SET ascii NOT NULL`;
/** A serialized ReachSketch: the exact hashes (8 bytes each) of a small set, 128 KiB of registers past 16,384. */
const SKETCH = 'MEDIUMBLOB NOT NULL';
const TABLES = ['reach_sketches_campaign_daily', 'reach_sketches_line_item_daily', 'reach_sketches_daily', 'reach_sketches_hourly'];

/**
 * Distinct-listener sketches kept with the rollups (see libs/measurement/src/reach): reach over any
 * range, also once `reach_hourly`'s old days are dropped. Keyed campaign first, then time, like the
 * rollups. An installation with reach rows gets their sketches built here, from `reach_hourly`.
 */
export class ReachSketches1765000000000 implements MigrationInterface {
  name = 'ReachSketches1765000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, time] of [['reach_sketches_hourly', 'hour DATETIME'], ['reach_sketches_daily', 'day DATE']]) {
      await q.query(`CREATE TABLE ${table} (
      campaign_id ${ID} NOT NULL,
      ${time} NOT NULL,
      ${CELL},
      sketch ${SKETCH},
      PRIMARY KEY (campaign_id, ${time.split(' ')[0]}, line_item_id, creative_id, country, platform)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    }
    await q.query(`CREATE TABLE reach_sketches_line_item_daily (
      campaign_id ${ID} NOT NULL,
      day DATE NOT NULL,
      line_item_id ${ID} NOT NULL,
      sketch ${SKETCH},
      PRIMARY KEY (campaign_id, day, line_item_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`CREATE TABLE reach_sketches_campaign_daily (
      campaign_id ${ID} NOT NULL,
      day DATE NOT NULL,
      sketch ${SKETCH},
      PRIMARY KEY (campaign_id, day)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await backfillReachSketches(q);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`DROP TABLE ${table}`);
  }
}
