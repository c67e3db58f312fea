import { JobName, every } from '@app/platform';

/** How often the worker sweeps for campaigns and line items whose flight is over. */
export const COMPLETION_SWEEP_EVERY_MS = 30_000;

/** Campaigns' repeatable jobs, kept registered by the worker's ScheduleRegistry. */
export const CAMPAIGNS_SCHEDULES = [every(JobName.CampaignsCompleteExpired, COMPLETION_SWEEP_EVERY_MS, {})];
