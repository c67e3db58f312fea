import { observedQueue } from '../../../../test/support/observed-queue';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The queue wait the JobObserver records, from BullMQ's own timestamps on a real queue and worker: a
 * job scheduler's runs and a delayed job wait from when they were due, an ordinary job from when it was
 * added. Read back as the recorded sums (JobStatsService totals).
 */
describe('JobObserver queue wait (real Redis and BullMQ)', () => {
  const q = observedQueue('observed');

  it('counts neither the repeat interval of a scheduled job nor the delay of a delayed one, and counts what an ordinary job waited', async () => {
    const { queue, stats } = q;
    const runs = new Map<string, number>();

    // Added while no worker runs: it really waits about 1.5 s.
    await queue.add('waited', {});
    await sleep(1500);
    await queue.add('delayed', {}, { delay: 1500 });
    await queue.upsertJobScheduler('tick', { every: 1000 }, { name: 'tick', data: {} });
    const worker = q.work(async (job) => void runs.set(job.name, (runs.get(job.name) ?? 0) + 1));

    for (let i = 0; i < 200 && ((runs.get('tick') ?? 0) < 4 || !runs.has('delayed') || !runs.has('waited')); i++) await sleep(50);
    await worker.close();
    const totals = new Map((await stats.totals()).map((t) => [t.job, t]));
    const samples = (job: string) => totals.get(job)!.wait.reduce((a, b) => a + b, 0);

    expect(samples('tick')).toBeGreaterThanOrEqual(4);
    // The repeat interval is 1 s: counted as wait, it averaged ~770 ms; a worker under load still picks a due job up well within 600.
    expect(totals.get('tick')!.waitSumMs / samples('tick')).toBeLessThan(600);
    expect(samples('delayed')).toBe(1);
    expect(totals.get('delayed')!.waitSumMs).toBeLessThan(600);
    expect(samples('waited')).toBe(1);
    expect(totals.get('waited')!.waitSumMs).toBeGreaterThanOrEqual(1400);
  });
});
