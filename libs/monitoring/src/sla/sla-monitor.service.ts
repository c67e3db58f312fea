import { MonthCloseService, ReconciliationService } from '@app/billing';
import { AggregationStatusService } from '@app/measurement';
import { ExportStatus } from '@app/warehouse';
import { ALL_JOBS, JOBS, JobName, JobQueue, JobStatsService, JobWindowStats, RedisService, WorkerConfig, percentileOf } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { BreachRow, BreachesRepository } from '../repositories/breaches.repository';
import { DeliveryHealthService } from '../delivery-health/delivery-health.service';
import { SlaCatalog } from './sla-catalog.service';
import { SlaState, isClear, stateOf, worseOf } from './sla-rules';
import { SNAPSHOT_KEY, SlaReading, SlaSnapshot } from './sla-snapshot';
import { SlaSpec, WATCHDOG_SLA_ID } from './sla.definitions';

/** One SLA's value for one subject, judged. */
export interface Observation {
  spec: SlaSpec;
  subject: string;
  value: number | null;
  state: SlaState;
  /** Why it is breached (delivery health: its state); a change of cause is a new breach. */
  cause: string;
  severity: 'warning' | 'critical';
  /** Whether the value is back where an open breach may start resolving. */
  clear: boolean;
  detail?: string | null;
  samples?: number;
}

export interface EvaluationResult {
  evaluated: boolean;
  observations: number;
  opened: number;
  resolved: number;
}

const LOCK_KEY = ['ops', 'sla', 'lock'];

/**
 * The monitor: measures every declared SLA, opens a breach when one is breached and resolves it (after
 * SLA_CLEAR_SECONDS back at the warning level) with one alert each way, enqueued as a retried job.
 * One evaluation at a time across workers (a Redis lock); the unique open key in MySQL is what makes a
 * second opening impossible even without it.
 */
@Injectable()
export class SlaMonitorService {
  private readonly logger = new Logger(SlaMonitorService.name);
  private readonly me = `${hostname()}:${process.pid}`;

  constructor(
    private readonly catalog: SlaCatalog,
    private readonly breaches: BreachesRepository,
    private readonly aggregation: AggregationStatusService,
    private readonly jobStats: JobStatsService,
    private readonly deliveryHealth: DeliveryHealthService,
    private readonly monthClose: MonthCloseService,
    private readonly reconciliation: ReconciliationService,
    private readonly exports: ExportStatus,
    private readonly jobs: JobQueue,
    private readonly redis: RedisService,
    private readonly config: WorkerConfig,
  ) {}

  async evaluate(now = new Date()): Promise<EvaluationResult> {
    const release = await this.redis.tryLock(this.redis.key(...LOCK_KEY), Math.max(10_000, this.config.SLA_EVALUATE_EVERY_MS * 3));
    if (!release) return { evaluated: false, observations: 0, opened: 0, resolved: 0 };
    try {
      const observations = await this.measure(now);
      const counts = await this.apply(observations, now);
      await this.breaches.heartbeat(this.me);
      const snapshot: SlaSnapshot = {
        evaluatedAt: now.toISOString(),
        evaluatedBy: this.me,
        readings: observations.map(
          (o): SlaReading => ({ slaId: o.spec.id, subject: o.subject, value: o.value, state: o.state, ...(o.samples !== undefined ? { samples: o.samples } : {}), ...(o.spec.kind === 'delivery_health' ? { cause: o.cause } : {}) }),
        ),
      };
      await this.redis.client.set(this.redis.key(...SNAPSHOT_KEY), JSON.stringify(snapshot), 'EX', 3600);
      await this.resendUnsent();
      return { evaluated: true, observations: observations.length, ...counts };
    } finally {
      await release();
    }
  }

  /** Every SLA's current value. */
  async measure(now: Date): Promise<Observation[]> {
    const out: Observation[] = [];
    const judge = (spec: SlaSpec, subject: string, value: number | null, extra: Partial<Observation> = {}): Observation => ({
      spec,
      subject,
      value,
      state: stateOf(spec, value),
      cause: 'breached',
      severity: 'critical',
      clear: value !== null && isClear(spec, value),
      ...extra,
    });
    for (const spec of this.catalog.all) {
      if (spec.kind === 'freshness' && spec.id !== WATCHDOG_SLA_ID) {
        const status = await this.aggregation.status(now.getTime());
        out.push(judge(spec, spec.subject, round(status.lagSeconds)));
      } else if (spec.id === 'deadline.invoices-drafted') {
        out.push(judge(spec, spec.subject, await this.monthClose.hoursPastDraftDeadline(this.config.BILLING_DRAFT_DEADLINE_HOUR, now.getTime())));
      } else if (spec.kind === 'reconciliation') {
        out.push(judge(spec, spec.subject, await this.reconciliation.mismatchCount()));
      } else if (spec.id === 'deadline.export-daily') {
        out.push(judge(spec, spec.subject, await this.exports.hoursPastDeadline(this.config.EXPORT_DEADLINE_HOURS, now.getTime())));
      } else if (spec.kind === 'verification') {
        out.push(judge(spec, spec.subject, await this.exports.mismatchCount()));
      }
    }
    out.push(...(await this.measureJobs(now)));
    const delivery = this.catalog.get('delivery_health');
    if (delivery) {
      for (const item of await this.deliveryHealth.evaluate(delivery, undefined, now)) {
        const bad = item.state !== 'on_track';
        out.push({
          spec: delivery,
          subject: item.lineItemId,
          value: round(item.behindPoints),
          state: bad ? 'breached' : 'ok',
          cause: item.state,
          severity: item.severity === 'critical' ? 'critical' : 'warning',
          clear: !bad,
          detail: `${item.name}: ${item.reason}`,
        });
      }
    }
    return out;
  }

  private async measureJobs(now: Date): Promise<Observation[]> {
    const out: Observation[] = [];
    const pairs = ALL_JOBS.map((job) => ({ queue: JOBS[job].queue as string, job: job as string }));
    const windows = new Map<number, Awaited<ReturnType<JobStatsService['window']>>>();
    for (const spec of this.catalog.all) {
      if (spec.kind !== 'queue_wait' && spec.kind !== 'run_time' && spec.kind !== 'success_ratio') continue;
      let stats = windows.get(spec.windowSeconds);
      if (!stats) windows.set(spec.windowSeconds, (stats = await this.jobStats.window(pairs, spec.windowSeconds, now.getTime())));
      const job = spec.id.slice(spec.kind.length + 1);
      const s = stats.find((x) => x.job === job);
      if (!s) continue;
      const { value, samples } = jobSlaValue(spec, s);
      out.push({ spec, subject: spec.subject, value, state: stateOf(spec, value), cause: 'breached', severity: 'critical', clear: value !== null && isClear(spec, value), samples });
    }
    return out;
  }

  /** Opens, updates and resolves breaches from the observations. */
  async apply(observations: Observation[], now: Date): Promise<{ opened: number; resolved: number }> {
    let opened = 0;
    let resolved = 0;
    const open = await this.breaches.open();
    const openBy = new Map(open.filter((b) => b.slaId !== WATCHDOG_SLA_ID).map((b) => [`${b.slaId}|${b.subject}`, b]));
    const seen = new Set<string>();
    const close = async (b: BreachRow, value: number | null) => {
      if (await this.breaches.resolve(b.id, now, value)) {
        resolved++;
        await this.alert(b.id, 'resolved');
      }
    };
    for (const o of observations) {
      const key = `${o.spec.id}|${o.subject}`;
      seen.add(key);
      let existing = openBy.get(key);
      if (o.state === 'breached' && o.value !== null) {
        if (existing && existing.cause !== o.cause) {
          // A change of state (delivery health) closes the old breach and opens one for the new state.
          await close(existing, o.value);
          existing = undefined;
        }
        if (!existing) {
          const row = await this.breaches.tryOpen({ slaId: o.spec.id, kind: o.spec.kind, subject: o.subject, cause: o.cause, severity: o.severity, unit: o.spec.unit, target: o.spec.target, value: o.value, detail: o.detail ?? null, startedAt: now });
          if (row) {
            opened++;
            await this.alert(row.id, 'firing');
          }
        } else {
          await this.breaches.observe(existing.id, o.value, worseOf(o.spec, existing.worstValue, o.value), null, o.detail);
        }
      } else if (existing && o.value !== null) {
        await this.settle(existing, o.clear, o.value, close, now);
      }
    }
    // A line item no longer active (completed, paused) has no delivery health left to breach.
    for (const [key, b] of openBy) {
      if (!seen.has(key) && b.kind === 'delivery_health') await this.settle(b, true, b.lastValue, close, now);
    }
    return { opened, resolved };
  }

  private async settle(b: BreachRow, clear: boolean, value: number, close: (b: BreachRow, v: number) => Promise<void>, now: Date): Promise<void> {
    if (!clear) return this.breaches.observe(b.id, value, b.worstValue, null);
    if (!b.clearSince) return this.breaches.observe(b.id, value, b.worstValue, now);
    if (now.getTime() - b.clearSince.getTime() >= this.config.SLA_CLEAR_SECONDS * 1000) return close(b, value);
    return this.breaches.observe(b.id, value, b.worstValue, b.clearSince);
  }

  private async alert(breachId: string, status: 'firing' | 'resolved'): Promise<void> {
    await this.jobs
      .enqueue(JobName.OpsSendAlert, { breachId, status }, { jobId: `alert-${breachId}-${status}` })
      .catch((err: Error) => this.logger.warn(`alert ${breachId} (${status}) not enqueued yet, the next evaluation retries: ${err.message}`));
  }

  /** Alerts recorded but never delivered nor queued (Redis was away, or lost them) are queued again. */
  private async resendUnsent(): Promise<void> {
    for (const { id, status } of await this.breaches.unsent(7, WATCHDOG_SLA_ID)) {
      const existing = await this.jobs.queue(JOBS[JobName.OpsSendAlert].queue).getJob(`alert-${id}-${status}`);
      if (!existing) await this.alert(id, status);
    }
  }
}

/**
 * A job SLA's value over a window of its stats: the success ratio, or the p95 (s) of the waits or run
 * times recorded in the window, computed from the recorded values rather than the histogram: a bucket's
 * upper bound (30 s for a 12.4 s wait) is no p95, and would breach a target the job never missed.
 */
export function jobSlaValue(spec: SlaSpec, s: JobWindowStats): { value: number | null; samples: number } {
  if (spec.kind === 'success_ratio') {
    const samples = s.succeeded + s.failed;
    return { value: samples >= (spec.minSamples ?? 1) ? round(s.succeeded / samples, 4) : null, samples };
  }
  const samples = (spec.kind === 'queue_wait' ? s.wait : s.run).reduce((a, b) => a + b, 0);
  const p95 = percentileOf(spec.kind === 'queue_wait' ? s.waitSamplesMs : s.runSamplesMs, 0.95);
  return { value: p95 === null ? null : p95 / 1000, samples };
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
