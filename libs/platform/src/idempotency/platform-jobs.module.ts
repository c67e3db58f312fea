import { Module } from '@nestjs/common';
import { PlatformSchedules } from './platform-schedules.service';
import { PruneIdempotencyKeysJob } from './prune-idempotency-keys.job';

/** The platform's own job handlers and schedules (pruning Idempotency-Key answers); imported by apps/worker only. */
@Module({ providers: [PruneIdempotencyKeysJob, PlatformSchedules] })
export class PlatformJobsModule {}
