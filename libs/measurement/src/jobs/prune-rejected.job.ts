import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { RejectedEventsRetention } from '../retention/rejected-events-retention.service';

@Injectable()
export class PruneRejectedJob {
  constructor(private readonly retention: RejectedEventsRetention) {}

  @JobHandler(JobName.MeasurementPruneRejected)
  run(): Promise<{ deleted: number; before: string }> {
    return this.retention.prune();
  }
}
