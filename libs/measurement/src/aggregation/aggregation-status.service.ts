import { Injectable } from '@nestjs/common';
import { AggregationWatermarkRepository, WatermarkStatus } from '../repositories/aggregation-watermark.repository';

export interface AggregationStatus extends WatermarkStatus {
  /** Age of the oldest event not yet in reports, seconds (0 when caught up): the freshness of reports. */
  lagSeconds: number;
}

/** How far the rollups are behind the raw events: one query of primary-key lookups. */
@Injectable()
export class AggregationStatusService {
  constructor(private readonly watermarks: AggregationWatermarkRepository) {}

  async status(now: number = Date.now()): Promise<AggregationStatus> {
    const status = await this.watermarks.status();
    const pending = status.oldestPendingReceivedAt;
    return { ...status, lagSeconds: pending ? Math.max(0, (now - pending.getTime()) / 1000) : 0 };
  }
}
