import { JobHandler, JobName, JobQueue } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { AggregationRun, AggregationService } from '../aggregation/aggregation.service';

@Injectable()
export class AggregateEventsJob {
  private readonly logger = new Logger(AggregateEventsJob.name);

  constructor(
    private readonly aggregation: AggregationService,
    private readonly jobs: JobQueue,
  ) {}

  /** The payload carries nothing the run needs: its window comes from the watermark. */
  @JobHandler(JobName.MeasurementAggregate)
  async run(): Promise<AggregationRun> {
    const run = await this.aggregation.aggregate();
    if (run.state === 'advanced' && run.watermark < run.settledId) {
      // The run stopped at its time budget with a backlog left: carry on at once rather than at the next tick.
      await this.jobs.enqueue(JobName.MeasurementAggregate, { trigger: 'backlog' }, { jobId: `aggregate-from-${run.watermark}` }).catch((err: Error) => this.logger.warn(`follow-up aggregation not enqueued (the schedule continues): ${err.message}`));
    }
    return run;
  }
}
