import { WorkerConfig } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Rows deleted per statement: short transactions, no long lock on a busy table. */
const DELETE_BATCH = 10_000;
/** Statements per run at most (10 million rows); the next run carries on. */
const MAX_BATCHES_PER_RUN = 1_000;

/**
 * Keeps `rejected_events` (a sample of the beacons whose token could not be verified, so no campaign
 * can be charged or credited with them) and their hourly counts for REJECTED_EVENTS_RETENTION_DAYS. Valid and invalid events of real
 * decisions live in `raw_events`, which is the billing record and is not pruned here.
 */
@Injectable()
export class RejectedEventsRetention {
  private readonly logger = new Logger(RejectedEventsRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: WorkerConfig,
  ) {}

  /** Deletes the rows received before the retention window; returns how many went. */
  async prune(now: Date = new Date()): Promise<{ deleted: number; before: string }> {
    const before = new Date(now.getTime() - this.config.REJECTED_EVENTS_RETENTION_DAYS * 86_400_000);
    let deleted = 0;
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const result = (await this.dataSource.query('DELETE FROM rejected_events WHERE received_at < ? ORDER BY received_at LIMIT ?', [before, DELETE_BATCH])) as { affectedRows: number };
      deleted += result.affectedRows;
      if (result.affectedRows < DELETE_BATCH) break;
    }
    // The hourly counts go with them: a few rows per hour, one statement.
    await this.dataSource.query('DELETE FROM rejected_event_counts WHERE hour < ?', [before]);
    if (deleted > 0) this.logger.log(`pruned ${deleted} rejected event(s) received before ${before.toISOString()}`);
    return { deleted, before: before.toISOString() };
  }
}
