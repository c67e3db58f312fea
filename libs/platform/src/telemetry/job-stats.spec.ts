import { JOB_TIME_BUCKETS_MS, bucketOf, percentileOf, quantileOf } from './job-stats.service';

describe('job time buckets', () => {
  it('puts a duration in the first bucket whose bound holds it, overflow past the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(5)).toBe(0);
    expect(bucketOf(6)).toBe(1);
    expect(bucketOf(10 ** 9)).toBe(JOB_TIME_BUCKETS_MS.length);
  });

  it('answers the bound under which the quantile falls (never below the true value)', () => {
    const counts = new Array<number>(JOB_TIME_BUCKETS_MS.length + 1).fill(0);
    expect(quantileOf(counts, 0.95)).toBeNull();
    counts[bucketOf(40)] = 94;
    counts[bucketOf(4000)] = 6;
    expect(quantileOf(counts, 0.95)).toBe(5000);
    expect(quantileOf(counts, 0.5)).toBe(50);
  });

  it('answers a percentile that was observed (nearest rank), never above the largest sample', () => {
    expect(percentileOf([], 0.95)).toBeNull();
    expect(percentileOf([12_436], 0.95)).toBe(12_436);
    const waits = [...Array.from({ length: 19 }, (_, i) => 12_000 + i), 221_000];
    expect(percentileOf(waits, 0.95)).toBe(12_018);
    expect(percentileOf([...waits, 221_400], 0.95)).toBe(221_000);
  });
});
