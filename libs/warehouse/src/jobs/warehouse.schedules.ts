import { JobName, every } from '@app/platform';

/** How often closed days are looked for and exported, ms: each day is exported within the hour after it closes. */
export const PLAN_EXPORTS_EVERY_MS = 3_600_000;

/** The warehouse's repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const WAREHOUSE_SCHEDULES = [every(JobName.WarehousePlanExports, PLAN_EXPORTS_EVERY_MS, { trigger: 'schedule' })];
