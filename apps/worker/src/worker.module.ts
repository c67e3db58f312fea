import { BillingJobsModule } from '@app/billing';
import { CampaignsJobsModule } from '@app/campaigns';
import { MeasurementJobsModule } from '@app/measurement';
import { MonitoringJobsModule } from '@app/monitoring';
import { WarehouseJobsModule } from '@app/warehouse';
import { ALL_QUEUES, JobDispatcher, PlatformJobsModule, PlatformModule, ScheduleRegistry, WorkerConfig, createQueueProcessor } from '@app/platform';
import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class WorkerModule {
  static forRoot(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [PlatformModule.forRoot({ config }), CampaignsJobsModule, MeasurementJobsModule, WarehouseJobsModule, BillingJobsModule, MonitoringJobsModule, PlatformJobsModule],
      providers: [JobDispatcher, ScheduleRegistry, ...ALL_QUEUES.map((queue) => createQueueProcessor(queue, config.WORKER_CONCURRENCY))],
    };
  }
}
