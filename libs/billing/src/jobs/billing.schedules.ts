import { JobName, WorkerConfig, every } from '@app/platform';

/** Billing's repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const BILLING_SCHEDULES = (config: WorkerConfig) => [
  every(JobName.BillingCloseMonth, config.BILLING_MONTH_CLOSE_EVERY_MS, { trigger: 'schedule' }),
  every(JobName.BillingReconcile, config.BILLING_RECONCILE_EVERY_MS, { trigger: 'schedule' }),
];
