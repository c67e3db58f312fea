import { MAX_IMPRESSIONS_PER_USER_MINUTE, overLimit, rateKey } from './rate-limiter.service';

describe('per-user rate limits', () => {
  it('keys impressions and clicks per user and minute of event time, and nothing else', () => {
    expect(rateKey({ userId: 'u1', event: 'impression', occurredAt: 120_500 })).toBe('ivt:rate:impression:2:u1');
    expect(rateKey({ userId: 'u1', event: 'click', occurredAt: 59_999 })).toBe('ivt:rate:click:0:u1');
    expect(rateKey({ userId: 'u1', event: 'midpoint', occurredAt: 0 })).toBeNull();
  });

  it('flags only the events beyond the limit, counting what earlier batches added', () => {
    const keys = ['a', 'b', 'a', null, 'a'];
    // Earlier batches already counted 1 for "a"; this batch adds 3 -> total 4. Limit 3: the third "a" of this batch is the 4th.
    const totals = new Map([['a', 4], ['b', 1]]);
    expect(overLimit(keys, totals, () => 3)).toEqual([false, false, false, false, true]);
  });

  it('lets exactly the limit through within a fresh minute', () => {
    const n = MAX_IMPRESSIONS_PER_USER_MINUTE + 2;
    const keys = Array.from({ length: n }, () => 'k');
    const flags = overLimit(keys, new Map([['k', n]]), () => MAX_IMPRESSIONS_PER_USER_MINUTE);
    expect(flags.filter(Boolean)).toHaveLength(2);
    expect(flags.slice(0, MAX_IMPRESSIONS_PER_USER_MINUTE).every((f) => !f)).toBe(true);
  });
});
