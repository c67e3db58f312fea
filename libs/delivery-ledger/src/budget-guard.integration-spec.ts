import { LedgerTestRedis, ledgerTargets } from '../../../test/support/ledger-redis';
import { ledgerCandidate, ledgerClaims } from '../../../test/support/ledger';
import { ManualClock } from './clock';
import type { TrackingClaims } from '@app/delivery';
import type { CountableEvent, ReservationCandidate } from './ledger.types';
import { DeliveryLedger } from './delivery-ledger.service';
import { billedEventRateUpper } from '@app/delivery';
import { eventPriceMilliMicros } from './pricing';
import { seededRandom as rng } from '../../../test/support/seeded-random';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/**
 * The budget guard under concurrency: several "API replicas" (own Redis connections, one prefix) race
 * decisions against one budget; then every served decision delivers. Measured spend must stay within
 * 1% of the budget.
 */
describe.each(ledgerTargets())('budget guard (real Redis: %s, concurrent replicas)', (_, target) => {
  const replicas: LedgerTestRedis[] = [];
  let clock: ManualClock;
  let services: DeliveryLedger[];

  beforeEach(async () => {
    clock = new ManualClock(T0);
    replicas.push(await target.connect());
    for (let i = 1; i < 4; i++) replicas.push(await target.connect(replicas[0].prefix));
    services = replicas.map((r) => new DeliveryLedger(r, clock));
    await Promise.all(services.map((s) => s.whenReady()));
    await services[0].markRestored();
  });

  afterEach(async () => {
    for (const s of services) s.onApplicationShutdown();
    for (const r of replicas.splice(1)) await r.onApplicationShutdown();
    await replicas.pop()!.cleanup();
  });

  /** A line item's candidate; its campaign has no budget unless one is given, so that the line item's own check is what holds. */
  function candidate(
    lineItemId: string,
    model: TrackingClaims['pricingModel'],
    rateMicros: number,
    budgetMicros: number,
    reserveMilli: number,
    campaign: { id?: string; budgetMicros?: number } = {},
  ): ReservationCandidate {
    return ledgerCandidate({
      lineItemId,
      campaignId: campaign.id ?? `cp-${lineItemId}`,
      eventPriceMilliMicros: eventPriceMilliMicros(model, rateMicros),
      reserveMilliMicros: reserveMilli,
      budgetMilliMicros: budgetMicros * 1000,
      campaignBudgetMilliMicros: campaign.budgetMicros === undefined ? null : campaign.budgetMicros * 1000,
      random: 0,
    });
  }

  async function race(n: number, c: ReservationCandidate, model: TrackingClaims['pricingModel'], rateMicros: number, batch: number): Promise<TrackingClaims[]> {
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const decisionId = `b${batch}-d${i}`;
        const r = await services[i % services.length].reserve({ userId: `u${i}`, decisionIds: [decisionId], candidates: [c] });
        if (!r.restored || r.selected.length === 0) return null;
        const claims = ledgerClaims({ decisionId, advertiserId: 'a', campaignId: c.campaignId, lineItemId: c.lineItemId, creativeId: 'cr', userId: `u${i}`, pricingModel: model, rateMicros, platform: 'web', issuedAt: Math.floor(clock.now() / 1000) });
        return claims;
      }),
    );
    return results.filter((x): x is TrackingClaims => x !== null);
  }

  it('CPM: 2,000 racing decisions on a 150-impression line item budget (campaign without one) deliver exactly the budget', async () => {
    const rate = 3_333_333;
    const budgetMicros = Math.floor((150 * rate) / 1000);
    const c = candidate('cpm', 'CPM', rate, budgetMicros, rate);
    const served = await race(2000, c, 'CPM', rate, 0);
    // 149 whole impressions fit in floor(150 × 3,333.333) micros; the 150th would pass it by 0.3 µ.
    expect(served).toHaveLength(149);
    await services[1].applyEvents(served.map((claims): CountableEvent => ({ claims, event: 'impression', occurredAt: clock.now() })));
    const spent = (await services[2].readLineItems(['cpm'])).get('cpm')!.spentMilliMicros;
    expect(spent).toBe(149 * rate);
    expect(spent).toBeLessThanOrEqual(budgetMicros * 1000);
    expect((await services[3].readCampaigns([c.campaignId])).get(c.campaignId)!.spentMilliMicros).toBe(spent);
  });

  it('CPM: racing decisions of two line items hold their shared campaign budget (line items\' own budgets far larger)', async () => {
    const rate = 2_000_000;
    const a = candidate('cpm-a', 'CPM', rate, 1_000_000, rate, { id: 'cp-shared', budgetMicros: 60 * 2_000 });
    const b = candidate('cpm-b', 'CPM', rate, 1_000_000, rate, { id: 'cp-shared', budgetMicros: 60 * 2_000 });
    const [servedA, servedB] = await Promise.all([race(500, a, 'CPM', rate, 0), race(500, b, 'CPM', rate, 1)]);
    expect(servedA.length + servedB.length).toBe(60);
    await services[0].applyEvents([...servedA, ...servedB].map((claims): CountableEvent => ({ claims, event: 'impression', occurredAt: clock.now() })));
    expect((await services[1].readCampaigns(['cp-shared'])).get('cp-shared')!.spentMilliMicros).toBe(60 * rate);
  });

  /**
   * Listeners who click every ad on a fresh CPC line item (20 clicks of budget), each decision's
   * impression and click measured right after it, while the replicas still price decisions at the prior
   * click rate (observed counts are re-read every 2 s: a burst is over before they change). `clients`
   * listeners at a time, spread over the four replicas.
   */
  async function clickEverything(clients: number, rounds: number): Promise<number> {
    const rate = 500_000;
    const c = candidate(`cpc-all-${clients}`, 'CPC', rate, 20 * rate, rate * 1000 * billedEventRateUpper('CPC', { impressions: 0, clicks: 0, completes: 0 }));
    let clicks = 0;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        Array.from({ length: clients }, async (_, k) => {
          const i = round * clients + k;
          const decisionId = `all-${clients}-d${i}`;
          const r = await services[i % services.length].reserve({ userId: `u${i}`, decisionIds: [decisionId], candidates: [c] });
          if (!r.restored || r.selected.length === 0) return;
          const claims = ledgerClaims({ decisionId, campaignId: c.campaignId, lineItemId: c.lineItemId, userId: `u${i}`, pricingModel: 'CPC', rateMicros: rate, issuedAt: Math.floor(clock.now() / 1000) });
          clicks++;
          await services[(i + 1) % services.length].applyEvents([
            { claims, event: 'impression', occurredAt: clock.now() },
            { claims, event: 'click', occurredAt: clock.now() },
          ]);
        }),
      );
    }
    const spent = (await services[0].readLineItems([c.lineItemId])).get(c.lineItemId)!.spentMilliMicros;
    expect(spent).toBe(clicks * rate * 1000);
    return clicks;
  }

  it('CPC: listeners clicking every ad of a fresh small budget, one after another, get no click past it', async () => {
    const clicks = await clickEverything(1, 200);
    // 200 before leases were spent in exposure (a lease covered dozens of decisions at the prior's ~3% of
    // the price); 19 since, on one Redis and the cluster (the 20th needs room for its reservation too).
    expect(clicks).toBeLessThanOrEqual(20);
    expect(clicks).toBeGreaterThanOrEqual(16);
  });

  it('CPC: eight listeners at a time clicking every ad of a fresh small budget get at most a click each past it', async () => {
    const clicks = await clickEverything(8, 100);
    // 388 before; 19 since. The bound allows what the design allows: a decision reported (reservation
    // at the prior) before its click lands frees room for a moment, at most one per listener in flight.
    expect(clicks).toBeLessThanOrEqual(20 + 8);
    expect(clicks).toBeGreaterThanOrEqual(16);
  });

  it('CPC: waves of racing decisions with clicks at a random rate never pass the budget', async () => {
    const random = rng(42);
    const rate = 500_000;
    const budgetMicros = 100 * rate;
    let clicks = 0;
    let impressions = 0;
    for (let wave = 0; wave < 1000; wave++) {
      // As the decision path does: rate × an upper bound of the observed click rate; true CTR here is 5%.
      const c = candidate('cpc', 'CPC', rate, budgetMicros, rate * 1000 * billedEventRateUpper('CPC', { impressions, clicks, completes: 0 }));
      const served = await race(200, c, 'CPC', rate, wave);
      const events: CountableEvent[] = [];
      for (const claims of served) {
        events.push({ claims, event: 'impression', occurredAt: clock.now() });
        impressions++;
        if (random() < 0.05) {
          events.push({ claims, event: 'click', occurredAt: clock.now() });
          clicks++;
        }
      }
      await services[wave % 4].applyEvents(events);
      clock.advance(30_000);
    }
    const spent = (await services[0].readLineItems(['cpc'])).get('cpc')!.spentMilliMicros;
    // Clicks arrive with their impressions here, so every click is measured before the next wave:
    // spend never passes the budget (the full-price hold at its end). Conservative (a click's reservation
    // lapses only with the window, and reservations take an upper bound of the rate), but not starving:
    // the last clicks come slowly, one full-price hold at a time. 95% is reached by about the 530th wave
    // and 98% by the 1000th, whatever order the replicas' races take (a bound of 80% after 120 waves sat
    // within the noise of that order, and failed CI once at 78%).
    expect(spent).toBeLessThanOrEqual(budgetMicros * 1000);
    expect(spent).toBeGreaterThanOrEqual(budgetMicros * 1000 * 0.95);
  }, 60_000); // ~2 s alone; 200,000 reservations, so slower under coverage or a loaded machine
});
