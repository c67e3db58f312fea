import { MetricsService } from '@app/platform';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { AggregationStatusService } from '../aggregation/aggregation-status.service';

/** Aggregation lag, read from MySQL when /metrics is scraped. */
@Injectable()
export class LagGauge implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly status: AggregationStatusService,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('measurement_aggregation_lag_seconds', 'Age of the oldest stored event not yet rolled up into reports (0 when caught up)', [], async (gauge) => {
      const status = await this.status.status().catch(() => null);
      if (status) gauge.set(status.lagSeconds);
    });
    this.metrics.gauge('measurement_aggregation_backlog_events', 'Raw event ids above the aggregation watermark', [], async (gauge) => {
      const status = await this.status.status().catch(() => null);
      if (status) gauge.set(Math.max(0, status.newestId - status.watermark));
    });
  }
}
