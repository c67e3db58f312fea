import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueProbeEntity } from './entities/queue-probe.entity';
import { ProbeJob } from './jobs/probe.job';
import { QueueProbeService } from './services/queue-probe.service';

/** Monitoring's job handlers; imported by apps/worker only. */
@Module({
  imports: [TypeOrmModule.forFeature([QueueProbeEntity])],
  providers: [QueueProbeService, ProbeJob],
})
export class MonitoringJobsModule {}
