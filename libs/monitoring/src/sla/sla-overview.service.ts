import { MetricsService, RedisService, withTimeout } from '@app/platform';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Metric } from 'prom-client';
import { BreachRow, BreachesRepository } from '../repositories/breaches.repository';
import { BreachDto, SlaDto, SlaOverviewDto } from '../dto/ops.dto';
import { SlaCatalog } from './sla-catalog.service';
import { SlaState } from './sla-rules';
import { SNAPSHOT_KEY, SlaSnapshot } from './sla-snapshot';
import { SlaSpec, WATCHDOG_SLA_ID } from './sla.definitions';

const STATE_RANK: Record<SlaState, number> = { unknown: -1, ok: 0, warning: 1, breached: 2 };

export function breachDto(b: BreachRow): BreachDto {
  return {
    id: b.id,
    slaId: b.slaId,
    kind: b.kind,
    subject: b.subject,
    cause: b.cause,
    severity: b.severity,
    state: b.state,
    dedupKey: b.dedupKey,
    unit: b.unit,
    target: b.target,
    firstValue: b.firstValue,
    worstValue: b.worstValue,
    lastValue: b.lastValue,
    detail: b.detail,
    startedAt: b.startedAt.toISOString(),
    endedAt: b.endedAt?.toISOString() ?? null,
    firingSentAt: b.firingSentAt?.toISOString() ?? null,
    resolvedSentAt: b.resolvedSentAt?.toISOString() ?? null,
  };
}

/**
 * The API's view of the SLAs: declarations, the last evaluation's values (a snapshot the monitor keeps
 * in Redis) and breaches (MySQL). Also their Prometheus metrics, read at scrape time.
 */
@Injectable()
export class SlaOverviewService implements OnModuleInit {
  constructor(
    private readonly catalog: SlaCatalog,
    private readonly breaches: BreachesRepository,
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('sla_value', 'Value of each SLA per subject at the last evaluation (its unit is in GET /v1/ops/sla)', ['sla', 'subject'], async (gauge) => {
      const snapshot = await this.snapshot().catch(() => null);
      gauge.reset();
      for (const r of snapshot?.readings ?? []) if (r.value !== null) gauge.set({ sla: r.slaId, subject: r.subject }, r.value);
    });
    this.metrics.gauge('sla_state', 'State of each SLA per subject: -1 unknown, 0 ok, 1 warning, 2 breached', ['sla', 'subject'], async (gauge) => {
      const snapshot = await this.snapshot().catch(() => null);
      gauge.reset();
      for (const r of snapshot?.readings ?? []) gauge.set({ sla: r.slaId, subject: r.subject }, STATE_RANK[r.state]);
    });
    this.metrics.gauge('sla_target', 'Target of each SLA', ['sla'], (gauge) => {
      for (const spec of this.catalog.all) gauge.set({ sla: spec.id }, spec.target);
    });
    this.metrics.gauge('sla_last_evaluation_age_seconds', 'Seconds since a worker last evaluated the SLAs', [], async (gauge) => {
      const age = await this.breaches.secondsSinceHeartbeat().catch(() => null);
      if (age !== null) gauge.set(age);
    });
    this.metrics.gauge('sla_freshness_lag_seconds', 'Aggregation freshness: age of the oldest stored event not yet in the rollups, at the last evaluation', [], async (gauge) => {
      const snapshot = await this.snapshot().catch(() => null);
      const reading = snapshot?.readings.find((r) => r.slaId === 'aggregation.freshness');
      if (reading && reading.value !== null) gauge.set(reading.value);
    });
    const breaches = this.breaches;
    this.metrics.registry.registerMetric({
      name: 'sla_breaches_total',
      help: 'Breaches recorded per SLA (opened, since the start of the database)',
      type: 'counter',
      aggregator: 'sum',
      async get() {
        const counts = await withTimeout(breaches.countsBySla(), 1000, 'breach counts').catch(() => []);
        return { name: 'sla_breaches_total', help: '', type: 'counter', aggregator: 'sum', values: counts.map((c) => ({ labels: { sla: c.slaId }, value: c.count })) };
      },
      reset() {},
    } as unknown as Metric);
  }

  async snapshot(): Promise<SlaSnapshot | null> {
    const raw = await withTimeout(this.redis.client.get(this.redis.key(...SNAPSHOT_KEY)), 1000, 'SLA snapshot');
    return raw ? (JSON.parse(raw) as SlaSnapshot) : null;
  }

  async overview(): Promise<SlaOverviewDto> {
    const [snapshot, open, heartbeatAge] = await Promise.all([this.snapshot().catch(() => null), this.breaches.open(), this.breaches.secondsSinceHeartbeat()]);
    const slas: SlaDto[] = [];
    for (const spec of this.catalog.all) {
      const readings = (snapshot?.readings ?? [])
        .filter((r) => r.slaId === spec.id)
        .map((r) => ({ subject: r.subject, value: r.value, state: r.state, ...(r.samples !== undefined ? { samples: r.samples } : {}), ...(r.cause ? { cause: r.cause } : {}) }));
      if (spec.id === WATCHDOG_SLA_ID && heartbeatAge !== null) readings.push({ subject: spec.subject, value: Math.round(heartbeatAge * 10) / 10, state: heartbeatAge > spec.target ? 'breached' : 'ok' });
      const worst = readings.reduce<{ state: SlaState; value: number | null }>(
        (acc, r) => (STATE_RANK[r.state as SlaState] > STATE_RANK[acc.state] ? { state: r.state as SlaState, value: r.value } : acc),
        { state: 'unknown', value: null },
      );
      const recent = await this.breaches.list({ slaId: spec.id, state: 'resolved', limit: 5 });
      slas.push({
        ...specFields(spec),
        state: worst.state,
        value: worst.value,
        readings,
        openBreaches: open.filter((b) => b.slaId === spec.id).map(breachDto),
        recentBreaches: recent.map(breachDto),
      });
    }
    return { evaluatedAt: snapshot?.evaluatedAt ?? null, slas };
  }
}

function specFields(spec: SlaSpec) {
  return {
    id: spec.id,
    kind: spec.kind,
    subject: spec.subject,
    description: spec.description,
    unit: spec.unit,
    target: spec.target,
    ...(spec.warn !== undefined ? { warn: spec.warn } : {}),
    windowSeconds: spec.windowSeconds,
    direction: spec.direction,
  };
}
