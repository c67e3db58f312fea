import { WorkerConfig } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { DataSource, QueryRunner } from 'typeorm';
import { DAILY_ROLLUP_UPSERT, REACH_UPSERT, ROLLUP_UPSERT } from './aggregation.sql';

export const ROLLUP_WATERMARK = 'rollups';
/** How long one job keeps rolling batches before handing over to the next run, ms. */
const RUN_BUDGET_MS = 10_000;
/** "Lock wait timeout" (MariaDB, and MySQL without NOWAIT) and "NOWAIT lock not available" (MySQL 8). */
const LOCK_BUSY_ERRNOS = new Set([1205, 3572]);

export interface AggregationRun {
  /** advanced: batches committed; idle: nothing new; busy: another worker holds the watermark. */
  state: 'advanced' | 'idle' | 'busy';
  batches: number;
  /** Watermark after the run (last raw id rolled up). */
  watermark: number;
  /** Highest raw id known to be settled (no transaction can still commit an id below it). */
  settledId: number;
}

/**
 * Exactly-once aggregation of raw events into hourly (and daily) rollups and reach, by a watermark over
 * raw_events.id. Each batch is ONE transaction: lock the watermark row (FOR UPDATE NOWAIT: a second
 * worker backs off instead of double counting), upsert the rollups and reach of (watermark, upto] with
 * set-based SQL, advance the watermark, COMMIT. A worker killed mid-batch commits nothing, and the
 * next run redoes the same range.
 *
 * Auto-increment ids are handed out before their transactions commit, so a lower id can become
 * visible after a higher one was aggregated, and would be skipped for ever. A time-based safety delay
 * only makes that unlikely; here it cannot happen: every ingest transaction holds a shared lock on the
 * `ingest_fence` row from before it takes ids until it commits, and each run first reads MAX(id) of
 * the committed rows, then takes that lock exclusively for an instant. Every id up to that maximum
 * was handed out, before the read, to a transaction holding the shared lock; the exclusive lock is
 * granted only once all of those have committed or rolled back, so every id up to the maximum is then
 * final (`settledId`), and ids handed out later are higher. Runs aggregate only up to `settledId`.
 * The cost for ingestion is a wait of at most one in-flight batch, once per run: the exclusive lock is
 * taken by one autocommit statement, so it is released as soon as it is granted, with no round trip
 * to this process in between.
 */
@Injectable()
export class AggregationService {
  private readonly logger = new Logger(AggregationService.name);
  private readonly who = `${hostname()}:${process.pid}`;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: WorkerConfig,
  ) {}

  async aggregate(budgetMs = RUN_BUDGET_MS): Promise<AggregationRun> {
    const started = Date.now();
    const settledId = await this.settledId();
    let batches = 0;
    for (;;) {
      const batch = await this.aggregateBatch(settledId);
      if (batch.state !== 'advanced') return { state: batches > 0 ? 'advanced' : batch.state, batches, watermark: batch.watermark, settledId };
      batches++;
      if (batch.watermark >= settledId || Date.now() - started > budgetMs) return { state: 'advanced', batches, watermark: batch.watermark, settledId };
    }
  }

  /** The fence: the highest raw id below which no ingest transaction can still commit. */
  async settledId(): Promise<number> {
    return this.withConnection(async (qr) => {
      // First the read, then the lock (autocommit: held only while the statement runs). The other way
      // round, a transaction that took its ids after the lock could commit a higher id before the read
      // while holding a lower one still uncommitted.
      const [row] = (await qr.query('SELECT COALESCE(MAX(id), 0) AS max_id FROM raw_events')) as Array<{ max_id: string }>;
      await qr.query('SELECT id FROM ingest_fence WHERE id = 1 FOR UPDATE');
      return Number(row.max_id);
    });
  }

  private async aggregateBatch(settledId: number): Promise<{ state: AggregationRun['state']; watermark: number }> {
    return this.inTransaction(async (qr) => {
      let rows: Array<{ last_id: string }>;
      try {
        rows = (await qr.query('SELECT last_id FROM aggregation_watermarks WHERE name = ? FOR UPDATE NOWAIT', [ROLLUP_WATERMARK])) as Array<{ last_id: string }>;
      } catch (err) {
        if (LOCK_BUSY_ERRNOS.has((err as { errno?: number; driverError?: { errno?: number } }).driverError?.errno ?? (err as { errno?: number }).errno ?? 0)) {
          return { state: 'busy' as const, watermark: -1 };
        }
        throw err;
      }
      if (rows.length === 0) throw new Error(`aggregation watermark '${ROLLUP_WATERMARK}' is missing (migrations not applied?)`);
      const watermark = Number(rows[0].last_id);
      if (watermark >= settledId) return { state: 'idle' as const, watermark };
      const upto = Math.min(settledId, watermark + this.config.AGGREGATION_BATCH_SIZE);
      await qr.query(ROLLUP_UPSERT, [watermark, upto]);
      await qr.query(DAILY_ROLLUP_UPSERT, [watermark, upto]);
      await qr.query(REACH_UPSERT, [watermark, upto]);
      await qr.query('UPDATE aggregation_watermarks SET last_id = ?, batches = batches + 1, updated_at = ?, updated_by = ? WHERE name = ?', [
        upto,
        new Date(),
        this.who,
        ROLLUP_WATERMARK,
      ]);
      this.logger.debug(`rolled up raw events (${watermark}, ${upto}]`);
      return { state: 'advanced' as const, watermark: upto };
    });
  }

  /** READ COMMITTED: the rollup's INSERT ... SELECT then reads raw_events without locking it. */
  private inTransaction<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    return this.withConnection(async (qr) => {
      await qr.startTransaction('READ COMMITTED');
      try {
        const result = await work(qr);
        if (qr.isTransactionActive) await qr.commitTransaction();
        return result;
      } catch (err) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  }

  /** A connection of the pool with a 10 s lock wait (not MySQL's 50), released whatever happens. */
  private async withConnection<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.query('SET SESSION innodb_lock_wait_timeout = 10');
      return await work(qr);
    } finally {
      await qr.release();
    }
  }
}
