import { MeasurementModule } from '@app/measurement';
import { WarehouseModule } from '@app/warehouse';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AlertService } from './alerts/alert.service';
import { BreachesRepository } from './repositories/breaches.repository';
import { DeadLetterRepository } from './repositories/dead-letter.repository';
import { QueueProbeRepository } from './repositories/queue-probe.repository';
import { WatchdogService } from './alerts/watchdog.service';
import { OpsController } from './controllers/ops.controller';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { DeliveryHealthService } from './delivery-health/delivery-health.service';
import { QueueProbeEntity } from './entities/queue-probe.entity';
import { QueueControlService } from './queues/queue-control.service';
import { QueueProbeService } from './services/queue-probe.service';
import { QueueStatsService } from './services/queue-stats.service';
import { SlaCatalog } from './sla/sla-catalog.service';
import { SlaOverviewService } from './sla/sla-overview.service';

/** The API side of monitoring: /v1/ops endpoints, SLA metrics, and the watchdog of the monitor. */
@Module({
  imports: [TypeOrmModule.forFeature([QueueProbeEntity]), MeasurementModule, WarehouseModule],
  controllers: [OpsController],
  providers: [QueueProbeRepository, DeadLetterRepository, QueueProbeService, QueueStatsService, QueueControlService, SlaCatalog, BreachesRepository, AlertService, SlaOverviewService, DeadLettersService, DeliveryHealthService, WatchdogService],
  exports: [QueueProbeService, QueueStatsService, SlaCatalog],
})
export class MonitoringModule {}
