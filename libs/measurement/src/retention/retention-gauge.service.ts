import { MetricsService } from '@app/platform';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { DAY_PARTITIONED_TABLES, dayNumber } from './day-partitions';
import { PartitionsRepository } from '../repositories/partitions.repository';

/** Retention as the API's /metrics shows it, read from MySQL when scraped (the worker that drops has no /metrics). */
@Injectable()
export class RetentionGauge implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly partitions: PartitionsRepository,
  ) {}

  onModuleInit(): void {
    const totals = () => this.partitions.dropTotals().catch(() => null);
    this.metrics.gauge('measurement_retention_dropped_partitions', 'Day partitions dropped by retention so far (partition_drops)', ['table'], async (gauge) => {
      for (const t of (await totals()) ?? []) gauge.set({ table: t.table }, t.partitions);
    });
    this.metrics.gauge('measurement_retention_dropped_rows', 'Rows the dropped day partitions held', ['table'], async (gauge) => {
      for (const t of (await totals()) ?? []) gauge.set({ table: t.table }, t.rows);
    });
    this.metrics.gauge(
      'measurement_partitions_oldest_day_age_days',
      'Age of the oldest day partition still kept; above the retention days while a day awaits its verified export',
      ['table'],
      async (gauge) => {
        const today = dayNumber(Date.now());
        for (const spec of DAY_PARTITIONED_TABLES) {
          const days = (await this.partitions.list(spec).catch(() => [])).map((p) => p.day).filter((d): d is number => d !== null);
          if (days.length > 0) gauge.set({ table: spec.table }, today - Math.min(...days));
        }
      },
    );
  }
}
