import { JobHandler, JobName } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { AggregationRun, AggregationService } from '../aggregation/aggregation.service';

@Injectable()
export class AggregateEventsJob {
  constructor(private readonly aggregation: AggregationService) {}

  /** The payload carries nothing the run needs: its window comes from the watermark. */
  @JobHandler(JobName.MeasurementAggregate)
  run(): Promise<AggregationRun> {
    return this.aggregation.aggregate();
  }
}
