import fc from 'fast-check';
import { LedgerTestRedis, ledgerTargets } from '../../../test/support/ledger-redis';
import { ledgerCandidate, ledgerClaims } from '../../../test/support/ledger';
import { ManualClock } from './clock';
import { DeliveryLedger, QUARTER_MS } from './delivery-ledger.service';
import type { CountableEvent, ReservationCandidate } from './ledger.types';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const PRICE = 2_000_000;

function candidate(o: Partial<ReservationCandidate> = {}): ReservationCandidate {
  return ledgerCandidate({ eventPriceMilliMicros: PRICE, reserveMilliMicros: PRICE, budgetMilliMicros: 1000 * PRICE, random: 0, ...o });
}

function impression(c: ReservationCandidate, decisionId: string, userId: string, clock: ManualClock): CountableEvent {
  const claims = ledgerClaims({ decisionId, advertiserId: 'a', campaignId: c.campaignId, lineItemId: c.lineItemId, creativeId: 'cr', userId, rateMicros: c.eventPriceMilliMicros, platform: 'web', issuedAt: Math.floor(clock.now() / 1000) });
  return { claims, event: 'impression', occurredAt: clock.now() };
}

describe.each(ledgerTargets())('leases (real Redis: %s)', (_, target) => {
  let clock: ManualClock;
  const connections: LedgerTestRedis[] = [];
  const ledgers: DeliveryLedger[] = [];

  async function replica(prefix?: string): Promise<{ ledger: DeliveryLedger; redis: LedgerTestRedis }> {
    const redis = await target.connect(prefix ?? connections[0]?.prefix);
    connections.push(redis);
    const ledger = new DeliveryLedger(redis, clock, { leaseReportMs: 0 });
    ledgers.push(ledger);
    await ledger.whenReady();
    return { ledger, redis };
  }

  beforeEach(() => {
    clock = new ManualClock(T0);
  });

  afterEach(async () => {
    for (const l of ledgers.splice(0)) await l.onApplicationShutdown();
    const first = connections.shift();
    for (const c of connections.splice(0)) await c.onApplicationShutdown();
    await first?.cleanup();
  });

  async function serve(ledger: DeliveryLedger, c: ReservationCandidate, n: number, user = 'u'): Promise<string[]> {
    const served: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `d-${Math.random().toString(36).slice(2)}`;
      const r = await ledger.reserve({ userId: `${user}-${i}`, decisionIds: [id], candidates: [c] });
      if (r.restored && r.selected.length === 1) served.push(id);
    }
    return served;
  }

  it('serves an uncapped, unlimited decision from the lease alone, without a Redis call', async () => {
    const { ledger } = await replica();
    await ledger.markRestored();
    const c = candidate();
    expect(await serve(ledger, c, 1)).toHaveLength(1);
    const client = (ledger as unknown as { client: { dlvLease: () => unknown; dlvDecide: () => unknown } }).client;
    const lease = jest.spyOn(client, 'dlvLease');
    const decide = jest.spyOn(client, 'dlvDecide');
    expect(await serve(ledger, c, 3)).toHaveLength(3);
    expect(lease).not.toHaveBeenCalled();
    expect(decide).not.toHaveBeenCalled();
    // A listener limit (or a capped candidate) takes one call on the listener's stripe.
    await ledger.reserve({ userId: 'limited', limits: { listener: 5, ip: 0 }, decisionIds: ['x'], candidates: [c] });
    expect(decide).toHaveBeenCalledTimes(1);
  });

  it('keeps all leases together within the cap (1% of the budget here), and grants none past the budget', async () => {
    const a = await replica();
    const b = await replica();
    await a.ledger.markRestored();
    const c = candidate({ budgetMilliMicros: 10_000 * PRICE });
    await serve(a.ledger, c, 5);
    await serve(b.ledger, c, 5);
    const key = a.ledger.keys.lineItem('li-1');
    const leased = Number(await a.redis.client.hget(key, 'leased'));
    const leases = await a.redis.client.hgetall(`${key}:l`);
    expect(Object.keys(leases)).toHaveLength(2);
    expect(leased).toBe(Object.values(leases).reduce((sum, v) => sum + Number(v.split(':')[0]), 0));
    expect(leased).toBeLessThanOrEqual(100 * PRICE);
    // A budget of 3 events: whatever the replicas ask, no more than 3 are served.
    const small = candidate({ lineItemId: 'small', budgetMilliMicros: 3 * PRICE });
    expect((await serve(a.ledger, small, 4)).length + (await serve(b.ledger, small, 4)).length).toBe(3);
  });

  it('returns the unused lease when a replica stops, so that another can serve the budget at once', async () => {
    const a = await replica();
    const b = await replica();
    await a.ledger.markRestored();
    const c = candidate({ budgetMilliMicros: 8 * PRICE });
    expect(await serve(a.ledger, c, 1)).toHaveLength(1);
    const key = a.ledger.keys.lineItem('li-1');
    expect(Number(await a.redis.client.hget(key, 'leased'))).toBeGreaterThan(0);
    await a.ledger.onApplicationShutdown();
    expect(Number(await b.redis.client.hget(key, 'leased'))).toBe(0);
    expect(Number(await b.redis.client.hget(key, 'res'))).toBe(PRICE);
    expect(await serve(b.ledger, c, 10)).toHaveLength(7);
  });

  it("holds a dead replica's lease as reservations once it expires, which lapse with the window", async () => {
    const a = await replica();
    const b = await replica();
    await a.ledger.markRestored();
    const c = candidate({ budgetMilliMicros: 8 * PRICE });
    // Replica a takes a lease, serves 2 decisions it never reports, and dies.
    expect(await serve(a.ledger, c, 2)).toHaveLength(2);
    const key = a.ledger.keys.lineItem('li-1');
    const held = Number(await a.redis.client.hget(key, 'leased'));
    expect(held).toBeGreaterThanOrEqual(2 * PRICE);
    // Before its lease expires, only what it leaves is served elsewhere.
    expect(await serve(b.ledger, c, 10)).toHaveLength(8 - held / PRICE);
    // Once expired, the dead lease is held whole (its decisions may still deliver) ...
    clock.advance(11_000);
    expect(await serve(b.ledger, c, 10)).toHaveLength(0);
    expect(Number(await b.redis.client.hget(key, 'leased'))).toBe(0);
    expect(await b.redis.client.hexists(`${key}:l`, 'x')).toBe(0);
    // ... and lapses with the reservation window like any reservation.
    clock.advance(11 * 60_000);
    expect(await serve(b.ledger, c, 10)).toHaveLength(8);
  });

  it('serves nothing from a stripe that lost its data (a shard restarted empty) until the rebuild, and the rest goes on', async () => {
    const { ledger, redis } = await replica();
    await ledger.markRestored();
    const keys = ledger.keys;
    // Two line items on different stripes; the first one's stripe loses everything.
    const ids = Array.from({ length: 40 }, (_, i) => `li-${i}`);
    const lost = ids[0];
    const kept = ids.find((id) => keys.stripeOf(id) !== keys.stripeOf(lost))!;
    expect(await serve(ledger, candidate({ lineItemId: lost }), 2)).toHaveLength(2);
    expect(await serve(ledger, candidate({ lineItemId: kept }), 2)).toHaveLength(2);
    await ledger.flush();
    const stripe = keys.stripeOf(lost);
    for (const key of [keys.marker(stripe), keys.lineItem(lost), `${keys.lineItem(lost)}:r`, `${keys.lineItem(lost)}:l`]) await redis.client.del(key);
    expect(await ledger.lostStripes()).toEqual([stripe]);
    // The lease in hand ends at its next renewal; once it must be renewed, nothing more is served there.
    clock.advance(10_000);
    const blocked = await ledger.reserve({ userId: 'u-x', decisionIds: ['x'], candidates: [candidate({ lineItemId: lost })] });
    expect(blocked).toEqual({ restored: false });
    expect(await serve(ledger, candidate({ lineItemId: kept }), 2)).toHaveLength(2);
    // The rebuild restores the stripe (spend of the last window held as reservations) and it serves again.
    await ledger.restore({ spend: [{ lineItemId: lost, campaignId: 'cp-1', spentMilliMicros: 2 * PRICE, recent: [{ quarterStartMs: Math.floor(T0 / QUARTER_MS) * QUARTER_MS, spentMilliMicros: 2 * PRICE }] }], frequency: [], rates: [] });
    await ledger.markRestored();
    const again = await ledger.reserve({ userId: 'u-y', decisionIds: ['y'], candidates: [candidate({ lineItemId: lost })] });
    expect(again).toMatchObject({ restored: true, selected: [{ index: 0 }] });
    expect(Number(await redis.client.hget(keys.lineItem(lost), 'res'))).toBe(2 * PRICE);
  });

  /**
   * No interleaving of reserves on three replicas, applies, lease reports and returns, lease
   * expiries, and a lost stripe with its rebuild serves past a budget by more than what was in flight
   * when the stripe was lost (leases out and decisions not yet measured), and none serves past it at
   * all without a loss. (Billing never passes a budget whatever Redis does: the aggregation's cap.)
   */
  it('property: no interleaving serves past the budget, nor past it by more than what was in flight when a stripe was lost', async () => {
    const r = [await replica(), await replica(), await replica()];
    const command = fc.oneof(
      fc.record({ k: fc.constant('reserve' as const), r: fc.nat(2), n: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ k: fc.constant('apply' as const), r: fc.nat(2), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ k: fc.constant('flush' as const), r: fc.nat(2) }),
      fc.record({ k: fc.constant('restart' as const), r: fc.nat(2) }),
      fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
      fc.record({ k: fc.constant('lose' as const) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 5, max: 60 }), fc.array(command, { minLength: 5, maxLength: 40 }), async (budgetEvents, commands) => {
        const c = candidate({ lineItemId: `p-${++run}`, campaignId: `pc-${run}`, budgetMilliMicros: budgetEvents * PRICE });
        const keys = r[0].ledger.keys;
        await r[0].ledger.markRestored();
        const pending: CountableEvent[] = [];
        let applied = 0;
        let served = 0;
        let slack = 0;
        let seq = 0;
        for (const cmd of commands) {
          if (cmd.k === 'reserve') {
            for (let i = 0; i < cmd.n; i++) {
              const id = `${run}-${++seq}`;
              const res = await r[cmd.r].ledger.reserve({ userId: `u${seq}`, decisionIds: [id], candidates: [c] });
              if (res.restored && res.selected.length === 1) {
                served++;
                pending.push(impression(c, id, `u${seq}`, clock));
              }
            }
          } else if (cmd.k === 'apply') {
            const batch = pending.splice(0, Math.round(pending.length * cmd.share));
            await r[cmd.r].ledger.applyEvents(batch);
            applied += batch.length;
          } else if (cmd.k === 'flush') await r[cmd.r].ledger.flush();
          else if (cmd.k === 'restart') {
            await r[cmd.r].ledger.onApplicationShutdown();
            r[cmd.r].ledger = new DeliveryLedger(r[cmd.r].redis, clock, { leaseReportMs: 0 });
            ledgers.push(r[cmd.r].ledger);
            await r[cmd.r].ledger.whenReady();
          } else if (cmd.k === 'advance') clock.advance(cmd.ms);
          else {
            // The line item's stripe loses everything; what was in flight (leases out, decisions not yet
            // measured) may be served again once; the rebuild then restores MySQL's spend, as the worker does.
            const key = keys.lineItem(c.lineItemId);
            slack += Number((await r[0].redis.client.hget(key, 'leased')) ?? 0) / PRICE + pending.length;
            for (const k of [keys.marker(keys.stripeOf(c.lineItemId)), key, `${key}:r`, `${key}:l`, `${key}:q`]) await r[0].redis.client.del(k);
            const q = Math.floor(clock.now() / QUARTER_MS) * QUARTER_MS;
            await r[0].ledger.restore({ spend: [{ lineItemId: c.lineItemId, campaignId: c.campaignId, spentMilliMicros: applied * PRICE, recent: [{ quarterStartMs: q, spentMilliMicros: applied * PRICE }] }], frequency: [], rates: [] });
            await r[0].ledger.markRestored();
          }
          expect(served).toBeLessThanOrEqual(budgetEvents + slack);
        }
        // Whatever happened, the replicas' view of the account never lets leases and reservations pass the budget.
        for (const { ledger } of r) await ledger.flush();
        const li = (await r[0].ledger.readLineItems([c.lineItemId])).get(c.lineItemId)!;
        expect(li.spentMilliMicros).toBe(applied * PRICE);
      }),
      { numRuns: 25, seed: 20261206 },
    );
  });
});
