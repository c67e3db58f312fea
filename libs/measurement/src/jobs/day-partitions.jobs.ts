import { JobHandler, JobName } from '@app/platform';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataRetention, RetentionRun } from '../retention/data-retention.service';
import { PartitionMaintenance, PartitionsAdded } from '../retention/partition-maintenance.service';

@Injectable()
export class PartitionsJob implements OnApplicationBootstrap {
  private readonly logger = new Logger(PartitionsJob.name);

  constructor(private readonly maintenance: PartitionMaintenance) {}

  /** At boot too: a worker started after days offline has the current days' partitions before anything else runs. */
  async onApplicationBootstrap(): Promise<void> {
    // Not fatal: rows of a missing day wait in pmax, and the scheduled run (retried) adds the days.
    await this.maintenance.ensureAhead().catch((err: Error) => this.logger.warn(`day partitions not checked at boot (the daily job will): ${err.message}`));
  }

  @JobHandler(JobName.MeasurementPartitions)
  run(): Promise<PartitionsAdded[]> {
    return this.maintenance.ensureAhead();
  }
}

@Injectable()
export class RetentionJob {
  constructor(private readonly retention: DataRetention) {}

  /** Its result (dropped partitions, days kept and why) is what the queue dashboard shows of a run. */
  @JobHandler(JobName.MeasurementRetention)
  run(): Promise<RetentionRun> {
    return this.retention.run();
  }
}
