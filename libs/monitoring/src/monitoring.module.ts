import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OpsController } from './controllers/ops.controller';
import { QueueProbeEntity } from './entities/queue-probe.entity';
import { QueueProbeService } from './services/queue-probe.service';
import { QueueStatsService } from './services/queue-stats.service';

@Module({
  imports: [TypeOrmModule.forFeature([QueueProbeEntity])],
  controllers: [OpsController],
  providers: [QueueProbeService, QueueStatsService],
  exports: [QueueProbeService, QueueStatsService],
})
export class MonitoringModule {}
