import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { LedgerRebuildService, RestoreRun } from '@app/delivery-ledger';

@Injectable()
export class RestoreCountersJob {
  constructor(private readonly restore: LedgerRebuildService) {}

  /** Cheap when nothing was lost: one EXISTS on the restore marker. */
  @JobHandler(JobName.MeasurementRestoreCounters)
  run(): Promise<RestoreRun> {
    return this.restore.restoreIfNeeded();
  }
}
