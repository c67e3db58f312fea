import { WorkerConfig } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { DAY_MS, DayPartitionedTable, RAW_EVENTS, REACH_HOURLY, REJECTED_EVENTS, isoDay, lastExpiredDay } from './day-partitions';
import { PartitionsRepository } from '../repositories/partitions.repository';

/** Why a day past its retention is still there. */
export type KeptReason =
  /** No export of the day's raw events yet, or one still running, failed or found different from MySQL. */
  | 'not_verified'
  /** The verified export was of a day not yet over (a partial export): it must be exported again. */
  | 'export_partial'
  /** The day's rows changed since its verification (late events): marked 'mismatch' so the export reruns. */
  | 'rows_changed'
  /** Some of the day's raw events are above the aggregation watermark (not in the rollups yet). */
  | 'not_aggregated'
  /** reach_hourly: the same day of raw events is still kept (reach is dropped with or after them, never before). */
  | 'raw_events_kept';

export interface RetentionRun {
  /** Partitions dropped by this run, with the rows they held. */
  dropped: Array<{ table: string; day: string; rows: number }>;
  /** Days past their retention that were kept, and why. */
  kept: Array<{ table: string; day: string; reason: KeptReason }>;
  /** Hours of rejected-beacon counts deleted. */
  rejectedCountsDeleted: number;
}

/**
 * Retention of the day-partitioned tables, one rule per table, each applied by dropping whole day
 * partitions (instant, never a long DELETE):
 * - raw_events: a day older than RAW_EVENTS_RETENTION_DAYS goes only when its warehouse export is
 *   verified and complete (data_exports: state 'verified', not partial), none of its events is still
 *   above the aggregation watermark, and, counted right before the drop, it holds exactly the rows
 *   the verified manifest holds. Whatever the clock says, an unverified day stays.
 * - reach_hourly (exact reach, per listener and hour): a day past the same retention goes once that
 *   day's raw events are gone, so it can always be recomputed from the export.
 * - rejected_events (unverifiable beacons, attributable to nothing and never exported): days older
 *   than REJECTED_EVENTS_RETENTION_DAYS, and their hourly counts.
 * Rollups are never pruned: reports over a pruned range answer from them.
 */
@Injectable()
export class DataRetention {
  private readonly logger = new Logger(DataRetention.name);

  constructor(
    private readonly partitions: PartitionsRepository,
    private readonly config: WorkerConfig,
  ) {}

  async run(nowMs: number = Date.now()): Promise<RetentionRun> {
    const rawLast = lastExpiredDay(nowMs, this.config.RAW_EVENTS_RETENTION_DAYS);
    const rejectedLast = lastExpiredDay(nowMs, this.config.REJECTED_EVENTS_RETENTION_DAYS);
    return this.partitions.locked(async (runner) => {
      const run: RetentionRun = { dropped: [], kept: [], rejectedCountsDeleted: 0 };
      const keep = (spec: DayPartitionedTable, day: number, reason: KeptReason) => run.kept.push({ table: spec.table, day: isoDay(day), reason });

      const rawDays = await this.expiredDays(runner, RAW_EVENTS, rawLast);
      const exports = await this.partitions.rawEventExports(runner, rawDays);
      for (const day of rawDays) {
        const record = exports.get(day);
        if (record?.state !== 'verified') keep(RAW_EVENTS, day, 'not_verified');
        else if (record.partial) keep(RAW_EVENTS, day, 'export_partial');
        else if (await this.partitions.holdsUnaggregated(runner, day)) keep(RAW_EVENTS, day, 'not_aggregated');
        else {
          // Late events (invalid ones arrive until the day is past ingestion's floor) may have landed since the verification.
          const rows = await this.partitions.countRows(runner, RAW_EVENTS, day);
          if (rows !== record.rows) {
            await this.partitions.markExportMismatch(runner, day, record.rows, rows);
            this.logger.warn(`raw_events ${isoDay(day)}: ${rows} row(s) in MySQL, ${record.rows} in the verified export; marked mismatch for a new export`);
            keep(RAW_EVENTS, day, 'rows_changed');
          } else await this.drop(runner, run, RAW_EVENTS, day, rows);
        }
      }

      const rawLeft = new Set(await this.expiredDays(runner, RAW_EVENTS, rawLast));
      for (const day of await this.expiredDays(runner, REACH_HOURLY, rawLast)) {
        if (rawLeft.has(day)) keep(REACH_HOURLY, day, 'raw_events_kept');
        else await this.drop(runner, run, REACH_HOURLY, day, await this.partitions.countRows(runner, REACH_HOURLY, day));
      }

      for (const day of await this.expiredDays(runner, REJECTED_EVENTS, rejectedLast)) {
        await this.drop(runner, run, REJECTED_EVENTS, day, await this.partitions.countRows(runner, REJECTED_EVENTS, day));
      }
      run.rejectedCountsDeleted = await this.partitions.deleteRejectedCounts(runner, new Date((rejectedLast + 1) * DAY_MS));

      if (run.kept.length > 0) {
        const summary = new Map<string, number>();
        for (const k of run.kept) summary.set(`${k.table} ${k.reason}`, (summary.get(`${k.table} ${k.reason}`) ?? 0) + 1);
        this.logger.log(`kept past retention: ${[...summary].map(([what, n]) => `${what} x${n}`).join(', ')}`);
      }
      return run;
    });
  }

  /** The day partitions of a table up to `lastDay`, oldest first. */
  private async expiredDays(runner: QueryRunner, spec: DayPartitionedTable, lastDay: number): Promise<number[]> {
    return (await this.partitions.list(spec, runner)).map((p) => p.day).filter((d): d is number => d !== null && d <= lastDay);
  }

  private async drop(runner: QueryRunner, run: RetentionRun, spec: DayPartitionedTable, day: number, rows: number): Promise<void> {
    // Recorded first: billing must never compare rollups with raw events that may be gone (a failed DROP is retried next run).
    await this.partitions.recordDrop(runner, spec, day, rows);
    await this.partitions.drop(runner, spec, day);
    run.dropped.push({ table: spec.table, day: isoDay(day), rows });
    this.logger.log(`${spec.table}: dropped partition ${isoDay(day)} (${rows} row(s))`);
  }
}
