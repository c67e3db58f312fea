import { JobName, WorkerConfig, every } from '@app/platform';

/** How often dead letters past their retention are deleted, ms. */
export const PRUNE_DEAD_LETTERS_EVERY_MS = 3_600_000;

/** Monitoring's repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const MONITORING_SCHEDULES = (config: WorkerConfig) => [
  every(JobName.OpsEvaluateSlas, config.SLA_EVALUATE_EVERY_MS, { trigger: 'schedule' }),
  every(JobName.OpsPruneDeadLetters, PRUNE_DEAD_LETTERS_EVERY_MS, { trigger: 'schedule' }),
];
