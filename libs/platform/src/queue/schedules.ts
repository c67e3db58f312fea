import type { WorkerConfig } from '../config/worker.config';
import { JobName, JobPayloads } from './jobs';

/** When a scheduled job repeats: every so many ms, or on a cron pattern in a timezone. */
export type ScheduleRepeat = { everyMs: number } | { pattern: string; tz?: string };

/** One repeatable job: at most one schedule per job name, whatever the number of workers. */
export interface ScheduleDefinition<N extends JobName = JobName> {
  job: N;
  repeat: ScheduleRepeat;
  /** Fixed payload of every run; jobs that need a moving window compute it when they run. */
  payload: JobPayloads[N];
}

/** A job run every `everyMs`. */
export function every<N extends JobName>(job: N, everyMs: number, payload: JobPayloads[N]): ScheduleDefinition<N> {
  return { job, repeat: { everyMs }, payload };
}

/** A job run on a cron pattern (`m h dom mon dow`), in `tz` (default UTC). */
export function cron<N extends JobName>(job: N, pattern: string, payload: JobPayloads[N], tz = 'UTC'): ScheduleDefinition<N> {
  return { job, repeat: { pattern, tz }, payload };
}

/** A lib's schedules, possibly depending on the worker's validated config. */
export type ScheduleList = readonly ScheduleDefinition[] | ((config: WorkerConfig) => readonly ScheduleDefinition[]);

/** The schedules one lib declared; found among the providers by the ScheduleRegistry. */
export class DeclaredSchedules {
  constructor(
    readonly owner: string,
    readonly list: ScheduleList,
  ) {}

  resolve(config: WorkerConfig): readonly ScheduleDefinition[] {
    return typeof this.list === 'function' ? this.list(config) : this.list;
  }
}

/**
 * The provider a lib's jobs module lists to declare its repeatable jobs, e.g.
 * `providers: [provideSchedules('billing', BILLING_SCHEDULES)]`. The worker's ScheduleRegistry
 * registers every declared schedule at boot and puts back any that Redis lost.
 */
export function provideSchedules(owner: string, list: ScheduleList) {
  return { provide: `schedules:${owner}`, useValue: new DeclaredSchedules(owner, list) };
}
