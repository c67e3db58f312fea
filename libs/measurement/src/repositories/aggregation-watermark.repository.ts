import { ROLLUP_WATERMARK } from '@app/delivery-ledger';
import { onOneConnection } from '@app/platform';
import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';

/** "Lock wait timeout" (MariaDB, and MySQL without NOWAIT) and "NOWAIT lock not available" (MySQL 8). */
const LOCK_BUSY_ERRNOS = new Set([1205, 3572]);
/** Lock wait of the aggregation's connections, seconds (not MySQL's 50). */
const LOCK_WAIT_SECONDS = 10;

/** How far the rollups are behind the raw events, as MySQL has it. */
export interface WatermarkStatus {
  /** Last raw event id rolled up. */
  watermark: number;
  /** Newest raw event id stored. */
  newestId: number;
  /** When the oldest event not yet rolled up was received; null when none is pending. */
  oldestPendingReceivedAt: Date | null;
  /** When the last rolled-up event was received; null before the first one. */
  aggregatedThrough: Date | null;
}

/**
 * The SQL of the aggregation's progress: the watermark row (`aggregation_watermarks`: the last raw
 * event id in the rollups), the `ingest_fence` row that orders ingestion and aggregation, and the
 * connections and transactions the aggregation runs on.
 */
@Injectable()
export class AggregationWatermarkRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` on one connection of the pool with a short lock wait, released whatever happens. */
  onConnection<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    return onOneConnection(this.dataSource, async (qr) => {
      await qr.query(`SET SESSION innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
      return work(qr);
    });
  }

  /** Runs `work` in one READ COMMITTED transaction (an INSERT ... SELECT then reads raw_events without locking it). */
  transaction<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    return this.onConnection(async (qr) => {
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

  /** Waits until no ingest transaction holds the fence (an exclusive lock taken and, in autocommit, released at once). */
  async waitForFence(qr: QueryRunner): Promise<void> {
    await qr.query('SELECT id FROM ingest_fence WHERE id = 1 FOR UPDATE');
  }

  /** Locks the watermark row for the transaction without waiting: its value, or 'busy' when another worker holds it. */
  async lock(qr: QueryRunner): Promise<number | 'busy'> {
    let rows: Array<{ last_id: string }>;
    try {
      rows = await qr.query('SELECT last_id FROM aggregation_watermarks WHERE name = ? FOR UPDATE NOWAIT', [ROLLUP_WATERMARK]);
    } catch (err) {
      if (LOCK_BUSY_ERRNOS.has((err as { errno?: number; driverError?: { errno?: number } }).driverError?.errno ?? (err as { errno?: number }).errno ?? 0)) return 'busy';
      throw err;
    }
    if (rows.length === 0) throw new Error(`aggregation watermark '${ROLLUP_WATERMARK}' is missing (migrations not applied?)`);
    return Number(rows[0].last_id);
  }

  /** Moves the (locked) watermark to `lastId`, counting one more batch, by `who`. */
  async advance(qr: QueryRunner, lastId: number, who: string): Promise<void> {
    await qr.query('UPDATE aggregation_watermarks SET last_id = ?, batches = batches + 1, updated_at = ?, updated_by = ? WHERE name = ?', [lastId, new Date(), who, ROLLUP_WATERMARK]);
  }

  /** The watermark and the database's clock, read together (inside `db`'s transaction when it has one). */
  async cutoff(db: Queryable = this.dataSource): Promise<{ lastId: number; now: Date | null }> {
    const [row] = await db.query<Array<{ last_id: string; now: Date }>>('SELECT last_id, NOW(3) AS now FROM aggregation_watermarks WHERE name = ?', [ROLLUP_WATERMARK]);
    return { lastId: Number(row?.last_id ?? 0), now: row?.now ?? null };
  }

  /** The watermark beside the newest raw id and the receive times around it: one query of primary-key lookups. */
  async status(): Promise<WatermarkStatus> {
    const [row] = await this.dataSource.query<Array<{ watermark: string; newest_id: string; pending_at: Date | null; through_at: Date | null }>>(
      `SELECT w.last_id AS watermark,
        (SELECT COALESCE(MAX(id), 0) FROM raw_events) AS newest_id,
        (SELECT received_at FROM raw_events WHERE id > w.last_id ORDER BY id LIMIT 1) AS pending_at,
        (SELECT received_at FROM raw_events WHERE id <= w.last_id ORDER BY id DESC LIMIT 1) AS through_at
       FROM aggregation_watermarks w WHERE w.name = ?`,
      [ROLLUP_WATERMARK],
    );
    return {
      watermark: Number(row?.watermark ?? 0),
      newestId: Number(row?.newest_id ?? 0),
      oldestPendingReceivedAt: row?.pending_at ?? null,
      aggregatedThrough: row?.through_at ?? null,
    };
  }
}
