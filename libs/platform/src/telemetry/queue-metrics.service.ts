import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Metric } from 'prom-client';

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}
import { withTimeout } from '../redis/redis.service';
import { JobQueue } from '../queue/job-queue.service';
import { ALL_QUEUES } from '../queue/jobs';
import { JOB_TIME_BUCKETS_MS, JobStatsService, JobTotals } from './job-stats.service';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/**
 * Queue depth gauges, and job wait and run time histograms per queue and job. Jobs run in the workers,
 * which serve no HTTP: they write their samples to Redis (JobStatsService) and every API process shows
 * the totals of all workers, read when /metrics is scraped.
 */
@Injectable()
export class QueueMetricsService implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly jobs: JobQueue,
    private readonly stats: JobStatsService,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge('queue_jobs', 'Jobs per queue and state', ['queue', 'state'], async (gauge) => {
      gauge.reset();
      await Promise.all(
        ALL_QUEUES.map(async (name) => {
          const counts = await withTimeout(this.jobs.queue(name).getJobCounts(...STATES), 1000, 'queue counts').catch(() => null);
          if (!counts) return;
          for (const state of STATES) gauge.set({ queue: name, state }, counts[state] ?? 0);
        }),
      );
    });
    this.metrics.gauge('queue_paused', '1 while a queue is paused (on every worker)', ['queue'], async (gauge) => {
      await Promise.all(
        ALL_QUEUES.map(async (name) => {
          const paused = await withTimeout(this.jobs.queue(name).isPaused(), 1000, 'queue paused').catch(() => null);
          if (paused !== null) gauge.set({ queue: name }, paused ? 1 : 0);
        }),
      );
    });
    let totals: Promise<JobTotals[]> | undefined;
    // Both histograms come from one read of Redis per scrape.
    const read = () => {
      totals ??= withTimeout(this.stats.totals(), 1000, 'job totals')
        .catch(() => [])
        .finally(() => setTimeout(() => (totals = undefined), 500).unref());
      return totals;
    };
    this.metrics.registry.registerMetric(histogramFromTotals('job_wait_seconds', 'Time jobs waited in their queue before a worker took them (first attempts), by queue and job', read, 'wait'));
    this.metrics.registry.registerMetric(histogramFromTotals('job_run_seconds', 'Time a worker spent on a job attempt, by queue and job', read, 'run'));
  }
}

/** A Prometheus histogram whose buckets are the running totals kept in Redis. */
function histogramFromTotals(name: string, help: string, read: () => Promise<JobTotals[]>, which: 'wait' | 'run'): Metric {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: HistogramValue[] = [];
      for (const t of await read()) {
        const labels = { queue: t.queue, job: t.job };
        const counts = t[which];
        let cumulative = 0;
        JOB_TIME_BUCKETS_MS.forEach((bound, i) => {
          cumulative += counts[i];
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound / 1000 }, value: cumulative });
        });
        cumulative += counts[JOB_TIME_BUCKETS_MS.length];
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
        values.push({ metricName: `${name}_sum`, labels, value: (which === 'wait' ? t.waitSumMs : t.runSumMs) / 1000 });
        values.push({ metricName: `${name}_count`, labels, value: cumulative });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values } as never;
    },
    reset() {},
  } as unknown as Metric;
}
