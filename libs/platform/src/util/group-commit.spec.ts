import { GroupCommitOverloadedError, GroupCommitter } from './group-commit';

const options = { maxItems: 5, maxDelayMs: 5, maxInFlight: 1, maxPendingItems: 20, maxWaitMs: 60_000, what: 'the test queue' };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('GroupCommitter', () => {
  it('writes concurrent submissions in one flush and gives each its own results in order', async () => {
    const flushes: number[][] = [];
    const committer = new GroupCommitter<number, string>(async (items) => {
      flushes.push(items);
      return items.map((i) => `r${i}`);
    }, options);
    const [a, b, c] = await Promise.all([committer.submit([1]), committer.submit([2, 3]), committer.submit([4])]);
    expect(flushes).toEqual([[1, 2, 3, 4]]);
    expect(a).toEqual(['r1']);
    expect(b).toEqual(['r2', 'r3']);
    expect(c).toEqual(['r4']);
  });

  it('flushes at once when maxItems are waiting, and never splits a submission', async () => {
    const flushes: number[][] = [];
    const committer = new GroupCommitter<number, number>(async (items) => {
      flushes.push(items);
      return items;
    }, { ...options, maxDelayMs: 10_000 });
    const big = committer.submit([1, 2, 3, 4, 5, 6, 7]);
    await expect(big).resolves.toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(flushes).toEqual([[1, 2, 3, 4, 5, 6, 7]]);
  });

  it('answers nobody before the flush settles, and accumulates while a flush is in flight', async () => {
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    const flushes: number[][] = [];
    const committer = new GroupCommitter<number, number>(async (items) => {
      flushes.push(items);
      const gate = deferred<void>();
      gates.push(gate);
      await gate.promise;
      return items;
    }, options);
    let firstDone = false;
    const first = committer.submit([1]).then((r) => {
      firstDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(flushes).toEqual([[1]]);
    const second = committer.submit([2]);
    const third = committer.submit([3]);
    await new Promise((r) => setTimeout(r, 20));
    expect(firstDone).toBe(false);
    expect(flushes).toHaveLength(1);
    gates[0].resolve();
    await expect(first).resolves.toEqual([1]);
    await new Promise((r) => setTimeout(r, 5));
    expect(flushes).toEqual([[1], [2, 3]]);
    gates[1].resolve();
    await expect(Promise.all([second, third])).resolves.toEqual([[2], [3]]);
  });

  it('with maxDelayMs 0, flushes together what one event-loop turn submitted, and a later turn separately', async () => {
    const flushes: number[][] = [];
    const committer = new GroupCommitter<number, number>(async (items) => {
      flushes.push(items);
      return items;
    }, { ...options, maxItems: 100, maxDelayMs: 0 });
    const first = committer.submit([1]);
    // A later microtask of the same turn still joins the flush.
    const second = Promise.resolve().then(() => committer.submit([2]));
    await expect(Promise.all([first, second])).resolves.toEqual([[1], [2]]);
    expect(flushes).toEqual([[1, 2]]);
    await new Promise((r) => setImmediate(r));
    const third = committer.submit([3]);
    await expect(third).resolves.toEqual([3]);
    expect(flushes).toEqual([[1, 2], [3]]);
  });

  it('rejects every submission of a failed flush and keeps serving later ones', async () => {
    let fail = true;
    const committer = new GroupCommitter<number, number>(async (items) => {
      if (fail) throw new Error('db down');
      return items;
    }, options);
    const results = await Promise.allSettled([committer.submit([1]), committer.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(committer.submit([3])).resolves.toEqual([3]);
  });

  it('refuses submissions beyond maxPendingItems instead of queueing without bound', async () => {
    const gate = deferred<void>();
    const committer = new GroupCommitter<number, number>(async (items) => {
      await gate.promise;
      return items;
    }, options);
    const inFlight = committer.submit([0, 0, 0, 0, 0]);
    const waiting = committer.submit(Array.from({ length: 20 }, () => 1));
    await expect(committer.submit([2])).rejects.toBeInstanceOf(GroupCommitOverloadedError);
    await expect(committer.submit([2])).rejects.toThrow('the test queue is overloaded (20 waiting)');
    gate.resolve();
    await expect(inFlight).resolves.toHaveLength(5);
    await expect(waiting).resolves.toHaveLength(20);
  });

  it('refuses a submission that waited maxWaitMs for a slot, when a slot frees, and flushes the fresh ones', async () => {
    const gate = deferred<void>();
    const flushes: number[][] = [];
    const committer = new GroupCommitter<number, number>(async (items) => {
      flushes.push(items);
      if (flushes.length === 1) await gate.promise;
      return items;
    }, { ...options, maxDelayMs: 0, maxWaitMs: 30 });
    const hung = committer.submit([1]);
    await new Promise((r) => setTimeout(r, 5));
    const stale = committer.submit([2]);
    await new Promise((r) => setTimeout(r, 50));
    const fresh = committer.submit([3]);
    gate.resolve();
    await expect(hung).resolves.toEqual([1]);
    await expect(stale).rejects.toThrow('the test queue is overloaded (no slot within 30 ms)');
    await expect(fresh).resolves.toEqual([3]);
    expect(flushes).toEqual([[1], [3]]);
    expect(committer.waiting).toBe(0);
  });
});
