import fc from 'fast-check';
import { CapAccount, CapEvent, campaignKey, capToBudgets, fitsWhole, lineItemKey } from './budget-cap';

const account = (budget: number | null, billed = 0): CapAccount => ({ budgetMilli: budget === null ? null : BigInt(budget), billedMilli: BigInt(billed) });
const ev = (id: number, li: string, cost: number, cp = 'c1'): CapEvent => ({ id, lineItemId: li, campaignId: cp, costMilli: BigInt(cost) });

describe('capToBudgets', () => {
  it('bills every click of a CPC line item up to its budget and writes off the rest (852 clicks, budget of 10)', () => {
    const accounts = new Map([
      [lineItemKey('li'), account(10_000_000)],
      [campaignKey('c1'), account(null)],
    ]);
    const clicks = Array.from({ length: 852 }, (_, i) => ev(i + 1, 'li', 1_000_000));
    const { writtenOff, changes } = capToBudgets(clicks, accounts);
    expect(changes.get(lineItemKey('li'))).toEqual({ billedMilli: 10_000_000n, billedEvents: 10, writtenOffMilli: 842_000_000n, writtenOffEvents: 842 });
    expect(writtenOff).toEqual(clicks.slice(10).map((e) => e.id));
    expect(accounts.get(lineItemKey('li'))!.billedMilli).toBe(10_000_000n);
  });

  it('caps at the campaign budget when it is the smaller one, across line items, in arrival order', () => {
    const accounts = new Map([
      [lineItemKey('a'), account(5_000)],
      [lineItemKey('b'), account(5_000)],
      [campaignKey('c1'), account(3_000)],
    ]);
    const { writtenOff, changes } = capToBudgets([ev(1, 'a', 1_000), ev(2, 'b', 1_000), ev(3, 'a', 1_000), ev(4, 'b', 1_000)], accounts);
    expect(writtenOff).toEqual([4]);
    expect(changes.get(campaignKey('c1'))).toMatchObject({ billedMilli: 3_000n, writtenOffMilli: 1_000n });
    expect(changes.get(lineItemKey('b'))).toMatchObject({ billedMilli: 1_000n, billedEvents: 1, writtenOffEvents: 1 });
  });

  it('bills a cheaper later event that still fits after a dearer one did not (units are billed whole)', () => {
    const accounts = new Map([
      [lineItemKey('li'), account(2_500, 1_000)],
      [campaignKey('c1'), account(null)],
    ]);
    expect(capToBudgets([ev(1, 'li', 2_000), ev(2, 'li', 1_500)], accounts).writtenOff).toEqual([1]);
    expect(accounts.get(lineItemKey('li'))!.billedMilli).toBe(2_500n);
  });

  it('counts exactly past 2^53 milli-micros (budgets above $9M)', () => {
    const budget = 10n ** 17n + 7n;
    const accounts = new Map<string, CapAccount>([
      [lineItemKey('li'), { budgetMilli: budget, billedMilli: budget - 3n }],
      [campaignKey('c1'), account(null)],
    ]);
    const { writtenOff } = capToBudgets([ev(1, 'li', 2), ev(2, 'li', 2), ev(3, 'li', 1)], accounts);
    expect(writtenOff).toEqual([2]);
    expect(accounts.get(lineItemKey('li'))!.billedMilli).toBe(budget);
  });

  it('keeps every campaign and line item an account of its own', () => {
    expect(new Set([campaignKey('c1'), campaignKey('c2'), lineItemKey('c1'), lineItemKey('c2')]).size).toBe(4);
    const accounts = new Map([
      [lineItemKey('a'), account(null)],
      [lineItemKey('b'), account(null)],
      [campaignKey('c1'), account(1_000)],
      [campaignKey('c2'), account(2_000)],
    ]);
    const { writtenOff } = capToBudgets([ev(1, 'a', 1_000, 'c1'), ev(2, 'b', 1_000, 'c2'), ev(3, 'a', 1_000, 'c1'), ev(4, 'b', 1_000, 'c2'), ev(5, 'b', 1_000, 'c2')], accounts);
    expect(writtenOff).toEqual([3, 5]);
  });

  it('refuses to bill an account it was not given', () => {
    expect(() => capToBudgets([ev(1, 'li', 1)], new Map([[campaignKey('c1'), account(null)]]))).toThrow(/not loaded/);
  });

  it('fitsWhole is true only when every amount fits its account', () => {
    expect(fitsWhole([account(10, 5), account(null, 99)], [5n, 1_000n])).toBe(true);
    expect(fitsWhole([account(10, 5), account(null, 99)], [6n, 0n])).toBe(false);
  });

  /**
   * However events interleave (any costs, any number of line items and campaigns, batches cut
   * anywhere, clicks at any rate, events as late as they like), billed spend never passes a budget,
   * every event is billed or written off exactly once, and cutting the same arrivals into other
   * batches bills exactly the same events (no drift between aggregation runs).
   */
  it('property: billed never above budget, conservation, and the same result however the arrivals are batched', () => {
    const eventArb = fc.record({ li: fc.integer({ min: 0, max: 3 }), cost: fc.integer({ min: 1, max: 5_000 }) });
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 4, maxLength: 4 }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: null }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: null }),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 10 }),
        (arrivals, liBudgets, cpBudgetA, cpBudgetB, cuts) => {
          const campaignOf = (li: number) => (li < 2 ? 'A' : 'B');
          const events = arrivals.map((a, i) => ev(i + 1, `li${a.li}`, a.cost, campaignOf(a.li)));
          const fresh = () =>
            new Map<string, CapAccount>([
              ...liBudgets.map((b, i) => [lineItemKey(`li${i}`), account(b)] as const),
              [campaignKey('A'), account(cpBudgetA)],
              [campaignKey('B'), account(cpBudgetB)],
            ]);

          const whole = fresh();
          const once = capToBudgets(events, whole);

          const batched = fresh();
          const writtenOff: number[] = [];
          const bounds = [...new Set([0, ...cuts.filter((c) => c < events.length), events.length])].sort((x, y) => x - y);
          for (let i = 0; i + 1 < bounds.length; i++) writtenOff.push(...capToBudgets(events.slice(bounds[i], bounds[i + 1]), batched).writtenOff);
          expect(writtenOff).toEqual(once.writtenOff);

          const off = new Set(once.writtenOff);
          const billedBy = (pred: (e: CapEvent) => boolean) => events.filter((e) => pred(e) && !off.has(e.id)).reduce((s, e) => s + e.costMilli, 0n);
          for (const [key, a] of whole) {
            if (a.budgetMilli !== null) expect(a.billedMilli).toBeLessThanOrEqual(a.budgetMilli);
            const pred = key.startsWith('li:') ? (e: CapEvent) => lineItemKey(e.lineItemId) === key : (e: CapEvent) => campaignKey(e.campaignId) === key;
            expect(a.billedMilli).toBe(billedBy(pred));
            const c = once.changes.get(key);
            if (c) expect(c.billedMilli + c.writtenOffMilli).toBe(events.filter(pred).reduce((s, e) => s + e.costMilli, 0n));
          }
          // Nothing is written off that would have fit when it arrived (greedy in arrival order).
          const replay = fresh();
          for (const e of events) {
            const li = replay.get(lineItemKey(e.lineItemId))!;
            const cp = replay.get(campaignKey(e.campaignId))!;
            const fits = [li, cp].every((a) => a.budgetMilli === null || a.billedMilli + e.costMilli <= a.budgetMilli);
            expect(off.has(e.id)).toBe(!fits);
            if (fits) {
              li.billedMilli += e.costMilli;
              cp.billedMilli += e.costMilli;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
