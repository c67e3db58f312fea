import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { onOneConnection } from '@app/platform';
import type { Queryable } from '@app/platform';
import { DataSource, QueryRunner } from 'typeorm';
import { DayPartitionedTable, PARTITION_MAX, dayPartitionSql, isoDay, partitionDay, partitionName } from '../retention/day-partitions';

/** One partition of a day-partitioned table, as information_schema lists it. */
export interface PartitionInfo {
  name: string;
  /** The day it holds, or null for `pold` and `pmax`. */
  day: number | null;
  /** InnoDB's estimate (exact counts are taken only where a rule needs them). */
  estimatedRows: number;
}

/** What the export recorded for one day of raw events (data_exports, filled by the export and its verification). */
export interface ExportRecord {
  state: 'running' | 'exported' | 'verified' | 'mismatch' | 'failed';
  partial: boolean;
  /** Rows the verified manifest holds. */
  rows: number | null;
}

/** Seconds a partition job waits for another process's run to finish before giving up (and retrying later). */
const LOCK_WAIT_SECONDS = 30;

/**
 * The SQL of day partitions: listing, adding days, counting, dropping, and the records around them.
 * Partition DDL runs on one connection holding a named lock per database, so that any number of
 * workers may run the partition and retention jobs at once without racing each other's ALTERs.
 */
@Injectable()
export class PartitionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` on one connection while holding this database's partition lock. */
  locked<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    return onOneConnection(this.dataSource, async (runner) => {
      const [row] = (await runner.query('SELECT DATABASE() AS db')) as Array<{ db: string }>;
      const lock = `adp-partitions-${row.db}`.slice(0, 64);
      const [got] = (await runner.query('SELECT GET_LOCK(?, ?) AS ok', [lock, LOCK_WAIT_SECONDS])) as Array<{ ok: number | null }>;
      if (Number(got?.ok) !== 1) throw new Error(`partition lock ${lock} not obtained within ${LOCK_WAIT_SECONDS} s`);
      try {
        return await work(runner);
      } finally {
        await runner.query('SELECT RELEASE_LOCK(?)', [lock]);
      }
    });
  }

  async list(spec: DayPartitionedTable, runner: QueryRunner | DataSource = this.dataSource): Promise<PartitionInfo[]> {
    const rows = (await runner.query(
      `SELECT PARTITION_NAME AS name, TABLE_ROWS AS estimated FROM information_schema.PARTITIONS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION`,
      [spec.table],
    )) as Array<{ name: string; estimated: string | number | null }>;
    return rows.map((r) => ({ name: r.name, day: partitionDay(r.name), estimatedRows: Number(r.estimated ?? 0) }));
  }

  /** Splits `pmax` into the given days (ascending, all after the last day partition) and a new `pmax`. */
  async addDays(runner: QueryRunner, spec: DayPartitionedTable, days: number[]): Promise<void> {
    if (days.length === 0) return;
    const parts = days.map((day) => dayPartitionSql(spec, day));
    await runner.query(`ALTER TABLE ${spec.table} REORGANIZE PARTITION ${PARTITION_MAX} INTO (${parts.join(', ')}, PARTITION ${PARTITION_MAX} VALUES LESS THAN (MAXVALUE))`);
  }

  /** The exact number of rows in one day's partition. */
  async countRows(runner: QueryRunner, spec: DayPartitionedTable, day: number): Promise<number> {
    const [row] = (await runner.query(`SELECT COUNT(*) AS n FROM ${spec.table} PARTITION (${partitionName(day)})`)) as Array<{ n: string }>;
    return Number(row.n);
  }

  /** Whether a day's raw events include any the aggregation has not rolled up yet (above its watermark). */
  async holdsUnaggregated(runner: QueryRunner, day: number): Promise<boolean> {
    const rows = (await runner.query(
      `SELECT 1 FROM raw_events PARTITION (${partitionName(day)}) WHERE id > (SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups') LIMIT 1`,
    )) as unknown[];
    return rows.length > 0;
  }

  async drop(runner: QueryRunner, spec: DayPartitionedTable, day: number): Promise<void> {
    await runner.query(`ALTER TABLE ${spec.table} DROP PARTITION ${partitionName(day)}`);
  }

  async recordDrop(runner: QueryRunner, spec: DayPartitionedTable, day: number, rows: number): Promise<void> {
    await runner.query('INSERT INTO partition_drops (table_name, day, `rows`, dropped_at) VALUES (?, ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE `rows` = VALUES(`rows`), dropped_at = VALUES(dropped_at)', [
      spec.table,
      isoDay(day),
      rows,
    ]);
  }

  /** The raw-event export records of some days, by day number. */
  async rawEventExports(runner: QueryRunner, days: number[]): Promise<Map<number, ExportRecord>> {
    if (days.length === 0) return new Map();
    const rows = (await runner.query(
      "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, state, `partial`, `rows` FROM data_exports WHERE table_name = 'raw_events' AND day IN (?)",
      [days.map(isoDay)],
    )) as Array<{ day: string; state: ExportRecord['state']; partial: number; rows: string | null }>;
    return new Map(rows.map((r) => [Date.parse(`${r.day}T00:00:00Z`) / 86_400_000, { state: r.state, partial: Number(r.partial) === 1, rows: r.rows === null ? null : Number(r.rows) }]));
  }

  /**
   * Marks a verified raw-event day as a mismatch (rows landed or vanished since its verification), so that
   * the export runs it again; only if it is still the verified record that was checked.
   */
  async markExportMismatch(runner: QueryRunner, day: number, verifiedRows: number | null, foundRows: number): Promise<void> {
    await runner.query(
      "UPDATE data_exports SET state = 'mismatch', verification = JSON_OBJECT('by', 'retention', 'rows', ?, 'mysqlRows', ?, 'at', DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%fZ')) WHERE day = ? AND table_name = 'raw_events' AND state = 'verified' AND `rows` <=> ?",
      [verifiedRows, foundRows, isoDay(day), verifiedRows],
    );
  }

  /** Deletes rejected-beacon counts of hours before `before` (a few rows per hour). */
  async deleteRejectedCounts(runner: QueryRunner, before: Date): Promise<number> {
    const result = (await runner.query('DELETE FROM rejected_event_counts WHERE hour < ?', [before])) as { affectedRows?: number };
    return result.affectedRows ?? 0;
  }

  /**
   * The newest day dropped from raw_events (`YYYY-MM-DD`, null while none was). In a transaction, it
   * holds off retention's next drop until the transaction ends: the table's metadata lock, then a
   * locking read of partition_drops.
   */
  async newestRawEventsDropHeld(db: Queryable): Promise<string | null> {
    await db.query('SELECT 1 FROM raw_events LIMIT 0');
    const [row] = await db.query<Array<{ day: string | null }>>("SELECT DATE_FORMAT(MAX(day), '%Y-%m-%d') AS day FROM partition_drops WHERE table_name = 'raw_events' LOCK IN SHARE MODE");
    return row?.day ?? null;
  }

  /** Rows and partitions dropped so far per table (partition_drops). */
  async dropTotals(): Promise<Array<{ table: string; partitions: number; rows: number; newestDay: string | null }>> {
    const rows = (await this.dataSource.query(
      "SELECT table_name AS t, COUNT(*) AS partitions, COALESCE(SUM(`rows`), 0) AS `rows`, DATE_FORMAT(MAX(day), '%Y-%m-%d') AS newest FROM partition_drops GROUP BY table_name",
    )) as Array<{ t: string; partitions: string; rows: string; newest: string | null }>;
    return rows.map((r) => ({ table: r.t, partitions: Number(r.partitions), rows: Number(r.rows), newestDay: r.newest }));
  }
}
