import { MetricsService } from '@app/platform';
import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';

/** Ingestion metrics of the API process. */
@Injectable()
export class MeasurementMetrics {
  /** Beacons by event type and outcome (accepted, duplicate, invalid) and invalid reason. */
  readonly events: Counter<'event' | 'status' | 'reason'>;
  /** Events per group-commit batch. */
  readonly batchSize: Histogram<never>;
  /** Time from a batch's flush to its COMMIT. */
  readonly commitSeconds: Histogram<'result'>;

  constructor(metrics: MetricsService) {
    this.events = metrics.counter('measurement_events_total', 'Tracking events by type, outcome and invalid reason', ['event', 'status', 'reason']);
    this.batchSize = metrics.histogram('measurement_ingest_batch_size', 'Events written per group-commit transaction', [], [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]);
    this.commitSeconds = metrics.histogram('measurement_ingest_commit_seconds', 'Group-commit batch duration, flush to COMMIT', ['result'], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2]);
  }
}
