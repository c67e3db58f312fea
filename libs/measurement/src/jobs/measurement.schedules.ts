import { JobName, cron, every } from '@app/platform';

/** Aggregation runs at least this often, ms (ingestion also asks for runs after commits). */
export const AGGREGATE_EVERY_MS = 1000;
/** How often a lost Redis is noticed and the counters rebuilt, ms. */
export const RESTORE_CHECK_EVERY_MS = 2000;
/** Daily, UTC: the coming days' partitions (a week ahead, so a missed run or two changes nothing). */
export const PARTITIONS_CRON = '7 0 * * *';
/** Daily, UTC, after the night's exports have had time to be verified: drop what is past retention. */
export const RETENTION_CRON = '17 4 * * *';

/** Measurement's repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const MEASUREMENT_SCHEDULES = [
  every(JobName.MeasurementAggregate, AGGREGATE_EVERY_MS, { trigger: 'schedule' }),
  every(JobName.MeasurementRestoreCounters, RESTORE_CHECK_EVERY_MS, { trigger: 'schedule' }),
  cron(JobName.MeasurementPartitions, PARTITIONS_CRON, { trigger: 'schedule' }),
  cron(JobName.MeasurementRetention, RETENTION_CRON, { trigger: 'schedule' }),
];
