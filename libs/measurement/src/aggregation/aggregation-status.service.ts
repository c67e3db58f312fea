import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ROLLUP_WATERMARK } from '@app/delivery-ledger';

export interface AggregationStatus {
  /** Last raw event id rolled up. */
  watermark: number;
  /** Newest raw event id stored. */
  newestId: number;
  /** When the oldest event not yet in the rollups was received; null when everything is rolled up. */
  oldestPendingReceivedAt: Date | null;
  /** When the last rolled-up event was received; null before the first one. */
  aggregatedThrough: Date | null;
  /** Age of the oldest event not yet in reports, seconds (0 when caught up): the freshness of reports. */
  lagSeconds: number;
}

/** How far the rollups are behind the raw events: one query of primary-key lookups. */
@Injectable()
export class AggregationStatusService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async status(now: number = Date.now()): Promise<AggregationStatus> {
    const [row] = (await this.dataSource.query(
      `SELECT w.last_id AS watermark,
        (SELECT COALESCE(MAX(id), 0) FROM raw_events) AS newest_id,
        (SELECT received_at FROM raw_events WHERE id > w.last_id ORDER BY id LIMIT 1) AS pending_at,
        (SELECT received_at FROM raw_events WHERE id <= w.last_id ORDER BY id DESC LIMIT 1) AS through_at
       FROM aggregation_watermarks w WHERE w.name = ?`,
      [ROLLUP_WATERMARK],
    )) as Array<{ watermark: string; newest_id: string; pending_at: Date | null; through_at: Date | null }>;
    const oldestPendingReceivedAt = row?.pending_at ?? null;
    return {
      watermark: Number(row?.watermark ?? 0),
      newestId: Number(row?.newest_id ?? 0),
      oldestPendingReceivedAt,
      aggregatedThrough: row?.through_at ?? null,
      lagSeconds: oldestPendingReceivedAt ? Math.max(0, (now - oldestPendingReceivedAt.getTime()) / 1000) : 0,
    };
  }
}
