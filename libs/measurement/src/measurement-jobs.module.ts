import { DeliveryCountersModule } from '@app/delivery';
import { Module } from '@nestjs/common';
import { AggregationStatusService } from './aggregation/aggregation-status.service';
import { AggregationService } from './aggregation/aggregation.service';
import { CountersRestoreService } from './aggregation/counters-restore.service';
import { AggregateEventsJob } from './jobs/aggregate-events.job';
import { MeasurementSchedules } from './jobs/measurement-schedules.service';
import { PruneRejectedJob } from './jobs/prune-rejected.job';
import { RestoreCountersJob } from './jobs/restore-counters.job';
import { RollupReader } from './reports/rollup-reader.service';
import { RejectedEventsRetention } from './retention/rejected-events-retention.service';

/** Measurement's job handlers and schedules; imported by apps/worker only. */
@Module({
  imports: [DeliveryCountersModule],
  providers: [AggregationService, AggregationStatusService, CountersRestoreService, AggregateEventsJob, RestoreCountersJob, PruneRejectedJob, RejectedEventsRetention, MeasurementSchedules, RollupReader],
  exports: [AggregationService, AggregationStatusService, RollupReader],
})
export class MeasurementJobsModule {}
