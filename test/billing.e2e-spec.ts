import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { http } from './support/http';
import { Placement, createPlacementVia, mysql, report, waitForAggregation } from './support/measurement-fixtures';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from './support/processes';
import { Stack, dropDatabase, dropRedisPrefix } from './support/stack';

/**
 * Billing end to end (issue 16), on its own stack: the month close and reconciliation run every
 * second, and a second API process races the first. Usage is written as raw events straight into
 * MySQL (the aggregation rolls them up as it would ingested ones), so that months, boundaries and
 * lateness are exact. Expected figures are written out, never taken from the API.
 */
describe('billing (own stack)', () => {
  const runId = `${process.env.E2E_RUN_ID}b`;
  let stack: Stack;
  let secondApi: ManagedProcess;
  let secondUrl: string;
  let db: Connection;
  const call = (method: string, path: string, options: Parameters<typeof http>[2] = {}) => http(method, path, { baseUrl: stack.baseUrl, ...options });

  beforeAll(async () => {
    stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, env: { BILLING_MONTH_CLOSE_EVERY_MS: '1000', BILLING_RECONCILE_EVERY_MS: '1000' } });
    db = await mysql(`adp_test_${runId}`);
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    secondApi = startProcess(`${runId}-api-2`, process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], { ...stack.env, PORT: String(port) });
    await waitFor(async () => (await fetch(`${secondUrl}/health/live`).catch(() => null))?.status === 200, 30000, 'second API', 100);
  });

  afterAll(async () => {
    await db?.end();
    await secondApi?.stop();
    await stack?.stop();
    await dropDatabase(`adp_test_${runId}`);
    await dropRedisPrefix(stack.env.REDIS_URL!, stack.env.QUEUE_PREFIX!);
  });

  /** An advertiser in `timezone` with one CPM line item (rate 3,210,987 µ per 1,000: impressions cost fractions of a micro). */
  async function placement(timezone: string, lineItem: Record<string, unknown> = {}): Promise<Placement> {
    const p = await createPlacementVia(stack.baseUrl, lineItem);
    expect((await call('PATCH', `/v1/advertisers/${p.advertiserId}`, { body: { timezone } })).status).toBe(200);
    return p;
  }

  /** Stores `n` valid billable events of a placement at an instant, as ingestion would, and waits for the rollups. */
  async function usage(p: Placement, at: string, n: number): Promise<void> {
    const rows = Array.from({ length: n }, () => [
      randomUUID(),
      p.pricingModel === 'CPC' ? 'click' : p.pricingModel === 'CPCL' ? 'complete' : 'impression',
      'valid',
      new Date(at),
      new Date(),
      p.advertiserId,
      p.campaignId,
      p.lineItemId,
      p.creativeId,
      'listener',
      '1',
      'US',
      'ios',
      p.pricingModel ?? 'CPM',
      p.rateMicros ?? 3_210_987,
      1,
    ]);
    await db.query(
      'INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id, user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag) VALUES ?',
      [rows],
    );
    await waitForAggregation(db);
  }

  const generate = async (period: string, advertiserId: string, baseUrl = stack.baseUrl, headers: Record<string, string> = {}) => {
    const res = await http('POST', '/v1/invoices/generate', { baseUrl, body: { period, advertiserId }, headers });
    expect(res.status).toBe(200);
    return res.body.data as Array<Record<string, any>>;
  };
  const invoicesOf = async (advertiserId: string) => (await call('GET', `/v1/invoices?advertiserId=${advertiserId}&limit=100`)).body.data as Array<Record<string, any>>;
  /** floor(n × rate / 1000) micros, from the exact milli-micros. */
  const cpm = (n: number, rate = 3_210_987) => Number((BigInt(n) * BigInt(rate)) / 1000n);

  it('cuts Asia/Kathmandu (+05:45) and America/New_York (DST) months exactly, and a report of the month in that zone gives the invoice its units and amount', async () => {
    const ktm = await placement('Asia/Kathmandu');
    // 2026-10 in Kathmandu is [2026-09-30T18:15Z, 2026-10-31T18:15Z).
    await usage(ktm, '2026-09-30T18:14:59.999Z', 5);
    await usage(ktm, '2026-09-30T18:15:00.000Z', 7);
    await usage(ktm, '2026-10-31T18:14:59.999Z', 11);
    await usage(ktm, '2026-10-31T18:15:00.000Z', 13);
    const [inv] = await generate('2026-10', ktm.advertiserId);
    expect(inv).toMatchObject({ period: '2026-10', timezone: 'Asia/Kathmandu', periodStart: '2026-09-30T18:15:00.000Z', periodEnd: '2026-10-31T18:15:00.000Z', status: 'draft' });
    expect(inv.lines).toEqual([expect.objectContaining({ kind: 'usage', lineItemId: ktm.lineItemId, billableUnits: 18, amountMicros: cpm(18), rateMicros: 3_210_987 })]);
    expect(inv.totalMicros).toBe(cpm(18));
    const rep = await report({ lineItemId: ktm.lineItemId, from: '2026-10-01', to: '2026-11-01', timezone: 'Asia/Kathmandu' }, { baseUrl: stack.baseUrl });
    expect(rep.status).toBe(200);
    expect(rep.body.rows[0]).toMatchObject({ impressions: 18, writtenOffMicros: 0, spendMicros: cpm(18) });
    // The advertiser's own zone is the default.
    const byDefault = await report({ lineItemId: ktm.lineItemId, from: '2026-10-01', to: '2026-11-01' }, { baseUrl: stack.baseUrl });
    expect(byDefault.body.rows[0]).toMatchObject({ impressions: 18, spendMicros: cpm(18) });
    expect(byDefault.body.timezone).toBe('Asia/Kathmandu');

    const nyc = await placement('America/New_York');
    // 2026-03 in New York: [03-01T05:00Z, 04-01T04:00Z) (EST, then EDT from March 8).
    await usage(nyc, '2026-03-01T04:59:59.000Z', 3);
    await usage(nyc, '2026-03-01T05:00:00.000Z', 4);
    await usage(nyc, '2026-04-01T03:59:59.000Z', 6);
    await usage(nyc, '2026-04-01T04:00:00.000Z', 8);
    const [march] = await generate('2026-03', nyc.advertiserId);
    expect(march).toMatchObject({ periodStart: '2026-03-01T05:00:00.000Z', periodEnd: '2026-04-01T04:00:00.000Z', totalMicros: cpm(10) });
    expect(march.lines[0].billableUnits).toBe(10);
    const nycReport = await report({ lineItemId: nyc.lineItemId, from: '2026-03-01', to: '2026-04-01', timezone: 'America/New_York', granularity: 'day' }, { baseUrl: stack.baseUrl });
    expect(nycReport.status).toBe(200);
    const days = nycReport.body.rows as Array<{ period: string; impressions: number; spendMicros: number }>;
    expect(days.map((d) => [d.period, d.impressions])).toEqual([
      ['2026-03-01', 4],
      ['2026-03-31', 6],
    ]);
  });

  it('issues with the next gapless number, refuses changes at the SQL level, puts late usage on the next draft as an adjustment, and voids into a new draft', async () => {
    const p = await placement('UTC');
    await usage(p, '2026-04-15T12:00:00Z', 1000);
    const [draft] = await generate('2026-04', p.advertiserId);
    // Generating again changes nothing.
    const [again] = await generate('2026-04', p.advertiserId);
    expect(again).toMatchObject({ id: draft.id, totalMicros: cpm(1000), lines: draft.lines });

    const issued = await call('POST', `/v1/invoices/${draft.id}/issue`);
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ status: 'issued', totalMicros: cpm(1000), subtotalMicros: cpm(1000), adjustmentsMicros: 0 });
    expect(issued.body.number).toMatch(/^INV-\d{4}-\d{6}$/);
    const [[counter]] = (await db.query('SELECT last_number FROM invoice_number_counters WHERE year = ?', [Number(issued.body.number.slice(4, 8))])) as any;
    expect(issued.body.number).toBe(`INV-${issued.body.number.slice(4, 8)}-${String(counter.last_number).padStart(6, '0')}`);

    // Where the data lives: any other change to an issued invoice or its lines is refused by MySQL.
    await expect(db.query('UPDATE invoices SET total_micros = total_micros + 1 WHERE id = ?', [draft.id])).rejects.toThrow(/not a draft/);
    await expect(db.query('UPDATE invoice_lines SET amount_micros = 0 WHERE invoice_id = ?', [draft.id])).rejects.toThrow(/not a draft/);
    await expect(db.query('DELETE FROM invoices WHERE id = ?', [draft.id])).rejects.toThrow(/not a draft/);
    await expect(db.query("UPDATE invoices SET status = 'draft' WHERE id = ?", [draft.id])).rejects.toThrow(/not a draft/);

    // Late usage of April, measured after the cutoff: not on April's invoice, but on May's draft.
    await usage(p, '2026-04-30T23:59:59Z', 7);
    expect(await generate('2026-04', p.advertiserId)).toEqual([]);
    expect((await call('GET', `/v1/invoices/${draft.id}`)).body.totalMicros).toBe(cpm(1000));
    await usage(p, '2026-05-02T00:00:00Z', 20);
    const [may] = await generate('2026-05', p.advertiserId);
    // Rounded once over the month's running total: April is billed floor(1007 × rate / 1000) in all.
    expect(may.lines).toEqual([
      expect.objectContaining({ kind: 'usage', servicePeriod: '2026-05', billableUnits: 20, amountMicros: cpm(20) }),
      expect.objectContaining({ kind: 'adjustment', servicePeriod: '2026-04', billableUnits: 7, amountMicros: cpm(1007) - cpm(1000), originalInvoiceId: draft.id }),
    ]);
    expect(may).toMatchObject({ subtotalMicros: cpm(20), adjustmentsMicros: cpm(1007) - cpm(1000), totalMicros: cpm(20) + cpm(1007) - cpm(1000) });
    expect(may.lines[1].reason).toContain('2026-04');

    // Void April: its usage goes back on a new draft of April, minus what May already bills of it.
    const voided = await call('POST', `/v1/invoices/${draft.id}/void`, { body: { reason: 'wrong address' } });
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({ status: 'void', number: issued.body.number, voidReason: 'wrong address' });
    const replacement = (await call('GET', `/v1/invoices/${voided.body.replacementInvoiceId}`)).body;
    expect(replacement).toMatchObject({ status: 'draft', period: '2026-04', number: null, totalMicros: cpm(1000) });
    expect(replacement.lines).toEqual([expect.objectContaining({ kind: 'usage', billableUnits: 1000, amountMicros: cpm(1000) })]);
    const reissued = await call('POST', `/v1/invoices/${replacement.id}/issue`);
    expect(reissued.status).toBe(200);
    expect(reissued.body.number > issued.body.number).toBe(true);
    // Paid, and the void stays void.
    expect((await call('POST', `/v1/invoices/${reissued.body.id}/pay`)).body.status).toBe('paid');
    expect((await call('POST', `/v1/invoices/${draft.id}/issue`)).status).toBe(409);

    // CSV: header, then lines.
    const csv = await call('GET', `/v1/invoices/${may.id}?format=csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,number,advertiserId,period/);
    expect(lines[1]).toContain(may.id);
    expect(lines.filter((l) => l.startsWith('adjustment,'))).toHaveLength(1);
  });

  it('leaves one draft with the same totals when two API processes generate the same month at once', async () => {
    const advertisers = await Promise.all([placement('UTC'), placement('Asia/Kolkata'), placement('America/New_York')]);
    for (const [i, p] of advertisers.entries()) await usage(p, '2026-08-10T10:00:00Z', 100 + i);
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => http('POST', '/v1/invoices/generate', { baseUrl: i % 2 ? secondUrl : stack.baseUrl, body: { period: '2026-08' } })),
    );
    for (const r of runs) expect(r.status).toBe(200);
    for (const [i, p] of advertisers.entries()) {
      const mine = (await invoicesOf(p.advertiserId)).filter((inv) => inv.period === '2026-08');
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ status: 'draft', totalMicros: cpm(100 + i) });
      const ids = new Set(runs.flatMap((r) => (r.body.data as Array<{ id: string; advertiserId: string; totalMicros: number }>).filter((d) => d.advertiserId === p.advertiserId).map((d) => `${d.id}:${d.totalMicros}`)));
      expect([...ids]).toEqual([`${mine[0].id}:${cpm(100 + i)}`]);
    }
  });

  it('closes the month by itself: drafts last month in each zone, and reconciles invoice = rollups = raw events', async () => {
    const p = await placement('Pacific/Chatham');
    const now = Date.now();
    const last = new Date(now);
    // A day in the middle of last month (in any zone).
    const lastMonthMid = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() - 1, 15, 12));
    await usage(p, lastMonthMid.toISOString(), 42);
    const period = lastMonthMid.toISOString().slice(0, 7);
    const draft = await waitFor(async () => (await invoicesOf(p.advertiserId)).find((i) => i.period === period), 20000, 'month close draft', 200);
    expect(draft).toMatchObject({ status: 'draft', totalMicros: cpm(42), timezone: 'Pacific/Chatham' });
    const rec = await waitFor(
      async () => {
        const r = await call('GET', `/v1/invoices/${draft.id}/reconciliation`);
        return r.body.state === 'ok' ? r.body : null;
      },
      20000,
      'reconciliation',
      200,
    );
    expect(rec.lines).toEqual([
      { lineItemId: p.lineItemId, state: 'ok', invoiced: expect.objectContaining({ units: 42, micros: cpm(42) }), rollup: expect.objectContaining({ units: 42 }), raw: expect.objectContaining({ units: 42 }) },
    ]);
    // A rollup that disagrees with its raw events is recorded as a mismatch.
    await db.query('UPDATE event_rollups_quarter SET billable_events = billable_events + 1 WHERE line_item_id = ? LIMIT 1', [p.lineItemId]);
    await waitFor(async () => (await call('GET', `/v1/invoices/${draft.id}/reconciliation`)).body.state === 'mismatch', 20000, 'mismatch recorded', 200);
    // ... and raised as a breach of the reconciliation SLA (an alert once, like every breach).
    const breach = await waitFor(
      async () => (await call('GET', '/v1/ops/breaches?slaId=billing.reconciliation')).body.data?.find((b: { state: string }) => b.state === 'open'),
      30000,
      'the reconciliation breach',
      500,
    );
    expect(breach).toMatchObject({ slaId: 'billing.reconciliation', kind: 'reconciliation', subject: 'billing.reconcile', target: 0 });
    expect(breach.worstValue).toBeGreaterThanOrEqual(1);
    // Repaired, the breach resolves.
    await db.query('UPDATE event_rollups_quarter SET billable_events = billable_events - 1 WHERE line_item_id = ? AND billable_events > 0 LIMIT 1', [p.lineItemId]);
    await waitFor(async () => (await call('GET', `/v1/invoices/${draft.id}/reconciliation`)).body.state === 'ok', 20000, 'the repaired month to reconcile', 200);
  });

  it('answers an advertiser its own invoices only, and lets only the admin generate, issue, pay and void', async () => {
    const a = await placement('UTC');
    const b = await placement('UTC');
    await usage(a, '2026-07-01T00:00:00Z', 3);
    await usage(b, '2026-07-01T00:00:00Z', 3);
    const [invA] = await generate('2026-07', a.advertiserId);
    const [invB] = await generate('2026-07', b.advertiserId);
    const keyA = (await call('POST', `/v1/advertisers/${a.advertiserId}/api-keys`, { body: {} })).body.key as string;
    expect((await call('GET', `/v1/invoices/${invA.id}`, { key: keyA })).status).toBe(200);
    expect((await call('GET', `/v1/invoices/${invB.id}`, { key: keyA })).status).toBe(404);
    const list = (await call('GET', '/v1/invoices?limit=100', { key: keyA })).body.data as Array<{ advertiserId: string }>;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((i) => i.advertiserId === a.advertiserId)).toBe(true);
    expect((await call('POST', '/v1/invoices/generate', { key: keyA, body: { period: '2026-07' } })).status).toBe(403);
    expect((await call('POST', `/v1/invoices/${invA.id}/issue`, { key: keyA })).status).toBe(403);
  });

  it('pages invoices newest first by cursor or by page number, as every list does', async () => {
    const p = await placement('UTC');
    const drafts: string[] = [];
    for (const period of ['2026-01', '2026-02', '2026-03']) {
      await usage(p, `${period}-10T10:00:00Z`, 2);
      drafts.unshift((await generate(period, p.advertiserId))[0].id as string);
    }
    const list = async (query: string) => {
      const res = await call('GET', `/v1/invoices?advertiserId=${p.advertiserId}&${query}`);
      expect(res.status).toBe(200);
      return { ids: (res.body.data as Array<{ id: string }>).map((i) => i.id), next: res.body.next as string | null };
    };
    expect(await list('limit=2')).toEqual({ ids: drafts.slice(0, 2), next: drafts[1] });
    expect(await list('limit=2&page=1')).toEqual({ ids: drafts.slice(0, 2), next: drafts[1] });
    expect(await list('limit=2&page=2')).toEqual({ ids: drafts.slice(2), next: null });
    // With a cursor, page is ignored.
    expect(await list(`limit=2&page=2&cursor=${drafts[0]}`)).toEqual({ ids: drafts.slice(1), next: null });
    const csv = await call('GET', `/v1/invoices?advertiserId=${p.advertiserId}&limit=2&page=2&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(drafts[2]);
    expect(csv.text).not.toContain(drafts[0]);
    expect((await call('GET', `/v1/invoices?advertiserId=${p.advertiserId}&page=0`)).status).toBe(400);
  });

  it('refuses bad input with a clear 4xx and writes nothing', async () => {
    const p = await placement('UTC');
    await usage(p, '2026-06-10T00:00:00Z', 2);
    const count = async () => Number(((await db.query('SELECT COUNT(*) AS n FROM invoices')) as any)[0][0].n);
    const before = await count();
    for (const period of ['2026-13', '2026-1', '26-01', 'June', '2026-06-01']) {
      const res = await call('POST', '/v1/invoices/generate', { body: { period, advertiserId: p.advertiserId } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('period');
    }
    expect((await call('POST', '/v1/invoices/generate', { body: { period: '2026-06', advertiserId: randomUUID() } })).status).toBe(404);
    expect((await call('POST', '/v1/invoices/generate', { body: { period: '2026-06', advertiserId: 'nope' } })).status).toBe(404);
    expect(await count()).toBe(before);
    const [draft] = await generate('2026-06', p.advertiserId);
    const paid = await call('POST', `/v1/invoices/${draft.id}/pay`);
    expect(paid.status).toBe(409);
    expect(paid.body.message).toContain('issue it first');
    expect((await call('POST', `/v1/invoices/${draft.id}/void`)).status).toBe(409);
    expect((await call('GET', `/v1/invoices/${draft.id}`)).body.status).toBe('draft');
    await call('POST', `/v1/invoices/${draft.id}/issue`);
    await call('POST', `/v1/invoices/${draft.id}/void`);
    const reissue = await call('POST', `/v1/invoices/${draft.id}/issue`);
    expect(reissue.status).toBe(409);
    expect(reissue.body.message).toContain('void');
    expect((await call('GET', '/v1/invoices/not-an-id')).status).toBe(404);
  });

  it('says why a line item or campaign stopped for money: deliveryState', async () => {
    // One impression costs 3,210.987 µ: a 5,000 µ budget pays one, the rest is written off.
    const p = await placement('UTC', { budgetMicros: 5000 });
    expect((await call('GET', `/v1/line-items/${p.lineItemId}`)).body.deliveryState).toBe('not_active');
    await usage(p, new Date().toISOString(), 3);
    expect((await call('GET', `/v1/line-items/${p.lineItemId}`)).body.deliveryState).toBe('budget_spent');
    const page = (await call('GET', `/v1/line-items?campaignId=${p.campaignId}`)).body.data as Array<{ deliveryState: string }>;
    expect(page.map((l) => l.deliveryState)).toEqual(['budget_spent']);
    expect((await call('GET', `/v1/campaigns/${p.campaignId}`)).body.deliveryState).toBe('not_active');
  });

  describe('Idempotency-Key', () => {
    const hashOf = (method: string, path: string, body: unknown) => {
      const canonical = (v: unknown): string =>
        Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : v !== null && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}` : JSON.stringify(v);
      return createHash('sha256').update(`${method} ${path}\n${canonical(body)}`).digest('hex');
    };

    it('replays the first answer for the same key and body, 422 for another body, and keeps nothing of a failed request', async () => {
      const key = `adv-${randomUUID()}`;
      const first = await call('POST', '/v1/advertisers', { body: { name: 'Idem', timezone: 'UTC' }, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const replay = await call('POST', '/v1/advertisers', { body: { timezone: 'UTC', name: 'Idem' }, headers: { 'idempotency-key': key } });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
      const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM advertisers WHERE id = ? OR name = ?', [first.body.id, 'Idem'])) as any;
      expect(Number(n)).toBe(1);
      const other = await call('POST', '/v1/advertisers', { body: { name: 'Other' }, headers: { 'idempotency-key': key } });
      expect(other.status).toBe(422);

      const failing = `fail-${randomUUID()}`;
      expect((await call('POST', '/v1/advertisers', { body: { name: '' }, headers: { 'idempotency-key': failing } })).status).toBe(400);
      expect((await call('POST', '/v1/advertisers', { body: { name: 'Fixed' }, headers: { 'idempotency-key': failing } })).status).toBe(201);
      expect((await call('POST', '/v1/advertisers', { body: { name: 'x' }, headers: { 'idempotency-key': 'k'.repeat(256) } })).status).toBe(400);
    });

    it('answers 409 while the first request with the key is still running, then its answer', async () => {
      const key = `run-${randomUUID()}`;
      const body = { name: 'Running' };
      await db.query("INSERT INTO idempotency_keys (caller, idempotency_key, request_sha256, state, started_at, expires_at) VALUES ('admin', ?, ?, 'running', NOW(3), NOW(3) + INTERVAL 1 DAY)", [
        key,
        hashOf('POST', '/v1/advertisers', body),
      ]);
      const busy = await call('POST', '/v1/advertisers', { body, headers: { 'idempotency-key': key } });
      expect(busy.status).toBe(409);
      expect(busy.body.message).toContain('still running');
      // The first request finishes (its answer stored as the interceptor stores it): the retry gets that answer.
      const first = await call('POST', '/v1/advertisers', { body: { name: 'Running (first)' } });
      await db.query("UPDATE idempotency_keys SET state = 'done', status_code = 201, response_body = ? WHERE idempotency_key = ?", [JSON.stringify(first.body), key]);
      const done = await call('POST', '/v1/advertisers', { body, headers: { 'idempotency-key': key } });
      expect(done.status).toBe(201);
      expect(done.body).toEqual(first.body);
      expect(done.headers.get('idempotent-replayed')).toBe('true');
    });

    it('makes invoice generation and issue replayable, scoped per caller', async () => {
      const p = await placement('UTC');
      await usage(p, '2026-02-05T00:00:00Z', 9);
      const key = `gen-${randomUUID()}`;
      const first = await generate('2026-02', p.advertiserId, stack.baseUrl, { 'idempotency-key': key });
      const replayed = await http('POST', '/v1/invoices/generate', { baseUrl: stack.baseUrl, body: { period: '2026-02', advertiserId: p.advertiserId }, headers: { 'idempotency-key': key } });
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect(replayed.body.data).toEqual(first);
      // The generate key used for another request: 422, and the invoice is not issued.
      expect((await call('POST', `/v1/invoices/${first[0].id}/issue`, { headers: { 'idempotency-key': key } })).status).toBe(422);
      expect((await call('GET', `/v1/invoices/${first[0].id}`)).body.status).toBe('draft');
      const issueKey0 = `issue-${randomUUID()}`;
      const issue = await call('POST', `/v1/invoices/${first[0].id}/issue`, { headers: { 'idempotency-key': issueKey0 } });
      expect(issue.status).toBe(200);
      const issueAgain = await call('POST', `/v1/invoices/${first[0].id}/issue`, { headers: { 'idempotency-key': issueKey0 } });
      expect(issueAgain.status).toBe(200);
      expect(issueAgain.body).toEqual(issue.body);
      const issueKey = `issue-${randomUUID()}`;
      const pay = await call('POST', `/v1/invoices/${first[0].id}/pay`, { headers: { 'idempotency-key': issueKey } });
      const payAgain = await call('POST', `/v1/invoices/${first[0].id}/pay`, { headers: { 'idempotency-key': issueKey } });
      expect(pay.status).toBe(200);
      expect(payAgain.status).toBe(200);
      expect(payAgain.headers.get('idempotent-replayed')).toBe('true');
      expect(payAgain.body).toEqual(pay.body);
      // Another caller's key space: the same key is new for it.
      const keyA = (await call('POST', `/v1/advertisers/${p.advertiserId}/api-keys`, { body: {} })).body.key as string;
      const campaign = await call('POST', '/v1/campaigns', {
        key: keyA,
        body: { advertiserId: p.advertiserId, name: 'C', startAt: new Date(Date.now() + 86_400_000).toISOString(), endAt: new Date(Date.now() + 5 * 86_400_000).toISOString() },
        headers: { 'idempotency-key': issueKey },
      });
      expect(campaign.status).toBe(201);
    });
  });
});
