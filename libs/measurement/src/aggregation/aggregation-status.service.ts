import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ROLLUP_WATERMARK } from './aggregation.service';

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

/** How far the rollups are behind the raw events; three primary-key lookups. */
@Injectable()
export class AggregationStatusService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async status(now: number = Date.now()): Promise<AggregationStatus> {
    const [wm] = (await this.dataSource.query('SELECT last_id FROM aggregation_watermarks WHERE name = ?', [ROLLUP_WATERMARK])) as Array<{ last_id: string }>;
    const watermark = Number(wm?.last_id ?? 0);
    const [newest] = (await this.dataSource.query('SELECT COALESCE(MAX(id), 0) AS id FROM raw_events')) as Array<{ id: string }>;
    const [pending] = (await this.dataSource.query('SELECT received_at FROM raw_events WHERE id > ? ORDER BY id LIMIT 1', [watermark])) as Array<{ received_at: Date }>;
    const [through] = (await this.dataSource.query('SELECT received_at FROM raw_events WHERE id <= ? ORDER BY id DESC LIMIT 1', [watermark])) as Array<{ received_at: Date }>;
    const oldestPendingReceivedAt = pending?.received_at ?? null;
    return {
      watermark,
      newestId: Number(newest.id),
      oldestPendingReceivedAt,
      aggregatedThrough: through?.received_at ?? null,
      lagSeconds: oldestPendingReceivedAt ? Math.max(0, (now - oldestPendingReceivedAt.getTime()) / 1000) : 0,
    };
  }
}
