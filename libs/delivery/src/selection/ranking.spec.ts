import { CLICK_RATE_PRIOR, billedEventRate, billedEventRateUpper, expectedValueMilliMicros, observedRate, pickWeighted, rankCandidates, rankedEligible } from './ranking';

function seeded(seed: number) {
  return () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
}

describe('ranking', () => {
  it('observed rates start at the prior and move to the data', () => {
    expect(observedRate(0, 0, CLICK_RATE_PRIOR)).toBeCloseTo(0.01);
    expect(observedRate(500, 10_000, CLICK_RATE_PRIOR)).toBeCloseTo(502 / 10_200);
  });

  it('expected value per impression: CPM rate/1000, CPC rate x CTR, CPCL rate x completion rate', () => {
    const none = { impressions: 0, clicks: 0, completes: 0 };
    expect(expectedValueMilliMicros('CPM', 4_000_000, none)).toBe(4_000_000);
    expect(expectedValueMilliMicros('CPC', 1_000_000, none)).toBeCloseTo(10_000_000);
    const seen = { impressions: 9_980, clicks: 198, completes: 7_986 };
    expect(expectedValueMilliMicros('CPC', 1_000_000, seen)).toBeCloseTo(1e9 * (200 / 10_180));
    expect(expectedValueMilliMicros('CPCL', 10_000, seen)).toBeCloseTo(1e7 * (8_000 / 10_000));
  });

  it('orders by priority, then expected value', () => {
    const ranked = rankCandidates(
      [
        { id: 'std-low', priority: 8, expectedValue: 1, weight: 1 },
        { id: 'house', priority: 16, expectedValue: 100, weight: 1 },
        { id: 'sponsor', priority: 4, expectedValue: 0.5, weight: 1 },
        { id: 'std-high', priority: 8, expectedValue: 3, weight: 1 },
      ],
      Math.random,
    );
    expect(ranked.map((r) => r.id)).toEqual(['sponsor', 'std-high', 'std-low', 'house']);
  });

  it('breaks ties at random in proportion to weight', () => {
    const random = seeded(11);
    const wins = { a: 0, b: 0, c: 0 };
    const items = [
      { id: 'a' as const, priority: 8, expectedValue: 2, weight: 1 },
      { id: 'b' as const, priority: 8, expectedValue: 2, weight: 3 },
      { id: 'c' as const, priority: 8, expectedValue: 2, weight: 6 },
    ];
    for (let i = 0; i < 20_000; i++) wins[rankCandidates(items, random)[0].id]++;
    expect(wins.a / 20_000).toBeCloseTo(0.1, 1);
    expect(wins.b / 20_000).toBeCloseTo(0.3, 1);
    expect(wins.c / 20_000).toBeCloseTo(0.6, 1);
  });

  it('picks creatives by weight', () => {
    const random = seeded(3);
    const counts = new Map<string, number>();
    const creatives = [
      { id: 'x', weight: 1 },
      { id: 'y', weight: 4 },
    ];
    for (let i = 0; i < 10_000; i++) {
      const c = pickWeighted(creatives, random);
      counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
    }
    expect(counts.get('y')! / 10_000).toBeCloseTo(0.8, 1);
    expect(pickWeighted([{ id: 'only', weight: 1 }], () => 0.999).id).toBe('only');
  });
});

describe('billedEventRateUpper', () => {
  const counts = (impressions: number, clicks: number, completes = 0) => ({ impressions, clicks, completes });

  it('is 1 for CPM and never below the posterior mean for CPC and CPCL', () => {
    expect(billedEventRateUpper('CPM', counts(0, 0))).toBe(1);
    for (const [i, c] of [[0, 0], [100, 1], [1000, 500], [50, 50]]) {
      expect(billedEventRateUpper('CPC', counts(i, c))).toBeGreaterThan(billedEventRate('CPC', counts(i, c)));
      expect(billedEventRateUpper('CPCL', counts(i, 0, c))).toBeGreaterThanOrEqual(billedEventRate('CPCL', counts(i, 0, c)));
    }
  });

  it('holds about 3% of a click before any evidence, and rises fast when every ad is clicked', () => {
    expect(billedEventRateUpper('CPC', counts(0, 0))).toBeCloseTo(0.01 + 3 * Math.sqrt((2 * 198) / (200 * 200 * 201)), 6);
    expect(billedEventRateUpper('CPC', counts(100, 100))).toBeGreaterThan(0.4);
    expect(billedEventRateUpper('CPC', counts(2000, 2000))).toBeGreaterThan(0.9);
    expect(billedEventRateUpper('CPC', counts(1e6, 1e6))).toBeLessThanOrEqual(1);
  });

  it('treats more clicks than impressions as every impression clicked', () => {
    expect(billedEventRateUpper('CPC', counts(10, 50))).toBe(billedEventRateUpper('CPC', counts(10, 10)));
  });
});

describe('ranking details', () => {
  const counts = { impressions: 100, clicks: 3, completes: 40 };

  it('bills CPM impressions at rate 1 whatever the observed rates', () => {
    expect(billedEventRate('CPM', counts)).toBe(1);
    expect(billedEventRate('CPCL', counts)).toBeCloseTo((40 + 14) / (100 + 20), 10);
  });

  it('pickWeighted: a draw on a boundary goes to the next item; all-zero weights give the last', () => {
    const items = [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }];
    expect(pickWeighted(items, () => 0.5).id).toBe('b');
    expect(pickWeighted(items, () => 0.49).id).toBe('a');
    expect(pickWeighted([{ id: 'x', weight: 0 }, { id: 'y', weight: 0 }], () => 0.3).id).toBe('y');
  });

  it('rankedEligible shuffles only runs equal on priority and expected value, by weight', () => {
    const item = (id: string, priority: number, expectedValue: number, weight: number) => ({ id, priority, expectedValue, weight });
    // Sorted input: two tied items (the second far heavier), then a worse one of the same priority, then a lower priority.
    const sorted = [item('light', 8, 100, 1), item('heavy', 8, 100, 1000), item('worse', 8, 50, 1e6), item('later', 9, 1e9, 1e6)];
    let heavyFirst = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const order = [...rankedEligible(sorted, (x) => x, seeded(seed))].map((x) => x.id);
      expect(order.slice(2)).toEqual(['worse', 'later']);
      if (order[0] === 'heavy') heavyFirst++;
    }
    expect(heavyFirst).toBeGreaterThan(180);
  });

  it('rankedEligible examines items only as the caller pulls: a run ends where priority or expected value changes', () => {
    const item = (id: string, priority: number, expectedValue: number) => ({ id, priority, expectedValue, weight: 1 });
    // Runs of one: same expected value but another priority, then same priority but a lower expected value.
    const sorted = [item('a', 1, 100), item('b', 2, 100), item('c', 2, 50)];
    const examined: string[] = [];
    const ranked = rankedEligible(sorted, (x) => (examined.push(x.id), x), seeded(7));
    expect(ranked.next().value?.id).toBe('a');
    expect(examined).toEqual(['a']);
    expect(ranked.next().value?.id).toBe('b');
    expect(examined).toEqual(['a', 'b']);
  });
});
