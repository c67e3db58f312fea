import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { CountersRestoreService, RestoreRun } from '../aggregation/counters-restore.service';

@Injectable()
export class RestoreCountersJob {
  constructor(private readonly restore: CountersRestoreService) {}

  /** Cheap when nothing was lost: one EXISTS on the restore marker. */
  @JobHandler(JobName.MeasurementRestoreCounters)
  run(): Promise<RestoreRun> {
    return this.restore.restoreIfNeeded();
  }
}
