import { LedgerTestRedis, ledgerTargets } from '../../../test/support/ledger-redis';
import { TEST_DAY_QUARTER, ledgerCandidate, ledgerClaims } from '../../../test/support/ledger';
import { ManualClock } from './clock';
import type { TrackingClaims } from '@app/delivery';
import type { CountableEvent, ReservationCandidate } from './ledger.types';
import { DeliveryLedger, QUARTER_MS } from './delivery-ledger.service';


const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const DAY_Q = TEST_DAY_QUARTER;

const candidate = ledgerCandidate;

const claims = (o: Partial<TrackingClaims> = {}) => ledgerClaims({ issuedAt: Math.floor(T0 / 1000), ...o });

describe.each(ledgerTargets())('DeliveryLedger (real Redis: %s)', (_, target) => {
  let redis: LedgerTestRedis;
  let clock: ManualClock;
  let counters: DeliveryLedger;
  let seq = 0;
  const ids = (n: number) => Array.from({ length: n }, () => `dec-${++seq}`);

  beforeEach(async () => {
    redis = await target.connect();
    clock = new ManualClock(T0);
    counters = new DeliveryLedger(redis, clock);
    await counters.whenReady();
    await counters.markRestored();
  });

  afterEach(async () => {
    counters.onApplicationShutdown();
    await redis.cleanup();
  });

  /** Serves `n` single-slot decisions for `c`, returns the claims of the selected ones. */
  async function serve(n: number, c: ReservationCandidate, userId = 'u-1'): Promise<TrackingClaims[]> {
    const out: TrackingClaims[] = [];
    for (let i = 0; i < n; i++) {
      const [decisionId] = ids(1);
      const r = await counters.reserve({ userId, decisionIds: [decisionId], candidates: [c] });
      if (r.restored && r.selected.length === 1) {
        out.push(claims({ decisionId, userId, lineItemId: c.lineItemId, campaignId: c.campaignId, issuedAt: Math.floor(clock.now() / 1000) }));
      }
    }
    return out;
  }

  const impressions = (list: TrackingClaims[], at = clock.now()): CountableEvent[] => list.map((c) => ({ claims: c, event: 'impression', occurredAt: at }));

  it('counts CPM spend exactly in milli-micros, per line item and campaign, with observed counts', async () => {
    await counters.applyEvents([
      ...impressions([claims({ decisionId: 'a', rateMicros: 2_500_001 }), claims({ decisionId: 'b', rateMicros: 2_500_001 }), claims({ decisionId: 'c', rateMicros: 2_500_001 })]),
      { claims: claims({ decisionId: 'a', rateMicros: 2_500_001 }), event: 'click', occurredAt: T0 },
      { claims: claims({ decisionId: 'a', rateMicros: 2_500_001 }), event: 'complete', occurredAt: T0 },
      { claims: claims({ decisionId: 'a', rateMicros: 2_500_001 }), event: 'midpoint', occurredAt: T0 },
    ]);
    const li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li).toMatchObject({ spentMilliMicros: 7_500_003, impressions: 3, clicks: 1, completes: 1 });
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.spentMilliMicros).toBe(7_500_003);
  });

  it('keeps lifetime spend and reservations of campaigns, without the quarter hours and "today" of line items', async () => {
    const [selected] = await serve(1, candidate({ campaignBudgetMilliMicros: 1e12, dailyBudgetMilliMicros: 1e12 }));
    // Reservations reach Redis with the replica's next lease report.
    await counters.flush();
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')).toEqual({ spentMilliMicros: 0, reservedMilliMicros: 2_000_000 });
    await counters.applyEvents(impressions([selected]));
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')).toEqual({ spentMilliMicros: 2_000_000, reservedMilliMicros: 0 });
    expect((await counters.readLineItems(['li-1'])).get('li-1')).toMatchObject({ spentMilliMicros: 2_000_000, spentTodayMilliMicros: 2_000_000, reservedMilliMicros: 0 });
    const campaign = counters.keys.campaign('cp-1');
    expect(await redis.client.hkeys(campaign)).not.toEqual(expect.arrayContaining(['today']));
    expect(await redis.client.hkeys(campaign)).not.toEqual(expect.arrayContaining(['dayQ']));
    expect(await redis.client.exists(`${campaign}:q`)).toBe(0);
    expect(await redis.client.exists(`${counters.keys.lineItem('li-1')}:q`)).toBe(1);
  });

  it('applies a large batch (several script calls) in full, with any user id', async () => {
    const users = ['listener with spaces', 'ünïcode-😀', 'plain'];
    const events = Array.from({ length: 123 }, (_, i) => ({
      claims: claims({ decisionId: `big-${i}`, userId: users[i % 3], lineItemId: i % 2 ? 'li-odd' : 'li-even', rateMicros: 1_000_001 }),
      event: 'impression' as const,
      occurredAt: T0 - i,
    }));
    await counters.applyEvents(events);
    const read = await counters.readLineItems(['li-odd', 'li-even']);
    expect(read.get('li-odd')).toMatchObject({ impressions: 61, spentMilliMicros: 61 * 1_000_001 });
    expect(read.get('li-even')).toMatchObject({ impressions: 62, spentMilliMicros: 62 * 1_000_001 });
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.spentMilliMicros).toBe(123 * 1_000_001);
    // Each listener's impressions are counted under their own id, spaces and all.
    const seen = await counters.readFrequency(['li-odd', 'li-even'], 'listener with spaces');
    expect(seen.get('li-odd')!.impressionTimes.length + seen.get('li-even')!.impressionTimes.length).toBe(41);
  });

  it('bills CPC on clicks and CPCL on completes, at the full rate', async () => {
    await counters.applyEvents([
      { claims: claims({ lineItemId: 'cpc', pricingModel: 'CPC', rateMicros: 300_000 }), event: 'impression', occurredAt: T0 },
      { claims: claims({ lineItemId: 'cpc', pricingModel: 'CPC', rateMicros: 300_000 }), event: 'click', occurredAt: T0 },
      { claims: claims({ lineItemId: 'cpcl', pricingModel: 'CPCL', rateMicros: 50_000 }), event: 'click', occurredAt: T0 },
      { claims: claims({ lineItemId: 'cpcl', pricingModel: 'CPCL', rateMicros: 50_000 }), event: 'complete', occurredAt: T0 },
    ]);
    const read = await counters.readLineItems(['cpc', 'cpcl', 'unknown']);
    expect(read.get('cpc')!.spentMilliMicros).toBe(300_000_000);
    expect(read.get('cpcl')!.spentMilliMicros).toBe(50_000_000);
    expect(read.get('unknown')).toEqual({ spentMilliMicros: 0, spentTodayMilliMicros: 0, reservedMilliMicros: 0, impressions: 0, clicks: 0, completes: 0 });
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.spentMilliMicros).toBe(350_000_000);
  });

  it('serves nothing until the counters are marked restored', async () => {
    await counters.markLost();
    expect(await counters.needsRestore()).toBe(true);
    expect(await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [candidate()] })).toEqual({ restored: false });
    await counters.markRestored();
    expect(await counters.needsRestore()).toBe(false);
    const r = await counters.reserve({ userId: 'u', decisionIds: ['x'], candidates: [candidate()] });
    expect(r).toEqual({ restored: true, verdicts: ['selected'], selected: [{ index: 0, decisionId: 'x' }] });
  });

  it('stops a CPM line item at its budget through reservations, and impressions swap them for spend', async () => {
    const c = candidate({ budgetMilliMicros: 10 * 2_000_000 });
    const served = await serve(15, c);
    expect(served).toHaveLength(10);
    let li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li).toMatchObject({ spentMilliMicros: 0, reservedMilliMicros: 20_000_000 });
    await counters.applyEvents(impressions(served));
    li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li).toMatchObject({ spentMilliMicros: 20_000_000, reservedMilliMicros: 0, impressions: 10 });
    expect(await serve(1, c)).toHaveLength(0);
  });

  it('lets reservations of decisions that never showed lapse after the window', async () => {
    const c = candidate({ budgetMilliMicros: 3 * 2_000_000 });
    expect(await serve(5, c)).toHaveLength(3);
    clock.advance(5 * 60_000);
    expect(await serve(1, c)).toHaveLength(0);
    clock.advance(6 * 60_000);
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.reservedMilliMicros).toBe(6_000_000);
    expect(await serve(5, c)).toHaveLength(3);
    // An impression whose reservation already lapsed still counts as spend and releases nothing else.
    clock.advance(20 * 60_000);
    await counters.applyEvents(impressions([claims({ decisionId: 'late', issuedAt: Math.floor(T0 / 1000) })]));
    const li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li.spentMilliMicros).toBe(2_000_000);
    // ... and leaves no negative bucket behind.
    const buckets = await redis.client.hgetall(`${counters.keys.lineItem('li-1')}:r`);
    expect(Object.values(buckets).filter((v) => Number(v) < 0)).toEqual([]);
  });

  it('releases at most what a bucket held when more is released than was reserved', async () => {
    const c = candidate();
    const [served] = await serve(1, c);
    await counters.flush();
    // Two impressions claim the same decision bucket: the second finds it empty.
    await counters.applyEvents(impressions([served, { ...served, decisionId: 'twin' }]));
    const li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li).toMatchObject({ spentMilliMicros: 4_000_000, reservedMilliMicros: 0 });
    expect(Object.values(await redis.client.hgetall(`${counters.keys.lineItem('li-1')}:r`)).map(Number)).toEqual([0]);
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.reservedMilliMicros).toBe(0);
  });

  it('holds a campaign budget across its line items and within a pod', async () => {
    const a = candidate({ lineItemId: 'li-a', campaignBudgetMilliMicros: 5 * 2_000_000 });
    const b = candidate({ lineItemId: 'li-b', campaignBudgetMilliMicros: 5 * 2_000_000 });
    const pod = await counters.reserve({ userId: 'u', decisionIds: ids(2), candidates: [a, b] });
    expect(pod.restored && pod.verdicts).toEqual(['selected', 'selected']);
    expect(await serve(2, a)).toHaveLength(2);
    expect(await serve(5, b)).toHaveLength(1);
    const last = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [a, b] });
    expect(last.restored && last.verdicts).toEqual(['campaign_budget_exhausted', 'campaign_budget_exhausted']);
  });

  it('decides concurrent decisions each atomically: a budget is never shared out twice, a cap never passed', async () => {
    // A budget for exactly three impressions; five listeners, a pod of two and a capped listener ask at once.
    const c = candidate({ budgetMilliMicros: 3 * 2_000_000 });
    const other = candidate({ lineItemId: 'li-other', frequencyCaps: [{ maxImpressions: 1, periodSeconds: 3600 }] });
    const singles = Array.from({ length: 5 }, (_, i) => counters.reserve({ userId: `u${i}`, decisionIds: [`s${i}`], candidates: [c] }));
    const pod = counters.reserve({ userId: 'pod', decisionIds: ['p1', 'p2'], candidates: [c, other, candidate({ lineItemId: 'li-3' })] });
    const capped = [counters.reserve({ userId: 'cap', decisionIds: ['c1'], candidates: [other] }), counters.reserve({ userId: 'cap', decisionIds: ['c2'], candidates: [other] })];
    const results = await Promise.all([...singles, pod, ...capped]);
    const verdicts = results.map((r) => (r.restored ? r.verdicts : []));
    // li-1 went to exactly three of the six decisions offering it; the others were refused for budget.
    const firsts = verdicts.slice(0, 6).map((v) => v[0]);
    expect(firsts.filter((v) => v === 'selected')).toHaveLength(3);
    expect(firsts.filter((v) => v === 'budget_exhausted')).toHaveLength(3);
    // The pod filled its two slots from what it could get.
    expect(results[5]).toMatchObject({ selected: [expect.anything(), expect.anything()] });
    // The capped listener got one of its two decisions.
    expect(verdicts.slice(6).map((v) => v[0]).sort()).toEqual(['frequency_capped', 'selected']);
    await counters.flush();
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.reservedMilliMicros).toBe(3 * 2_000_000);
  });

  it('answers decisions 503 when Redis fails the call, skips the account without waiting for a while, and serves again once it answers', async () => {
    const ledger = new DeliveryLedger(redis, clock, { unreachableRetryMs: 300 });
    try {
      await ledger.whenReady();
      const client = (ledger as unknown as { client: { dlvLease: (...a: unknown[]) => Promise<unknown> } }).client;
      const lease = jest.spyOn(client, 'dlvLease').mockRejectedValueOnce(new Error('connection lost'));
      const results = await Promise.allSettled([ledger.reserve({ userId: 'a', decisionIds: ids(1), candidates: [candidate()] }), ledger.reserve({ userId: 'b', decisionIds: ids(1), candidates: [candidate()] })]);
      expect(results.map((r) => r.status === 'rejected' && (r.reason as { getStatus(): number }).getStatus())).toEqual([503, 503]);
      // Within the retry window: refused at once, without another call to the shard.
      await expect(ledger.reserve({ userId: 'c', decisionIds: ids(1), candidates: [candidate()] })).rejects.toMatchObject({ status: 503 });
      expect(lease).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setTimeout(resolve, 350));
      const next = await ledger.reserve({ userId: 'c', decisionIds: ids(1), candidates: [candidate()] });
      expect(next.restored && next.verdicts).toEqual(['selected']);
    } finally {
      await ledger.onApplicationShutdown();
    }
  });

  it("serves the other candidates when one account's shard does not answer, and gives back what it held", async () => {
    // A real error of Redis on one account only (its line item's hash is not a hash): as a shard that is down.
    await redis.client.set(counters.keys.lineItem('li-down'), 'not a hash');
    const down = candidate({ lineItemId: 'li-down', campaignId: 'cp-down' });
    const up = candidate({ lineItemId: 'li-up', campaignId: 'cp-up' });
    const r = await counters.reserve({ userId: 'u-x', decisionIds: ids(1), candidates: [down, up] });
    expect(r.restored && r.verdicts).toEqual(['counters_unavailable', 'selected']);
    // Alone, the unanswered account is a 503 (the dependency is down for that decision), not an empty answer.
    await expect(counters.reserve({ userId: 'u-y', decisionIds: ids(1), candidates: [down] })).rejects.toMatchObject({ status: 503 });
    // A campaign whose shard does not answer: its line item's hold goes back (the line item still serves through another campaign).
    await redis.client.set(counters.keys.campaign('cp-down2'), 'not a hash');
    const viaDownCampaign = candidate({ lineItemId: 'li-shared', campaignId: 'cp-down2', campaignBudgetMilliMicros: 1e12 });
    const r2 = await counters.reserve({ userId: 'u-z', decisionIds: ids(1), candidates: [viaDownCampaign, up] });
    expect(r2.restored && r2.verdicts).toEqual(['counters_unavailable', 'selected']);
    const shared = (counters as unknown as { leases: Map<string, { tentative: number; tentativeExposure: number }> }).leases.get(counters.keys.lineItem('li-shared'))!;
    expect([shared.tentative, shared.tentativeExposure]).toEqual([0, 0]);
  });

  it('finishes the applies in flight before it disconnects at shutdown (accounts and listeners alike)', async () => {
    const c = candidate({ frequencyCaps: [{ maxImpressions: 5, periodSeconds: 3600 }] });
    const served = await serve(3, c, 'leaving');
    // A replica that holds no lease (it only took beacons) stops while the last beacons' counts are on
    // their way (not awaited): nothing else delays its disconnect.
    const ingesting = new DeliveryLedger(redis, clock);
    await ingesting.whenReady();
    const applying = ingesting.applyEvents(impressions(served));
    await ingesting.onApplicationShutdown();
    await applying;
    expect((await counters.readLineItems(['li-1'])).get('li-1')).toMatchObject({ spentMilliMicros: 6_000_000, impressions: 3 });
    expect((await counters.readFrequency(['li-1'], 'leaving')).get('li-1')).toEqual({ impressionTimes: [T0, T0, T0], pending: 0 });
    expect(await counters.needsRestore()).toBe(false);
  });

  it('marks the ledger for a rebuild when an apply in flight at shutdown fails', async () => {
    // A hash that is not a hash: the apply script's HINCRBY fails (WRONGTYPE), as a real error of Redis.
    await redis.client.set(counters.keys.lineItem('li-broken'), 'not a hash');
    const failing = counters.applyEvents(impressions([claims({ decisionId: 'x-1', lineItemId: 'li-broken' })]));
    await counters.onApplicationShutdown();
    await expect(failing).rejects.toThrow(/WRONGTYPE/);
    const reader = new DeliveryLedger(redis, clock);
    try {
      await reader.whenReady();
      expect(await reader.needsRestore()).toBe(true);
    } finally {
      await reader.onApplicationShutdown();
    }
  });

  it('fills a pod with distinct line items in the given order, skipping those that do not fit', async () => {
    const full = candidate({ lineItemId: 'li-full', budgetMilliMicros: 1 });
    const r = await counters.reserve({ userId: 'u', decisionIds: ['d1', 'd2'], candidates: [full, candidate({ lineItemId: 'x' }), candidate({ lineItemId: 'y' }), candidate({ lineItemId: 'z' })] });
    expect(r).toEqual({
      restored: true,
      verdicts: ['budget_exhausted', 'selected', 'selected', 'not_reached'],
      selected: [
        { index: 1, decisionId: 'd1' },
        { index: 2, decisionId: 'd2' },
      ],
    });
  });

  it('enforces a daily budget per advertiser-local day, recomputing "today" when the day changes', async () => {
    const c = candidate({ dailyBudgetMilliMicros: 4 * 2_000_000 });
    const day1 = await serve(6, c);
    expect(day1).toHaveLength(4);
    await counters.applyEvents(impressions(day1));
    expect(await serve(1, c)).toHaveLength(0);
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.spentTodayMilliMicros).toBe(8_000_000);
    // Next local day (here UTC): today's spend restarts from the quarter-hour buckets.
    clock.set(Date.UTC(2026, 10, 26, 0, 5));
    const next = { ...c, dayStartQuarter: Math.floor(Date.UTC(2026, 10, 26) / QUARTER_MS) };
    const day2 = await serve(6, next);
    expect(day2).toHaveLength(4);
    // An impression of yesterday arriving late counts in lifetime spend but not in today's.
    await counters.applyEvents(impressions([claims({ decisionId: 'late' })], T0));
    await counters.applyEvents(impressions(day2));
    const li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li.spentMilliMicros).toBe(18_000_000);
    expect(li.spentTodayMilliMicros).toBe(8_000_000);
    // A replica whose clock is still on the previous day recomputes from that day's start: conservative.
    await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [c] });
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.spentTodayMilliMicros).toBe(18_000_000);
  });

  it('caps impressions per listener and line item, counting pending decisions, across replicas', async () => {
    const other = await target.connect(redis.prefix);
    try {
      const replica = new DeliveryLedger(other, clock);
      await replica.whenReady();
      const c = candidate({ frequencyCaps: [{ maxImpressions: 2, periodSeconds: 3600 }, { maxImpressions: 3, periodSeconds: 86400 }] });
      const first = await serve(1, c, 'listener');
      const second = await replica.reserve({ userId: 'listener', decisionIds: ['r-1'], candidates: [c] });
      expect(first).toHaveLength(1);
      expect(second.restored && second.verdicts).toEqual(['selected']);
      // Both impressions still pending: a third decision would break the cap.
      const third = await replica.reserve({ userId: 'listener', decisionIds: ids(1), candidates: [c] });
      expect(third.restored && third.verdicts).toEqual(['frequency_capped']);
      expect(await serve(1, c, 'someone-else')).toHaveLength(1);
      await counters.applyEvents(impressions([...first, claims({ decisionId: 'r-1', userId: 'listener' })]));
      expect((await counters.readFrequency(['li-1'], 'listener')).get('li-1')).toEqual({ impressionTimes: [T0, T0], pending: 0 });
      clock.advance(3601_000);
      const again = await serve(2, c, 'listener');
      expect(again).toHaveLength(1);
      await counters.applyEvents(impressions(again));
      clock.advance(3601_000);
      expect(await serve(1, c, 'listener')).toHaveLength(0);
      clock.advance(86400_000);
      expect(await serve(1, c, 'listener')).toHaveLength(1);
      replica.onApplicationShutdown();
    } finally {
      await other.onApplicationShutdown();
    }
  });

  it('walks on past a capped candidate that is refused, and leaves no pending entry or outstanding count for what it did not serve', async () => {
    const capped = (lineItemId: string) => candidate({ lineItemId, frequencyCaps: [{ maxImpressions: 1, periodSeconds: 3600 }] });
    const limits = { listener: 5, ip: 0 };
    const lu = `${counters.keys.listener('walker')}:lu:${Math.floor(T0 / 600_000)}`;
    // The listener has had its one ad of line item A this hour.
    const [seen] = await serve(1, capped('a'), 'walker');
    await counters.applyEvents(impressions([seen]));
    // A is refused, B (also capped) is checked next and served; C is never reached.
    const r = await counters.reserve({ userId: 'walker', limits, decisionIds: ['only-slot'], candidates: [capped('a'), capped('b'), capped('c')] });
    expect(r.restored && r.verdicts).toEqual(['frequency_capped', 'selected', 'not_reached']);
    expect(r.restored && r.selected).toEqual([{ index: 1, decisionId: expect.any(String) }]);
    const frequency = await counters.readFrequency(['a', 'b', 'c'], 'walker');
    expect([frequency.get('a')!.pending, frequency.get('b')!.pending, frequency.get('c')!.pending]).toEqual([0, 1, 0]);
    // The impression of B's decision takes its pending entry off.
    await counters.applyEvents(impressions([claims({ decisionId: r.restored ? r.selected[0].decisionId : '', userId: 'walker', lineItemId: 'b', issuedAt: Math.floor(T0 / 1000) })]));
    expect((await counters.readFrequency(['b'], 'walker')).get('b')).toEqual({ impressionTimes: [T0], pending: 0 });
    // A pod of three slots that fills one counts one outstanding ad, not three.
    const before = Number(await redis.client.get(lu));
    const pod = await counters.reserve({ userId: 'walker', limits, decisionIds: ids(3), candidates: [capped('a'), capped('b'), capped('d')] });
    expect(pod.restored && pod.verdicts).toEqual(['frequency_capped', 'frequency_capped', 'selected']);
    expect(Number(await redis.client.get(lu))).toBe(before + 1);
  });

  it('bounds the ads one listener holds unplayed: past the limit no fill, and each impression frees a place', async () => {
    const limits = { listener: 3, ip: 0 };
    const reserveFor = (userId: string) => counters.reserve({ userId, limits, decisionIds: ids(1), candidates: [candidate()] });
    const filled: string[] = [];
    const verdicts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await reserveFor('hoarder');
      if (!r.restored) throw new Error('not restored');
      verdicts.push(r.verdicts[0]);
      if (r.selected.length === 1) filled.push(r.selected[0].decisionId);
    }
    expect(filled).toHaveLength(3);
    expect(verdicts.slice(3)).toEqual(Array(7).fill('listener_limit'));
    // Another listener is not affected.
    expect((await reserveFor('someone-else')).restored && (await reserveFor('someone-else'))).toMatchObject({ selected: [expect.anything()] });
    // Playing one of the three frees one place, and only one.
    await counters.applyEvents(impressions([claims({ decisionId: filled[0], userId: 'hoarder', issuedAt: Math.floor(clock.now() / 1000) })]));
    expect(await reserveFor('hoarder')).toMatchObject({ selected: [expect.anything()] });
    expect(await reserveFor('hoarder')).toMatchObject({ selected: [], verdicts: ['listener_limit'] });
    // A pod takes no more slots than the limit leaves.
    const pod = await counters.reserve({ userId: 'pod-listener', limits, decisionIds: ids(5), candidates: ['a', 'b', 'c', 'd', 'e'].map((id) => candidate({ lineItemId: id })) });
    expect(pod).toMatchObject({ restored: true });
    expect(pod.restored && pod.selected).toHaveLength(3);
  });

  it('bounds the ads served to one IP whoever the listeners, and starts afresh in the next window', async () => {
    const limits = { listener: 0, ip: 4 };
    let filled = 0;
    for (let i = 0; i < 12; i++) {
      const r = await counters.reserve({ userId: `u-${i}`, ip: '198.51.100.7', limits, decisionIds: ids(1), candidates: [candidate()] });
      if (r.restored) filled += r.selected.length;
    }
    expect(filled).toBe(4);
    const other = await counters.reserve({ userId: 'u-x', ip: '198.51.100.8', limits, decisionIds: ids(1), candidates: [candidate()] });
    expect(other).toMatchObject({ selected: [expect.anything()] });
    clock.advance(600_000);
    const later = await counters.reserve({ userId: 'u-y', ip: '198.51.100.7', limits, decisionIds: ids(1), candidates: [candidate()] });
    expect(later).toMatchObject({ selected: [expect.anything()] });
  });

  it('bounds the ads served to one IP when its decisions arrive all at once, and gives back the places of those not served', async () => {
    const limits = { listener: 0, ip: 10 };
    const race = (n: number, tag: string, c = candidate()) =>
      Promise.all(Array.from({ length: n }, (_, i) => counters.reserve({ userId: `${tag}-${i}`, ip: '198.51.100.9', limits, decisionIds: ids(1), candidates: [c] })));
    const servedOf = (results: Awaited<ReturnType<typeof race>>) => results.reduce((n, r) => n + (r.restored ? r.selected.length : 0), 0);
    // A line item whose budget is gone serves nobody: the places its decisions took come back.
    expect(servedOf(await race(15, 'broke', candidate({ lineItemId: 'broke', budgetMilliMicros: 0 })))).toBe(0);
    expect(servedOf(await race(15, 'rush'))).toBe(10);
    expect(servedOf(await race(5, 'more'))).toBe(0);
  });

  it('forgets pending decisions whose impression never came after the pending window', async () => {
    const c = candidate({ frequencyCaps: [{ maxImpressions: 1, periodSeconds: 86400 }] });
    expect(await serve(2, c)).toHaveLength(1);
    clock.advance(301_000);
    expect(await serve(2, c)).toHaveLength(1);
  });

  it('throttles EVEN pacing once spend runs ahead of the target curve', async () => {
    // Flight pacing counts lifetime spend: three of the five impressions were yesterday's.
    await counters.applyEvents(impressions(Array.from({ length: 3 }, (_, i) => claims({ decisionId: `y${i}` })), T0 - 86_400_000));
    await counters.applyEvents(impressions(Array.from({ length: 2 }, (_, i) => claims({ decisionId: `p${i}` }))));
    const ahead = (random: number, target: number) => candidate({ pacingBasis: 'flight', pacingTargetMilliMicros: target, pacingAllowanceMilliMicros: 4_000_000, random });
    // 10,000,000 spent vs target 8,000,000 with allowance 4,000,000: serve probability 0.5.
    const r1 = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [ahead(0.49, 8_000_000)] });
    expect(r1.restored && r1.verdicts).toEqual(['selected']);
    // Now 12,000,000 (spent + reserved) vs 8,000,000: probability 0.
    const r2 = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [ahead(0, 8_000_000)] });
    expect(r2.restored && r2.verdicts).toEqual(['paced']);
    const r3 = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [ahead(0.99, 20_000_000)] });
    expect(r3.restored && r3.verdicts).toEqual(['selected']);
  });

  it('paces a daily budget EVEN against today\'s spend, not lifetime spend', async () => {
    // Yesterday: 50 impressions (100,000,000 lifetime).
    clock.set(Date.UTC(2026, 10, 24, 12, 0));
    await counters.applyEvents(impressions(Array.from({ length: 50 }, (_, i) => claims({ decisionId: `y${i}`, issuedAt: Math.floor(clock.now() / 1000) }))));
    // Today, noon: 2 impressions (4,000,000); the curve allows 10,000,000 by now.
    clock.set(T0);
    const today = { dailyBudgetMilliMicros: 20_000_000, dayStartQuarter: DAY_Q, pacingBasis: 'daily' as const, pacingTargetMilliMicros: 10_000_000, pacingAllowanceMilliMicros: 4_000_000 };
    await counters.applyEvents(impressions([claims({ decisionId: 't1' }), claims({ decisionId: 't2' })]));
    // Behind the curve today: served whatever the random draw. Against lifetime spend it would be far ahead and refused.
    const behind = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [candidate({ ...today, random: 0.999 })] });
    expect(behind.restored && behind.verdicts).toEqual(['selected']);
    // Today's spend + reservations (4 + 2 + 2 + 2 + 2 = 12,000,000) past the target by half the allowance: probability 0.5.
    for (let i = 0; i < 3; i++) await counters.reserve({ userId: `f${i}`, decisionIds: ids(1), candidates: [candidate({ ...today, random: 0 })] });
    const r1 = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [candidate({ ...today, random: 0.51 })] });
    expect(r1.restored && r1.verdicts).toEqual(['paced']);
    const r2 = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [candidate({ ...today, random: 0.49 })] });
    expect(r2.restored && r2.verdicts).toEqual(['selected']);
  });

  it('names the budget a refused decision ran into: the day\'s, the line item\'s or the campaign\'s', async () => {
    const verdictOf = async (c: ReservationCandidate) => {
      const r = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [c] });
      return r.restored ? r.verdicts[0] : 'not_restored';
    };
    const daily = candidate({ lineItemId: 'daily', dailyBudgetMilliMicros: 2 * 2_000_000 });
    expect(await serve(3, daily)).toHaveLength(2);
    expect(await verdictOf(daily)).toBe('daily_budget_exhausted');
    const lifetime = candidate({ lineItemId: 'lifetime', budgetMilliMicros: 2 * 2_000_000, dailyBudgetMilliMicros: 10 * 2_000_000 });
    expect(await serve(3, lifetime)).toHaveLength(2);
    expect(await verdictOf(lifetime)).toBe('budget_exhausted');
    // Both gone: the lifetime budget is named (a new day would not help).
    const both = candidate({ lineItemId: 'both', budgetMilliMicros: 2 * 2_000_000, dailyBudgetMilliMicros: 2 * 2_000_000 });
    expect(await serve(3, both)).toHaveLength(2);
    expect(await verdictOf(both)).toBe('budget_exhausted');
    const campaign = candidate({ lineItemId: 'in-campaign', campaignId: 'cp-small', campaignBudgetMilliMicros: 2 * 2_000_000 });
    expect(await serve(3, campaign)).toHaveLength(2);
    expect(await verdictOf(campaign)).toBe('campaign_budget_exhausted');
  });

  it("sizes a line item's leases from its daily budget when that is the smaller", async () => {
    // Lifetime budget without end, 1,000 decisions a day: all leases together hold at most 1% of the day (10 decisions).
    const c = candidate({ lineItemId: 'daily-lease', dailyBudgetMilliMicros: 1000 * 2_000_000 });
    expect(await serve(60, c)).toHaveLength(60);
    const leased = Number(await redis.client.hget(counters.keys.lineItem('daily-lease'), 'leased'));
    expect(leased).toBeGreaterThan(0);
    expect(leased).toBeLessThanOrEqual(10 * 2_000_000);
  });

  it("keeps a capped line item's longest cap period (at most 31 days) for its listeners' entries", async () => {
    const c = candidate({ lineItemId: 'capped', frequencyCaps: [{ maxImpressions: 3, periodSeconds: 3600 }, { maxImpressions: 10, periodSeconds: 86_400 }] });
    expect(await serve(1, c)).toHaveLength(1);
    expect(await redis.client.hget(counters.keys.lineItem('capped'), 'capTtl')).toBe('86400');
  });

  it("serves nothing from a campaign whose stripe lost its data, though its line item's stripe is whole", async () => {
    const c = candidate({ lineItemId: 'li-whole', campaignId: 'cp-lost', campaignBudgetMilliMicros: 1e12 });
    expect(counters.keys.stripeOf('li-whole')).not.toBe(counters.keys.stripeOf('cp-lost'));
    await redis.client.del(counters.keys.marker(counters.keys.stripeOf('cp-lost')));
    const r = await counters.reserve({ userId: 'u', decisionIds: ids(1), candidates: [c] });
    expect(r).toEqual({ restored: false });
  });

  it('holds the full price of a CPC click for decisions within the last 5% of a budget', async () => {
    // Price 1,000,000 a click, budget 100 clicks, 96 already spent: 4 left, inside the 5% tail.
    const cpc = candidate({ eventPriceMilliMicros: 1_000_000, reserveMilliMicros: 10_000, budgetMilliMicros: 100_000_000 });
    await counters.applyEvents(Array.from({ length: 96 }, (_, i): CountableEvent => ({ claims: claims({ decisionId: `c${i}`, pricingModel: 'CPC', rateMicros: 1_000 }), event: 'click', occurredAt: T0 })));
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.spentMilliMicros).toBe(96_000_000);
    // Each decision holds a whole click: exactly 4 are served, 4 clicks reserved. (At the expected
    // 10,000 a decision, 400 would be.)
    expect(await serve(10, cpc)).toHaveLength(4);
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.reservedMilliMicros).toBe(4_000_000);
    // Outside the tail a decision holds only its expectation.
    const wide = { ...cpc, lineItemId: 'li-2', campaignId: 'cp-2' };
    expect(await serve(1, wide)).toHaveLength(1);
    await counters.flush();
    expect((await counters.readLineItems(['li-2'])).get('li-2')!.reservedMilliMicros).toBe(10_000);
  });

  it('restores spend, today, caps and rates after Redis lost them, with a reservation for in-flight decisions', async () => {
    const c = candidate({ budgetMilliMicros: 100 * 2_000_000, frequencyCaps: [{ maxImpressions: 1, periodSeconds: 3600 }] });
    // Redis "loses everything" of this deployment: every key under the test's prefix is deleted.
    counters.onApplicationShutdown();
    await redis.cleanup();
    redis = await target.connect(redis.prefix);
    counters = new DeliveryLedger(redis, clock);
    await counters.whenReady();
    expect(await counters.needsRestore()).toBe(true);
    const q = (ms: number) => Math.floor(ms / QUARTER_MS) * QUARTER_MS;
    await counters.restore({
      spend: [
        {
          lineItemId: 'li-1',
          campaignId: 'cp-1',
          spentMilliMicros: 150_000_000,
          recent: [
            { quarterStartMs: q(T0 - 86_400_000), spentMilliMicros: 30_000_000 },
            { quarterStartMs: q(T0 - 3_600_000), spentMilliMicros: 40_000_000 },
            { quarterStartMs: q(T0), spentMilliMicros: 10_000_000 },
          ],
        },
        { lineItemId: 'li-2', campaignId: 'cp-1', spentMilliMicros: 5, recent: [] },
      ],
      frequency: [{ lineItemId: 'li-1', userId: 'listener', impressions: [{ decisionId: 'seen-1', at: T0 - 60_000 }] }],
      rates: [{ lineItemId: 'li-1', impressions: 75, clicks: 3, completes: 60 }],
    });
    expect(await counters.reserve({ userId: 'x', decisionIds: ids(1), candidates: [c] })).toEqual({ restored: false });
    await counters.markRestored();
    expect(await counters.readLineItems(['li-1'])).toEqual(
      new Map([['li-1', { spentMilliMicros: 150_000_000, spentTodayMilliMicros: 0, reservedMilliMicros: 10_000_000, impressions: 75, clicks: 3, completes: 60 }]]),
    );
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.spentMilliMicros).toBe(150_000_005);
    const capped = await counters.reserve({ userId: 'listener', decisionIds: ids(1), candidates: [c] });
    expect(capped.restored && capped.verdicts).toEqual(['frequency_capped']);
    await serve(1, c, 'fresh');
    // Today (UTC here) recomputed from the restored quarter buckets: 40 + 10.
    expect((await counters.readLineItems(['li-1'])).get('li-1')!.spentTodayMilliMicros).toBe(50_000_000);
    expect(await serve(30, c, 'many')).toHaveLength(1);
    // Budget left: 200 - 150 spent - 10 seeded - 2 - 2 reserved = 36 -> 18 more impressions.
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    let served = 0;
    for (const u of users) served += (await serve(1, c, u)).length;
    expect(served).toBe(18);
  });

  it('keeps every event applied while a rebuild runs: added to the snapshot, none lost, and one rebuild at a time', async () => {
    const key = counters.keys.lineItem('li-1');
    const cpm = (decisionId: string, userId = 'listener', occurredAt = T0) => ({ claims: claims({ decisionId, userId }), event: 'impression' as const, occurredAt });
    await counters.applyEvents([cpm('before-1'), cpm('before-2')]);
    const accounts = { lineItemIds: ['li-1'], campaignIds: ['cp-1'] };
    const token = await counters.beginRestore(accounts);
    expect(token).toEqual(expect.any(String));
    expect(await counters.beginRestore(accounts)).toBeNull();
    // Stored after the snapshot below was taken, applied before the rebuild writes: the case that was lost.
    await counters.applyEvents([cpm('after-snapshot', 'listener', T0 + 1000)]);
    const q = Math.floor(T0 / QUARTER_MS) * QUARTER_MS;
    await counters.restore({
      spend: [{ lineItemId: 'li-1', campaignId: 'cp-1', spentMilliMicros: 2 * 2_000_000, recent: [{ quarterStartMs: q, spentMilliMicros: 2 * 2_000_000 }] }],
      // The snapshot knows before-1 (also in Redis: counted once) and an impression Redis never saw.
      frequency: [{ lineItemId: 'li-1', userId: 'listener', impressions: [{ decisionId: 'before-1', at: T0 }, { decisionId: 'only-in-mysql', at: T0 - 5000 }] }],
      rates: [{ lineItemId: 'li-1', impressions: 2, clicks: 0, completes: 0 }],
    });
    // Applied after the rebuild wrote, before it finished; then after it finished.
    await counters.applyEvents([cpm('after-write')]);
    await counters.finishRestore(token!, accounts);
    await counters.applyEvents([cpm('after-finish')]);

    const li = (await counters.readLineItems(['li-1'])).get('li-1')!;
    expect(li.spentMilliMicros).toBe(5 * 2_000_000);
    expect(li.impressions).toBe(5);
    expect((await counters.readCampaigns(['cp-1'])).get('cp-1')!.spentMilliMicros).toBe(5 * 2_000_000);
    expect(Number(await redis.client.hget(`${key}:q`, String(Math.floor(T0 / QUARTER_MS))))).toBe(5 * 2_000_000);
    expect((await counters.readFrequency(['li-1'], 'listener')).get('li-1')!.impressionTimes).toHaveLength(6);
    // Nothing recorded apart is left behind, and the counters serve again.
    expect((await redis.client.hkeys(key)).filter((f) => f.startsWith('s:'))).toEqual([]);
    expect(await redis.client.exists(`${key}:qs`)).toBe(0);
    expect(await counters.lostStripes()).toEqual([]);
    for (const s of counters.keys.stripes()) expect(await redis.client.exists(counters.keys.restoring(s))).toBe(0);
    expect(await counters.needsRestore()).toBe(false);
    expect(await counters.beginRestore(accounts)).toEqual(expect.any(String));
  });

  it('lets a failed rebuild go, and refuses to finish one that lost its marker', async () => {
    const accounts = { lineItemIds: ['li-1'], campaignIds: ['cp-1'] };
    const failed = await counters.beginRestore(accounts);
    await counters.abortRestore(failed!);
    const next = await counters.beginRestore(accounts);
    expect(next).toEqual(expect.any(String));
    // This rebuild's recording marker expired on one stripe and another process cleared the markers.
    await redis.client.del(counters.keys.restoring(counters.keys.stripeOf('li-1')));
    await counters.markLost();
    await expect(counters.finishRestore(next!, accounts)).rejects.toThrow(/outlived its marker/);
    expect(await counters.needsRestore()).toBe(true);
  });
});
