import { DeliveryLedgerModule } from '@app/delivery-ledger';
import { provideSchedules } from '@app/platform';
import { Module } from '@nestjs/common';
import { AggregationStatusService } from './aggregation/aggregation-status.service';
import { AggregationService } from './aggregation/aggregation.service';
import { AggregateEventsJob } from './jobs/aggregate-events.job';
import { MEASUREMENT_SCHEDULES } from './jobs/measurement.schedules';
import { PartitionsJob, RetentionJob } from './jobs/day-partitions.jobs';
import { RestoreCountersJob } from './jobs/restore-counters.job';
import { RollupReader } from './reports/rollup-reader.service';
import { DataRetention } from './retention/data-retention.service';
import { PartitionMaintenance } from './retention/partition-maintenance.service';
import { MEASUREMENT_REPOSITORIES } from './repositories/measurement-repositories';

/** Measurement's job handlers and schedules; imported by apps/worker only. */
@Module({
  imports: [DeliveryLedgerModule],
  providers: [AggregationService, AggregationStatusService, AggregateEventsJob, RestoreCountersJob, PartitionsJob, RetentionJob, ...MEASUREMENT_REPOSITORIES, PartitionMaintenance, DataRetention, RollupReader, provideSchedules('measurement', MEASUREMENT_SCHEDULES)],
  exports: [AggregationService, AggregationStatusService, RollupReader],
})
export class MeasurementJobsModule {}
