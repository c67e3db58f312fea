import { Module } from '@nestjs/common';
import { provideSchedules } from '../queue/schedules';
import { PLATFORM_SCHEDULES } from './platform.schedules';
import { PruneIdempotencyKeysJob } from './prune-idempotency-keys.job';

/** The platform's own job handlers and schedules (pruning Idempotency-Key answers); imported by apps/worker only. */
@Module({ providers: [PruneIdempotencyKeysJob, provideSchedules('platform', PLATFORM_SCHEDULES)] })
export class PlatformJobsModule {}
