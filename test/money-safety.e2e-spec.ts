import Redis from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { http } from './support/http';
import { BROWSER_UA, createPlacementVia, mysql, report, waitForAggregation } from './support/measurement-fixtures';
import { sleep, waitFor } from './support/processes';
import { Stack, dropDatabase, dropRedisPrefix } from './support/stack';
import { ledgerKeys, ledgerRestored } from './support/ledger';

/**
 * Billed spend never passes a budget, whatever the click rate or however late events arrive, and
 * listeners cannot hold budget with decisions they never play (issue 15, defects 1, 2 and 5). Its own
 * stack: a 2-second reservation window (so that reservations lapse within the test) and small
 * per-listener and per-IP limits. Expected figures are written out, never taken from the API.
 */
describe('money safety (own stack)', () => {
  const runId = `${process.env.E2E_RUN_ID}money`;
  let stack: Stack;
  let db: Connection;

  beforeAll(async () => {
    stack = await Stack.start({
      dbName: `adp_test_${runId}`,
      queuePrefix: `test-${runId}`,
      env: { RESERVATION_WINDOW_SECONDS: '2', DECISION_LISTENER_LIMIT: '5', DECISION_IP_LIMIT: '8' },
    });
    db = await mysql(`adp_test_${runId}`);
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await dropDatabase(`adp_test_${runId}`);
    await dropRedisPrefix(stack.env.REDIS_URL!, stack.env.QUEUE_PREFIX!);
  });

  const decide = (userId: string, ip: string) =>
    http('POST', '/v1/decisions', { key: null, baseUrl: stack.baseUrl, body: { placement: 'money', user: { id: userId }, device: { platform: 'ios', ip }, geo: { country: 'US' } } });

  /** Fires a tracking URL as a player on its own IP would. */
  const fire = async (url: string, ip: string) => {
    const res = await fetch(url, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA, 'x-forwarded-for': ip } });
    await res.arrayBuffer();
    return res.status;
  };

  async function activate(lineItem: Record<string, unknown>, campaign: Record<string, unknown> = {}) {
    const placement = await createPlacementVia(stack.baseUrl, { pacing: 'ASAP', frequencyCaps: [], ...lineItem });
    if (Object.keys(campaign).length > 0) expect((await http('PATCH', `/v1/campaigns/${placement.campaignId}`, { baseUrl: stack.baseUrl, body: campaign })).status).toBe(200);
    expect((await http('POST', `/v1/campaigns/${placement.campaignId}/activate`, { baseUrl: stack.baseUrl })).status).toBe(200);
    expect((await http('POST', `/v1/line-items/${placement.lineItemId}/activate`, { baseUrl: stack.baseUrl })).status).toBe(200);
    return placement;
  }

  /** Serves up to `n` decisions of `lineItemId`, each to a listener of its own on an IP of its own. */
  async function serve(tag: string, n: number, lineItemId: string) {
    const served: Array<{ tracking: Record<string, string>; ip: string }> = [];
    for (let i = 0; i < n; i++) {
      const ip = `198.51.${[...tag].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 251, 7)}.${i}`;
      const res = await decide(`${tag}-${i}`, ip);
      expect(res.status).toBe(200);
      const ad = (res.body.decisions as Array<{ lineItemId: string; tracking: Record<string, string> }>).find((d) => d.lineItemId === lineItemId);
      if (ad) served.push({ tracking: ad.tracking, ip });
    }
    return served;
  }

  const totals = async (lineItemId: string) => {
    await waitForAggregation(db);
    const res = await report({ lineItemId, granularity: 'total' }, { baseUrl: stack.baseUrl });
    expect(res.status).toBe(200);
    return res.body.rows[0] as Record<string, number>;
  };

  const ledger = async (kind: 'line_item' | 'campaign', id: string) => {
    const [rows] = (await db.query('SELECT billed_mmicros AS billed, written_off_mmicros AS off FROM spend_ledger WHERE account_kind = ? AND account_id = ?', [kind, id])) as unknown as [
      Array<{ billed: string; off: string }>,
    ];
    return rows[0] ? { billed: Number(rows[0].billed), off: Number(rows[0].off) } : null;
  };

  it('bills a CPC line item whose every served ad is clicked exactly its budget, writes off the rest, and stops serving it', async () => {
    // 1,000 µ a click, a budget of 10 clicks; the campaign's budget is far larger, so the line item's cap is what holds.
    const p = await activate({ pricingModel: 'CPC', rateMicros: 1_000, budgetMicros: 10_000 }, { budgetMicros: 1_000_000_000 });
    await waitFor(async () => (await serve('cpc-warm', 1, p.lineItemId)).length === 1 || null, 15_000, 'the line item to serve');
    const served = [...(await serve('cpc', 29, p.lineItemId))];
    // One warm-up decision plus 29: each reserves only the click's upper-bound rate, so all fill.
    expect(served.length).toBe(29);
    for (const ad of served) {
      expect(await fire(ad.tracking.impression, ad.ip)).toBe(204);
      expect(await fire(ad.tracking.click, ad.ip)).toBe(302);
    }
    const row = await totals(p.lineItemId);
    expect(row.clicks).toBe(29);
    expect(row.invalidClicks).toBe(0);
    expect(row.spendMicros).toBe(10_000);
    expect(row.writtenOffMicros).toBe(19_000);
    expect(await ledger('line_item', p.lineItemId)).toEqual({ billed: 10_000_000, off: 19_000_000 });
    expect(await ledger('campaign', p.campaignId)).toEqual({ billed: 10_000_000, off: 19_000_000 });
    // The delivery-health figures show what was written off beside what was billed.
    const health = await http('GET', '/v1/ops/delivery-health', { baseUrl: stack.baseUrl });
    expect(health.status).toBe(200);
    expect(health.body.find((h: { lineItemId: string }) => h.lineItemId === p.lineItemId)).toMatchObject({ spentMicros: 10_000, writtenOffMicros: 19_000, budgetMicros: 10_000 });
    // Delivery counted all 29 clicks: the line item no longer serves.
    await sleep(1500);
    expect(await serve('cpc-after', 5, p.lineItemId)).toEqual([]);
  });

  it('caps a CPM budget when impressions arrive after their reservations lapsed, Redis losing its counters in between', async () => {
    // 1,000,000 µ CPM = 1,000 µ an impression; a budget of 10 impressions.
    const p = await activate({ pricingModel: 'CPM', rateMicros: 1_000_000, budgetMicros: 10_000, priority: 2 });
    await waitFor(async () => (await serve('late-probe', 1, p.lineItemId)).length === 1 || null, 15_000, 'the line item to serve');
    // The probe's reservation lapses too; then ten more fill the budget with reservations.
    await sleep(2500);
    const first = await serve('late-a', 12, p.lineItemId);
    expect(first.length).toBe(10);
    // Their impressions do not come (offline); the reservations lapse and Redis loses its counters.
    await sleep(2500);
    await dropRedisPrefix(stack.env.REDIS_URL!, `${stack.env.QUEUE_PREFIX}:dlv`);
    const redis = new Redis(stack.env.REDIS_URL!);
    try {
      await waitFor(() => ledgerRestored(redis, stack.env.QUEUE_PREFIX!), 20_000, 'the worker to rebuild the counters');
    } finally {
      redis.disconnect();
    }
    const second = await serve('late-b', 12, p.lineItemId);
    expect(second.length).toBe(10);
    // Now every impression arrives (the probe's never does): 20 delivered, 10 billable.
    for (const ad of [...first, ...second]) expect(await fire(ad.tracking.impression, ad.ip)).toBe(204);
    const row = await totals(p.lineItemId);
    expect(row.impressions).toBe(20);
    expect(row.spendMicros).toBe(10_000);
    expect(row.writtenOffMicros).toBe(10_000);
  });

  it('answers one listener flooding decisions with no fill past its limit, and one IP past its own', async () => {
    // Ranked before the earlier tests' line items (lower priority number), so that every fill is its own.
    const p = await activate({ pricingModel: 'CPM', rateMicros: 1_000, budgetMicros: 1_000_000_000, priority: 1 });
    await waitFor(async () => (await serve('flood-probe', 1, p.lineItemId)).length === 1 || null, 15_000, 'the line item to serve');
    const metric = async () => {
      const text = (await http('GET', '/metrics', { baseUrl: stack.baseUrl })).text;
      return Number(/delivery_decisions_limited_total\{limit="listener_limit"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const before = await metric();
    let filled = 0;
    const ads: Array<{ tracking: Record<string, string> }> = [];
    for (let i = 0; i < 40; i++) {
      const res = await decide('flooder', `203.0.113.${i}`);
      expect(res.status).toBe(200);
      filled += res.body.decisions.length;
      ads.push(...res.body.decisions);
    }
    expect(filled).toBe(5);
    expect((await metric()) - before).toBe(35);
    // Playing two frees two places.
    for (const ad of ads.slice(0, 2)) expect(await fire(ad.tracking.impression, '203.0.113.200')).toBe(204);
    let again = 0;
    for (let i = 0; i < 5; i++) again += (await decide('flooder', `203.0.113.${100 + i}`)).body.decisions.length;
    expect(again).toBe(2);

    // Distinct listeners on one IP: 8 ads, then none.
    let fromOneIp = 0;
    for (let i = 0; i < 20; i++) fromOneIp += (await decide(`nat-${i}`, '192.0.2.77')).body.decisions.length;
    expect(fromOneIp).toBe(8);

    // A caller not allowed to name the listener's IP (TRUST_DEVICE_IP: loopback here; this one comes
    // through the proxy from 203.0.113.99) counts at its own address whatever IP it makes up, and the
    // IP it names keeps its own places.
    const untrusted = (userId: string, ip: string) =>
      http('POST', '/v1/decisions', { key: null, baseUrl: stack.baseUrl, headers: { 'x-forwarded-for': '203.0.113.99' }, body: { placement: 'money', user: { id: userId }, device: { platform: 'ios', ip }, geo: { country: 'US' } } });
    let madeUp = 0;
    for (let i = 0; i < 20; i++) madeUp += (await untrusted(`spoof-${i}`, i < 10 ? `100.64.0.${i}` : '192.0.2.88')).body.decisions.length;
    expect(madeUp).toBe(8);
    let named = 0;
    for (let i = 0; i < 10; i++) named += (await decide(`ssai-${i}`, '192.0.2.88')).body.decisions.length;
    expect(named).toBe(8);
  });

  it('bills CPCL on the completed listen only, capped at the budget, and counts a replayed beacon once in the delivery counters', async () => {
    // 1,000 µ a completed listen, a budget of 5.
    const p = await activate({ pricingModel: 'CPCL', rateMicros: 1_000, budgetMicros: 5_000, priority: 1 });
    await waitFor(async () => (await serve('cpcl-warm', 1, p.lineItemId)).length === 1 || null, 15_000, 'the line item to serve');
    // Before any listen is measured, each decision holds a whole listen (the rate's upper bound is 1):
    // four more fill the budget. Their reservations lapse (2 s here) before the listens arrive, and
    // four more are served.
    const served = await serve('cpcl-a', 6, p.lineItemId);
    expect(served.length).toBe(4);
    await sleep(2500);
    served.push(...(await serve('cpcl-b', 4, p.lineItemId)));
    expect(served.length).toBe(8);
    for (const [i, ad] of served.entries()) {
      for (const event of ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete']) expect(await fire(ad.tracking[event], ad.ip)).toBe(204);
      // Every completion is sent twice (a player retrying), and only the first three listens are clicked.
      expect(await fire(ad.tracking.complete, ad.ip)).toBe(204);
      if (i < 3) expect(await fire(ad.tracking.click, ad.ip)).toBe(302);
    }
    const row = await totals(p.lineItemId);
    expect(row).toMatchObject({ impressions: 8, completes: 8, clicks: 3, spendMicros: 5_000, writtenOffMicros: 3_000 });
    // Delivery counted each completion once: 8 × 1,000 µ = 8,000,000 milli-micros, not 16.
    const redis = new Redis(stack.env.REDIS_URL!);
    try {
      expect(await redis.hmget(ledgerKeys(stack.env.QUEUE_PREFIX!).lineItem(p.lineItemId), 'spent', 'completes', 'imps')).toEqual(['8000000', '8', '8']);
    } finally {
      redis.disconnect();
    }
  });
});
