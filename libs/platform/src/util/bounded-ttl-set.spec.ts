import { BoundedTtlSet } from './bounded-ttl-set';

describe('BoundedTtlSet', () => {
  it('forgets a value after its time to live', () => {
    let now = 1_000;
    const set = new BoundedTtlSet(500, 10, () => now);
    set.add('a');
    expect(set.has('a')).toBe(true);
    now += 499;
    expect(set.has('a')).toBe(true);
    now += 1;
    expect(set.has('a')).toBe(false);
    expect(set.size).toBe(0);
  });

  it('never holds more than maxEntries: the oldest go first', () => {
    const set = new BoundedTtlSet(60_000, 3);
    for (const v of ['a', 'b', 'c', 'd', 'e']) set.add(v);
    expect(set.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((v) => set.has(v))).toEqual([false, false, true, true, true]);
  });

  it('remembers nothing with a zero time to live', () => {
    const set = new BoundedTtlSet(0, 3);
    set.add('a');
    expect(set.has('a')).toBe(false);
    expect(set.size).toBe(0);
  });
});
