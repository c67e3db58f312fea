import { Job, Queue, Worker } from 'bullmq';
import { testRedis } from '../../../../test/support/test-redis';
import { RedisService } from '../redis/redis.service';
import { JobStatsService } from '../telemetry/job-stats.service';
import { JobObserver } from './job-observer.service';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The queue wait the JobObserver records, from BullMQ's own timestamps on a real queue and worker: a
 * job scheduler's runs and a delayed job wait from when they were due, an ordinary job from when it was
 * added. Read back as the recorded sums (JobStatsService totals).
 */
describe('JobObserver queue wait (real Redis and BullMQ)', () => {
  let redis: RedisService & { cleanup(): Promise<void> };
  let queue: Queue;
  let worker: Worker | undefined;

  beforeAll(async () => {
    redis = await testRedis();
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis.cleanup();
  });

  it('counts neither the repeat interval of a scheduled job nor the delay of a delayed one, and counts what an ordinary job waited', async () => {
    const connection = { host: '127.0.0.1', port: 6379 };
    const prefix = redis.prefix;
    const stats = new JobStatsService(redis);
    const observer = new JobObserver(stats);
    queue = new Queue('observed', { connection, prefix });
    const runs = new Map<string, number>();

    // Added while no worker runs: it really waits about 1.5 s.
    await queue.add('waited', {});
    await sleep(1500);
    await queue.add('delayed', {}, { delay: 1500 });
    await queue.upsertJobScheduler('tick', { every: 1000 }, { name: 'tick', data: {} });
    worker = new Worker('observed', (job: Job) => observer.observe('observed', job, async () => void runs.set(job.name, (runs.get(job.name) ?? 0) + 1)), { connection, prefix });

    for (let i = 0; i < 200 && ((runs.get('tick') ?? 0) < 4 || !runs.has('delayed') || !runs.has('waited')); i++) await sleep(50);
    await worker.close();
    const totals = new Map((await stats.totals()).map((t) => [t.job, t]));
    const samples = (job: string) => totals.get(job)!.wait.reduce((a, b) => a + b, 0);

    expect(samples('tick')).toBeGreaterThanOrEqual(4);
    expect(totals.get('tick')!.waitSumMs / samples('tick')).toBeLessThan(250);
    expect(samples('delayed')).toBe(1);
    expect(totals.get('delayed')!.waitSumMs).toBeLessThan(250);
    expect(samples('waited')).toBe(1);
    expect(totals.get('waited')!.waitSumMs).toBeGreaterThanOrEqual(1400);
  });
});
