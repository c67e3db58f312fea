import { JobObserver, JobStatsService, RedisService } from '@app/platform';
import { Job, Queue, Worker } from 'bullmq';
import { testRedis } from './test-redis';

/**
 * A real BullMQ queue under a test Redis prefix, with the JobObserver and JobStatsService that record
 * its jobs' waits and runs: registers its own beforeAll/afterAll (Redis keys, queue and worker gone after).
 */
export function observedQueue(name: string): {
  readonly stats: JobStatsService;
  readonly queue: Queue;
  /** Starts the worker: each job observed as the platform's workers observe theirs, then `run`. */
  work(run: (job: Job) => Promise<void>): Worker;
} {
  let redis: RedisService & { cleanup(): Promise<void> };
  let stats: JobStatsService;
  let queue: Queue;
  let worker: Worker | undefined;
  const connection = { host: '127.0.0.1', port: 6379 };

  beforeAll(async () => {
    redis = await testRedis();
    stats = new JobStatsService(redis);
    queue = new Queue(name, { connection, prefix: redis.prefix });
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis.cleanup();
  });

  return {
    get stats() {
      return stats;
    },
    get queue() {
      return queue;
    },
    work(run) {
      const observer = new JobObserver(stats);
      worker = new Worker(name, (job: Job) => observer.observe(name, job, () => run(job)), { connection, prefix: redis.prefix });
      return worker;
    },
  };
}
