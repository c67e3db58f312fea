import { PACING_ALLOWANCE_FRACTION, pacingPlan, serveProbability } from './pacing';

const DAY = { dayStartMs: Date.UTC(2026, 10, 25), dayEndMs: Date.UTC(2026, 10, 26) };
const li = {
  pacing: 'EVEN' as const,
  budgetMicros: 1_000_000_000,
  dailyBudgetMicros: 48_000_000 as number | null,
  startAt: Date.UTC(2026, 10, 1),
  endAt: Date.UTC(2026, 11, 1),
  pricingModel: 'CPM' as const,
  rateMicros: 5_000_000,
};

describe('pacing', () => {
  it('EVEN with a daily budget: linear over the local day', () => {
    const plan = pacingPlan(li, Date.UTC(2026, 10, 25, 6), DAY);
    expect(plan.basis).toBe('daily');
    expect(plan.targetMilliMicros).toBe(12_000_000_000);
    expect(plan.allowanceMilliMicros).toBe(48_000_000_000 * PACING_ALLOWANCE_FRACTION);
  });

  it('EVEN without a daily budget: linear over the flight', () => {
    const plan = pacingPlan({ ...li, dailyBudgetMicros: null }, Date.UTC(2026, 10, 16), DAY);
    expect(plan.basis).toBe('flight');
    expect(plan.targetMilliMicros).toBe(500_000_000_000);
  });

  it('a flight starting mid-day spreads the daily budget over the rest of the day', () => {
    const plan = pacingPlan({ ...li, startAt: Date.UTC(2026, 10, 25, 12) }, Date.UTC(2026, 10, 25, 18), DAY);
    expect(plan.targetMilliMicros).toBe(24_000_000_000);
  });

  it('a flight with no length (start = end) allows its whole budget, before, at and after that instant', () => {
    const instant = Date.UTC(2026, 10, 20);
    const flat = { ...li, dailyBudgetMicros: null, startAt: instant, endAt: instant };
    for (const now of [instant - 1000, instant, instant + 1000]) expect(pacingPlan(flat, now, DAY).targetMilliMicros).toBe(1_000_000_000_000);
  });

  it('ASAP has no curve', () => {
    const plan = pacingPlan({ ...li, pacing: 'ASAP' }, Date.UTC(2026, 10, 25, 6), DAY);
    expect(plan.basis).toBe('none');
    expect(serveProbability(1e18, plan)).toBe(1);
  });

  it('serve probability: 1 behind the curve, falling to 0 at the allowance', () => {
    const plan = { basis: 'daily' as const, targetMilliMicros: 1000, allowanceMilliMicros: 200 };
    expect(serveProbability(900, plan)).toBe(1);
    expect(serveProbability(1000, plan)).toBe(1);
    expect(serveProbability(1100, plan)).toBeCloseTo(0.5);
    expect(serveProbability(1200, plan)).toBe(0);
    expect(serveProbability(5000, plan)).toBe(0);
  });

  it('the allowance is never smaller than two billable events', () => {
    const plan = pacingPlan({ ...li, pricingModel: 'CPC', rateMicros: 2_000_000, dailyBudgetMicros: 10_000_000 }, Date.UTC(2026, 10, 25, 6), DAY);
    expect(plan.allowanceMilliMicros).toBe(4_000_000_000);
  });

  it('over a simulated day, EVEN spend tracks the curve when demand exceeds the budget', () => {
    let spent = 0;
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const price = li.rateMicros; // milli-micros per CPM impression
    const checkpoints: number[] = [];
    for (let minute = 0; minute < 24 * 60; minute++) {
      const now = DAY.dayStartMs + minute * 60_000;
      const plan = pacingPlan(li, now, DAY);
      // 100 requests a minute, far more than the 9,600 impressions the daily budget buys.
      for (let r = 0; r < 100; r++) {
        if (spent + price <= li.dailyBudgetMicros! * 1000 && random() < serveProbability(spent, plan)) spent += price;
      }
      if (minute % 360 === 359) checkpoints.push(spent / (li.dailyBudgetMicros! * 1000));
    }
    expect(checkpoints[0]).toBeGreaterThan(0.24);
    expect(checkpoints[0]).toBeLessThan(0.28);
    expect(checkpoints[1]).toBeGreaterThan(0.49);
    expect(checkpoints[1]).toBeLessThan(0.53);
    expect(checkpoints[3]).toBeGreaterThan(0.98);
  });
});
