import { JobName, every } from '@app/platform';

/** Aggregation runs at least this often, ms (ingestion also asks for runs after commits). */
export const AGGREGATE_EVERY_MS = 1000;
/** How often a lost Redis is noticed and the counters rebuilt, ms. */
export const RESTORE_CHECK_EVERY_MS = 2000;
/** How often rejected beacons past their retention are deleted, ms. */
export const PRUNE_REJECTED_EVERY_MS = 3_600_000;

/** Measurement's repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const MEASUREMENT_SCHEDULES = [
  every(JobName.MeasurementAggregate, AGGREGATE_EVERY_MS, { trigger: 'schedule' }),
  every(JobName.MeasurementRestoreCounters, RESTORE_CHECK_EVERY_MS, { trigger: 'schedule' }),
  every(JobName.MeasurementPruneRejected, PRUNE_REJECTED_EVERY_MS, { trigger: 'schedule' }),
];
