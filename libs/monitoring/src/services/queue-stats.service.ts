import { ALL_QUEUES, JobQueue, withTimeout } from '@app/platform';
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { QueueStatsDto } from '../dto/ops.dto';

/** Per-queue counts and the age of the oldest waiting job, read from Redis. */
@Injectable()
export class QueueStatsService {
  constructor(private readonly jobs: JobQueue) {}

  async all(): Promise<QueueStatsDto[]> {
    try {
      return await withTimeout(Promise.all(ALL_QUEUES.map((name) => this.one(name))), 2000, 'queue stats');
    } catch (err) {
      throw new ServiceUnavailableException(`queue stats unavailable (Redis): ${(err as Error).message}`);
    }
  }

  private async one(name: (typeof ALL_QUEUES)[number]): Promise<QueueStatsDto> {
    const queue = this.jobs.queue(name);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    // Ascending order puts the oldest waiting job first.
    const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
    const paused = await queue.isPaused();
    return {
      queue: name,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
      oldestWaitingAgeSeconds: oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : null,
      paused,
    };
  }
}
