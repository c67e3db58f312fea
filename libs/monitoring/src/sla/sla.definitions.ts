import { ALL_JOBS, JOBS, PlatformConfig, parseSlaOverrides } from '@app/platform';

export type SlaKind = 'queue_wait' | 'run_time' | 'success_ratio' | 'freshness' | 'deadline' | 'delivery_health' | 'reconciliation' | 'verification';

/** One service level: what is measured, over what, and the level past which it is breached. */
export interface SlaSpec {
  id: string;
  kind: SlaKind;
  /** What it is about: a pipeline, a queue/job, or (delivery health) each active line item. */
  subject: string;
  description: string;
  unit: 's' | 'ratio' | 'points' | 'hour' | 'lines' | 'exports';
  /** Breached past this value (above it, or below it for `direction: 'below'`). */
  target: number;
  /** Warning level, on the good side of the target; also where a breach's value must come back to resolve it. */
  warn?: number;
  /** Span the value is computed over, s. */
  windowSeconds: number;
  direction: 'above' | 'below';
  /** Least number of samples in the window before the value is judged (success ratios). */
  minSamples?: number;
}

/** The monitor's own liveness, watched by the API (not by the monitor). */
export const WATCHDOG_SLA_ID = 'monitor.heartbeat';

/**
 * Every SLA, declared here and nowhere else. Defaults come from the validated configuration
 * (SLA_* variables), and any single SLA can be changed with SLA_OVERRIDES by its id.
 */
export function declaredSlas(config: PlatformConfig): SlaSpec[] {
  const specs: SlaSpec[] = [
    {
      id: 'aggregation.freshness',
      kind: 'freshness',
      subject: 'measurement.aggregation',
      description: 'Age of the oldest stored event not yet in the rollups (how stale reports and spend are)',
      unit: 's',
      target: config.SLA_FRESHNESS_TARGET_SECONDS,
      warn: config.SLA_FRESHNESS_WARN_SECONDS,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: WATCHDOG_SLA_ID,
      kind: 'freshness',
      subject: 'sla-monitor',
      description: 'Seconds since the last SLA evaluation by any worker (checked by the API processes)',
      unit: 's',
      target: config.SLA_WATCHDOG_SECONDS,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: 'deadline.invoices-drafted',
      kind: 'deadline',
      subject: 'billing.month-close',
      description: "Hours past the deadline (BILLING_DRAFT_DEADLINE_HOUR of day 2, advertiser's timezone) with last month's invoice of an advertiser with usage not drafted",
      unit: 'hour',
      target: 0,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: 'billing.reconciliation',
      kind: 'reconciliation',
      subject: 'billing.reconcile',
      description: 'Invoice lines whose invoiced, rolled-up and raw-event figures disagree at the latest reconciliation (current and previous month)',
      unit: 'lines',
      target: 0,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: 'deadline.export-daily',
      kind: 'deadline',
      subject: 'warehouse.export',
      description: 'Hours past the deadline (EXPORT_DEADLINE_HOURS after a UTC day closes, TRACKING_TOKEN_TTL and an hour after its end) of the oldest closed day not exported, final and verified',
      unit: 'hour',
      target: 0,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: 'export.verification',
      kind: 'verification',
      subject: 'warehouse.export',
      description: 'Exported days and tables (final, not partial) whose manifest disagrees with MySQL or with the files on disk at their latest verification',
      unit: 'exports',
      target: 0,
      windowSeconds: 0,
      direction: 'above',
    },
    {
      id: 'delivery_health',
      kind: 'delivery_health',
      subject: 'line items (each active one)',
      description:
        'Points of budget share behind the elapsed share of the flight (warn, then critical at the target); stalled when active with no delivery for the window; exhausting early when the recent spend rate ends the budget before the flight',
      unit: 'points',
      target: 40,
      warn: 20,
      windowSeconds: 4 * 3600,
      direction: 'above',
    },
  ];
  for (const job of ALL_JOBS) {
    const subject = `${JOBS[job].queue}/${job}`;
    specs.push(
      { id: `queue_wait.${job}`, kind: 'queue_wait', subject, description: `p95 wait in the queue of ${job} jobs (queued → taken by a worker)`, unit: 's', target: config.SLA_QUEUE_WAIT_P95_SECONDS, warn: config.SLA_QUEUE_WAIT_P95_SECONDS / 3, windowSeconds: 300, direction: 'above' },
      { id: `run_time.${job}`, kind: 'run_time', subject, description: `p95 run time of one attempt of ${job}`, unit: 's', target: config.SLA_RUN_TIME_P95_SECONDS, warn: config.SLA_RUN_TIME_P95_SECONDS / 2, windowSeconds: 900, direction: 'above' },
      {
        id: `success_ratio.${job}`,
        kind: 'success_ratio',
        subject,
        description: `Share of attempts of ${job} that succeed`,
        unit: 'ratio',
        target: config.SLA_SUCCESS_RATIO,
        warn: Math.min(1, config.SLA_SUCCESS_RATIO + (1 - config.SLA_SUCCESS_RATIO) / 2),
        windowSeconds: 900,
        direction: 'below',
        minSamples: config.SLA_SUCCESS_MIN_SAMPLES,
      },
    );
  }
  const overrides = parseSlaOverrides(config.SLA_OVERRIDES) ?? {};
  const byId = new Map(specs.map((s) => [s.id, s]));
  const unknown = Object.keys(overrides).filter((id) => !byId.has(id));
  if (unknown.length > 0) throw new Error(`SLA_OVERRIDES names unknown SLA id(s) ${unknown.join(', ')}; known: ${[...byId.keys()].join(', ')}`);
  for (const [id, override] of Object.entries(overrides)) Object.assign(byId.get(id)!, override);
  return specs;
}
