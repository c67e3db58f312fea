import { JobName } from '../queue/jobs';
import { every } from '../queue/schedules';

/** How often expired Idempotency-Key answers are deleted, ms. */
export const PRUNE_IDEMPOTENCY_EVERY_MS = 3_600_000;

/** The platform's own repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const PLATFORM_SCHEDULES = [every(JobName.PlatformPruneIdempotencyKeys, PRUNE_IDEMPOTENCY_EVERY_MS, { trigger: 'schedule' })];
