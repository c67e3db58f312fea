import { JobName, JobQueue } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';

/** Window of the deterministic job id: all API replicas ask for at most one run per window. */
const TRIGGER_WINDOW_MS = 500;

/**
 * Asks a worker to aggregate soon after a commit (the 1 s schedule is the safety net). The job id is
 * the time window, so concurrent commits on every replica enqueue one job per window.
 */
@Injectable()
export class AggregationTrigger {
  private readonly logger = new Logger(AggregationTrigger.name);
  private lastWindow = -1;
  private failing = false;

  constructor(private readonly jobs: JobQueue) {}

  afterCommit(): void {
    const window = Math.floor(Date.now() / TRIGGER_WINDOW_MS);
    if (window === this.lastWindow) return;
    this.lastWindow = window;
    this.jobs
      .enqueue(JobName.MeasurementAggregate, { trigger: 'ingest' }, { jobId: `aggregate-${window}` })
      .then(() => {
        this.failing = false;
      })
      .catch((err: Error) => {
        if (!this.failing) this.logger.warn(`aggregation triggers not enqueued while Redis is unavailable (the schedule catches up): ${err.message}`);
        this.failing = true;
      });
  }
}
