import { MigrationInterface, QueryRunner } from 'typeorm';

const DAY_MS = 86_400_000;
/** Days made ahead of today; the worker's partition job keeps it so from then on. */
const DAYS_AHEAD = 7;

interface Spec {
  table: string;
  column: string;
  type: 'date' | 'datetime';
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const bound = (spec: Spec, day: number) => `'${isoDay(day)}${spec.type === 'date' ? '' : ' 00:00:00'}'`;

/**
 * `pold` below the first day, `pYYYYMMDD` per day up to DAYS_AHEAD after today, `pmax` above. Written
 * out here rather than imported (libs/measurement/src/retention/day-partitions.ts builds the same
 * clause) so that this migration stays what it was when it ran.
 */
function partitionBy(spec: Spec, from: number, to: number): string {
  const parts = [`PARTITION pold VALUES LESS THAN (${bound(spec, from)})`];
  for (let day = from; day <= to; day++) parts.push(`PARTITION p${isoDay(day).replaceAll('-', '')} VALUES LESS THAN (${bound(spec, day + 1)})`);
  parts.push('PARTITION pmax VALUES LESS THAN (MAXVALUE)');
  return `PARTITION BY RANGE COLUMNS(${spec.column}) (${parts.join(', ')})`;
}

/** From the oldest day with rows (or today) to DAYS_AHEAD after today. */
async function dayRange(q: QueryRunner, spec: Spec): Promise<[number, number]> {
  const today = Math.floor(Date.now() / DAY_MS);
  const [row] = (await q.query(`SELECT DATE_FORMAT(MIN(${spec.column}), '%Y-%m-%d') AS first FROM ${spec.table}`)) as Array<{ first: string | null }>;
  const first = row?.first ? Date.parse(`${row.first}T00:00:00Z`) / DAY_MS : today;
  return [Math.min(first, today), today + DAYS_AHEAD];
}

const RAW: Spec = { table: 'raw_events', column: 'event_day', type: 'date' };
const REACH: Spec = { table: 'reach_hourly', column: 'hour', type: 'datetime' };
const REJECTED: Spec = { table: 'rejected_events', column: 'sample_hour', type: 'datetime' };

/**
 * Day partitions for the tables that grow per event or per listener, so that retention drops a day
 * at once instead of deleting it row by row (docs/data-lifecycle.md):
 * - raw_events by `event_day`, the decision's UTC day, which every event of a decision shares; the
 *   identity becomes (decision_id, event_type, event_day) and the primary key (id, event_day), as
 *   partitioning requires, and stays as unique as before since a decision fixes its day. `id` keeps
 *   its auto-increment (the aggregation watermark).
 * - reach_hourly by `hour` (already in its primary key);
 * - rejected_events by `sample_hour` (the hour it was received, already in its sample key).
 * Existing rows are kept: each table is rebuilt once, with a partition for every day it holds.
 */
export class DayPartitions1764900000000 implements MigrationInterface {
  name = 'DayPartitions1764900000000';

  async up(q: QueryRunner): Promise<void> {
    // The decision time was not stored before: a decision's day is taken from its earliest event time
    // (occurred_at is never before the decision), the same for all its rows. The default serves
    // writers other than ingestion (fixtures, benchmarks); ingestion always writes the token's day.
    await q.query('ALTER TABLE raw_events ADD COLUMN event_day DATE NOT NULL DEFAULT (DATE(occurred_at)) AFTER event_type');
    await q.query(`UPDATE raw_events r
      JOIN (SELECT decision_id, MIN(event_day) AS first_day FROM raw_events GROUP BY decision_id HAVING COUNT(DISTINCT event_day) > 1) d ON d.decision_id = r.decision_id
      SET r.event_day = d.first_day`);
    const [rawFrom, rawTo] = await dayRange(q, RAW);
    await q.query(`ALTER TABLE raw_events
      DROP PRIMARY KEY, ADD PRIMARY KEY (id, event_day),
      DROP KEY uq_raw_events_identity, ADD UNIQUE KEY uq_raw_events_identity (decision_id, event_type, event_day)
      ${partitionBy(RAW, rawFrom, rawTo)}`);

    const [reachFrom, reachTo] = await dayRange(q, REACH);
    await q.query(`ALTER TABLE reach_hourly ${partitionBy(REACH, reachFrom, reachTo)}`);

    // Samples stored before sample hours existed get theirs (no slot: they never collide).
    await q.query("UPDATE rejected_events SET sample_hour = DATE_FORMAT(received_at, '%Y-%m-%d %H:00:00') WHERE sample_hour IS NULL");
    const [rejectedFrom, rejectedTo] = await dayRange(q, REJECTED);
    await q.query(`ALTER TABLE rejected_events
      MODIFY sample_hour DATETIME NOT NULL,
      DROP PRIMARY KEY, ADD PRIMARY KEY (id, sample_hour)
      ${partitionBy(REJECTED, rejectedFrom, rejectedTo)}`);

    // What retention dropped: one row per table and day (audit, metrics, and where billing stops recomputing from raw events).
    await q.query(`CREATE TABLE partition_drops (
      table_name VARCHAR(32) CHARACTER SET ascii NOT NULL,
      day DATE NOT NULL,
      \`rows\` BIGINT UNSIGNED NOT NULL,
      dropped_at DATETIME(3) NOT NULL,
      PRIMARY KEY (table_name, day)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    // A month whose first raw events are past retention is no longer recomputed from them (NULL).
    await q.query('ALTER TABLE invoice_reconciliations MODIFY raw_units BIGINT NULL, MODIFY raw_mmicros BIGINT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM invoice_reconciliations WHERE raw_units IS NULL');
    await q.query('ALTER TABLE invoice_reconciliations MODIFY raw_units BIGINT NOT NULL, MODIFY raw_mmicros BIGINT NOT NULL');
    await q.query('DROP TABLE partition_drops');
    await q.query('ALTER TABLE rejected_events REMOVE PARTITIONING');
    await q.query('ALTER TABLE rejected_events DROP PRIMARY KEY, ADD PRIMARY KEY (id), MODIFY sample_hour DATETIME NULL');
    await q.query('ALTER TABLE reach_hourly REMOVE PARTITIONING');
    await q.query('ALTER TABLE raw_events REMOVE PARTITIONING');
    await q.query(`ALTER TABLE raw_events
      DROP KEY uq_raw_events_identity, ADD UNIQUE KEY uq_raw_events_identity (decision_id, event_type),
      DROP PRIMARY KEY, ADD PRIMARY KEY (id), DROP COLUMN event_day`);
  }
}
