import { BillingJobsModule } from '@app/billing';
import { MeasurementJobsModule } from '@app/measurement';
import { JobObserver, provideSchedules } from '@app/platform';
import { WarehouseJobsModule } from '@app/warehouse';
import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AlertService } from './alerts/alert.service';
import { BreachesRepository } from './repositories/breaches.repository';
import { DeadLetterRepository } from './repositories/dead-letter.repository';
import { QueueProbeRepository } from './repositories/queue-probe.repository';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { DeliveryHealthService } from './delivery-health/delivery-health.service';
import { QueueProbeEntity } from './entities/queue-probe.entity';
import { MONITORING_SCHEDULES } from './jobs/monitoring.schedules';
import { OpsJobs } from './jobs/ops.jobs';
import { ProbeJob } from './jobs/probe.job';
import { QueueProbeService } from './services/queue-probe.service';
import { SlaCatalog } from './sla/sla-catalog.service';
import { SlaMonitorService } from './sla/sla-monitor.service';

/** Monitoring's job handlers (probe, SLA monitor, alerts, dead-letter pruning), dead-letter recording and schedules; apps/worker only. */
@Module({
  imports: [TypeOrmModule.forFeature([QueueProbeEntity]), MeasurementJobsModule, WarehouseJobsModule, BillingJobsModule],
  providers: [
    QueueProbeRepository,
    DeadLetterRepository,
    QueueProbeService,
    ProbeJob,
    SlaCatalog,
    BreachesRepository,
    AlertService,
    DeadLettersService,
    DeliveryHealthService,
    SlaMonitorService,
    OpsJobs,
    provideSchedules('monitoring', MONITORING_SCHEDULES),
  ],
})
export class MonitoringJobsModule implements OnModuleInit {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly observer: JobObserver,
  ) {}

  onModuleInit(): void {
    this.deadLetters.listen(this.observer);
  }
}
