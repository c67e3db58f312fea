import { Injectable, OnModuleInit } from '@nestjs/common';
import { withTimeout } from '../redis/redis.service';
import { JobQueue } from '../queue/job-queue.service';
import { ALL_QUEUES } from '../queue/jobs';
import { MetricsService } from './metrics.service';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/** Queue depth gauges, read from Redis when /metrics is scraped. */
@Injectable()
export class QueueMetricsService implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly jobs: JobQueue,
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
  }
}
