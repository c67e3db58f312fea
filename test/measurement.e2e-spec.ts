import { Connection } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { approveCreative, createAdvertiser, createApiKey, createCampaign, createCreative, createLineItem } from './support/campaign-fixtures';
import { http } from './support/http';
import {
  BOT_UA,
  BROWSER_UA,
  FULL_LISTEN,
  HOUR_MS,
  Placement,
  StoredEvent,
  beacon,
  codec,
  comparable,
  createPlacementVia,
  decision,
  expectedRow,
  expectedRows,
  floorHour,
  mysql,
  postEvents,
  randomPlacement,
  report,
  waitForAggregation,
} from './support/measurement-fixtures';

describe('measurement: beacons, invalid traffic, aggregation and reports', () => {
  let db: Connection;

  beforeAll(async () => {
    db = await mysql();
  });

  afterAll(async () => {
    await db?.end();
  });

  async function rawRows(decisionId: string) {
    // ENUM order: impression, start, quartiles, complete, click (ids within one batch follow key order, not arrival).
    const [rows] = await db.query('SELECT event_type, status, invalid_reason, occurred_at FROM raw_events WHERE decision_id = ? ORDER BY event_type', [decisionId]);
    return rows as Array<{ event_type: string; status: string; invalid_reason: string | null; occurred_at: Date }>;
  }

  describe('ingestion', () => {
    it('has the accepted event in MySQL before it answers 204', async () => {
      const claims = decision(randomPlacement());
      const res = await beacon('impression', codec.sign(claims));
      expect(res.status).toBe(204);
      expect(res.headers.get('cache-control')).toBe('no-store');
      // Read right after the answer, with no waiting: the row must already be committed.
      expect(await rawRows(claims.decisionId)).toEqual([expect.objectContaining({ event_type: 'impression', status: 'valid', invalid_reason: null })]);
    });

    it('writes concurrent beacons in shared transactions (group commit)', async () => {
      const placement = randomPlacement();
      const decisions = Array.from({ length: 60 }, () => decision(placement));
      const answers = await Promise.all(decisions.map((c) => beacon('impression', codec.sign(c))));
      expect(answers.map((a) => a.status)).toEqual(decisions.map(() => 204));
      const [rows] = (await db.query('SELECT ingest_tag, COUNT(*) AS n FROM raw_events WHERE line_item_id = ? GROUP BY ingest_tag', [placement.lineItemId])) as unknown as [
        Array<{ n: string }>,
      ];
      const sizes = rows.map((r) => Number(r.n));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(60);
      // Fewer transactions than requests: at least one commit carried several beacons.
      expect(Math.max(...sizes)).toBeGreaterThan(1);
    });

    it('counts a replayed or duplicated beacon once and answers duplicate', async () => {
      const claims = decision(randomPlacement());
      const token = codec.sign(claims);
      const concurrent = await Promise.all(Array.from({ length: 8 }, () => beacon('impression', token)));
      expect(concurrent.every((r) => r.status === 204)).toBe(true);
      const batch = await postEvents([
        { event: 'impression', token },
        { event: 'start', token },
        { event: 'start', token },
      ]);
      expect(batch.status).toBe(200);
      expect(batch.body.results).toEqual([{ status: 'duplicate' }, { status: 'accepted' }, { status: 'duplicate' }]);
      const again = await postEvents([{ event: 'start', token }]);
      expect(again.body.results).toEqual([{ status: 'duplicate' }]);
      expect((await rawRows(claims.decisionId)).map((r) => r.event_type)).toEqual(['impression', 'start']);
    });

    it('accepts the offline batch as text/plain JSON (navigator.sendBeacon) and answers in order', async () => {
      const claims = decision(randomPlacement(), { issuedAt: Math.floor(Date.now() / 1000) - 600 });
      const token = codec.sign(claims);
      const t0 = Date.now() - 500_000;
      const events = FULL_LISTEN.map((event, i) => ({ event, token, occurredAt: new Date(t0 + i * 5000).toISOString() }));
      const res = await postEvents([...events, { event: 'click', token, occurredAt: t0 + 40_000 }], { contentType: 'text/plain;charset=UTF-8' });
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual(Array.from({ length: 7 }, () => ({ status: 'accepted' })));
      const rows = await rawRows(claims.decisionId);
      expect(rows.map((r) => r.event_type)).toEqual([...FULL_LISTEN, 'click']);
      // The player's times are kept (offline events land in their own hour).
      expect(rows[0].occurred_at.getTime()).toBe(t0);
      expect(rows[6].occurred_at.getTime()).toBe(t0 + 40_000);
    });

    it('rejects unknown events, missing tokens and batches of the wrong size with 400 naming the field', async () => {
      const token = codec.sign(decision(randomPlacement()));
      const unknown = await beacon('listen', token);
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toMatch(/event: must be one of impression, start/);
      expect((await http('GET', '/t/impression', { key: null })).status).toBe(400);

      const empty = await postEvents([]);
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/events/);
      const tooMany = await postEvents(Array.from({ length: 1001 }, () => ({ event: 'impression', token })));
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.message).toMatch(/events/);
      const badItem = await postEvents([{ event: 'impression', token }, { event: 'listen', token, occurredAt: 'yesterday' }]);
      expect(badItem.status).toBe(400);
      expect(badItem.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['events.1.event', 'events.1.occurredAt']);
      const notJson = await http('POST', '/v1/events', { key: null, body: 'events=1', headers: { 'content-type': 'text/plain' } });
      expect(notJson.status).toBe(400);
      // Nothing of a refused request was stored.
      const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM raw_events WHERE decision_id = ?', [codec.verify(token).claims!.decisionId])) as unknown as [
        Array<{ n: string }>,
      ];
      expect(Number(n)).toBe(0);
    });
  });

  describe('invalid traffic', () => {
    it('keeps beacons with an untrustworthy token, labelled, attributable to nothing', async () => {
      const before = await http('GET', `/v1/reports/rejected?from=${new Date(floorHour(Date.now())).toISOString()}&to=${new Date(floorHour(Date.now()) + 2 * HOUR_MS).toISOString()}`);
      const token = codec.sign(decision(randomPlacement()));
      const tampered = `${token.slice(0, token.indexOf('.') + 1)}${'A'.repeat(43)}`;
      expect((await beacon('click', tampered)).status).toBe(204);
      const res = await postEvents([
        { event: 'impression', token: 'garbage' },
        { event: 'impression', token: tampered },
      ]);
      expect(res.body.results).toEqual([
        { status: 'invalid', reason: 'malformed' },
        { status: 'invalid', reason: 'bad_signature' },
      ]);
      const after = await http('GET', `/v1/reports/rejected?from=${new Date(floorHour(Date.now())).toISOString()}&to=${new Date(floorHour(Date.now()) + 2 * HOUR_MS).toISOString()}`);
      const count = (body: { rows: Array<{ reason: string; event: string; count: number }> }, reason: string, event: string) =>
        body.rows.find((r) => r.reason === reason && r.event === event)?.count ?? 0;
      expect(count(after.body, 'bad_signature', 'click') - count(before.body, 'bad_signature', 'click')).toBe(1);
      expect(count(after.body, 'bad_signature', 'impression') - count(before.body, 'bad_signature', 'impression')).toBe(1);
      expect(count(after.body, 'malformed', 'impression') - count(before.body, 'malformed', 'impression')).toBe(1);
      expect((await http('GET', '/v1/reports/rejected?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', { key: 'adp_not-admin' })).status).toBe(401);
    });

    it('labels expired tokens, bots, impossible sequences and abnormal rates, and stores them', async () => {
      const placement = randomPlacement();
      const expired = decision(placement, { issuedAt: Math.floor(Date.now() / 1000) - 3 * 86400 });
      const bot = decision(placement);
      const noImpression = decision(placement);
      const noStart = decision(placement);
      const results = await Promise.all([
        postEvents([{ event: 'impression', token: codec.sign(expired) }]),
        postEvents([{ event: 'impression', token: codec.sign(bot) }], { userAgent: BOT_UA }),
        postEvents([
          { event: 'firstQuartile', token: codec.sign(noImpression) },
          { event: 'click', token: codec.sign(noImpression) },
        ]),
        postEvents([
          { event: 'impression', token: codec.sign(noStart) },
          { event: 'complete', token: codec.sign(noStart) },
        ]),
      ]);
      expect(results.map((r) => r.body.results)).toEqual([
        [{ status: 'invalid', reason: 'expired' }],
        [{ status: 'invalid', reason: 'bot' }],
        [
          { status: 'invalid', reason: 'no_prior_impression' },
          { status: 'invalid', reason: 'no_prior_impression' },
        ],
        [{ status: 'accepted' }, { status: 'invalid', reason: 'complete_before_start' }],
      ]);
      // A later start does not make the earlier complete valid: it stays labelled.
      expect((await beacon('start', codec.sign(noStart))).status).toBe(204);
      expect(await rawRows(noStart.decisionId)).toEqual([
        expect.objectContaining({ event_type: 'impression', status: 'valid' }),
        expect.objectContaining({ event_type: 'start', status: 'valid' }),
        expect.objectContaining({ event_type: 'complete', status: 'invalid', invalid_reason: 'complete_before_start' }),
      ]);
      expect(await rawRows(bot.decisionId)).toEqual([expect.objectContaining({ status: 'invalid', invalid_reason: 'bot' })]);
      // An impression a bot produced proves nothing: its quartile is an impossible sequence as well.
      expect((await postEvents([{ event: 'midpoint', token: codec.sign(bot) }])).body.results).toEqual([{ status: 'invalid', reason: 'no_prior_impression' }]);

      // A quartile checked against an impression stored earlier (in MySQL, not in the batch) is fine.
      const later = await postEvents([{ event: 'start', token: codec.sign(noStart) }, { event: 'midpoint', token: codec.sign(noStart) }]);
      expect(later.body.results).toEqual([{ status: 'duplicate' }, { status: 'accepted' }]);
    });

    it('flags a listener producing more than 120 impressions in one minute', async () => {
      const placement = randomPlacement();
      const userId = `fast-${randomUUID()}`;
      const minute = Math.floor((Date.now() - 120_000) / 60_000) * 60_000;
      const events = Array.from({ length: 123 }, (_, i) => ({
        event: 'impression',
        token: codec.sign(decision(placement, { userId, issuedAt: Math.floor(minute / 1000) - 10 })),
        occurredAt: minute + i * 400,
      }));
      const first = await postEvents(events.slice(0, 100));
      const second = await postEvents(events.slice(100));
      const statuses = [...first.body.results, ...second.body.results];
      expect(statuses.slice(0, 120)).toEqual(Array.from({ length: 120 }, () => ({ status: 'accepted' })));
      expect(statuses.slice(120)).toEqual(Array.from({ length: 3 }, () => ({ status: 'invalid', reason: 'rate_limit' })));
      const [[{ n }]] = (await db.query("SELECT COUNT(*) AS n FROM raw_events WHERE user_id = ? AND status = 'invalid' AND invalid_reason = 'rate_limit'", [userId])) as unknown as [
        Array<{ n: string }>,
      ];
      expect(Number(n)).toBe(3);
      // Another minute starts afresh.
      const nextMinute = await postEvents([{ event: 'impression', token: codec.sign(decision(placement, { userId, issuedAt: Math.floor(minute / 1000) })), occurredAt: minute + 60_000 }]);
      expect(nextMinute.body.results).toEqual([{ status: 'accepted' }]);
    });
  });

  describe('reports', () => {
    let advertiserId: string;
    let campaignId: string;
    let cpm: Placement;
    let cpc: Placement;
    let secondCreativeId: string;
    let stored: StoredEvent[];
    let from: string;
    let to: string;

    /**
     * Sends one decision's events as a player's offline batch and records them with the verdict the
     * test expects (every event accepted unless `invalid` gives its reason): the ground truth comes
     * from the test, and the API's answers must agree with it.
     */
    async function listen(placement: Placement, events: string[], start: number, over: Parameters<typeof decision>[1] = {}, invalid?: string) {
      const claims = decision(placement, { issuedAt: Math.floor(start / 1000) - 5, ...over });
      const token = codec.sign(claims);
      const res = await postEvents(events.map((event, i) => ({ event, token, occurredAt: start + i * 7000 })));
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual(events.map(() => (invalid ? { status: 'invalid', reason: invalid } : { status: 'accepted' })));
      events.forEach((event, i) => stored.push({ claims, event: event as StoredEvent['event'], occurredAt: start + i * 7000, valid: !invalid, reason: invalid }));
      return claims;
    }

    beforeAll(async () => {
      const advertiser = await createAdvertiser();
      advertiserId = advertiser.id;
      const campaign = await createCampaign(advertiserId);
      campaignId = campaign.id;
      const creative = await createCreative(advertiserId);
      const second = await createCreative(advertiserId, { clickThroughUrl: 'https://example.com/second' });
      await approveCreative(creative.id);
      await approveCreative(second.id);
      secondCreativeId = second.id;
      const cpmItem = await createLineItem(campaignId, { pricingModel: 'CPM', rateMicros: 2_345_678, creativeIds: [creative.id, second.id] });
      const cpcItem = await createLineItem(campaignId, { pricingModel: 'CPC', rateMicros: 150_000, creativeIds: [creative.id] });
      cpm = { advertiserId, campaignId, lineItemId: cpmItem.id, creativeId: creative.id, pricingModel: 'CPM', rateMicros: 2_345_678 };
      cpc = { advertiserId, campaignId, lineItemId: cpcItem.id, creativeId: creative.id, pricingModel: 'CPC', rateMicros: 150_000 };
      stored = [];

      const now = Date.now();
      const h0 = floorHour(now) - 2 * HOUR_MS;
      from = new Date(h0).toISOString();
      to = new Date(floorHour(now) + HOUR_MS).toISOString();
      const users = ['ana', 'ben', 'cai', 'dee'].map((u) => `${u}-${randomUUID().slice(0, 6)}`);
      // Two hours ago (late, offline), an hour ago and just now; two countries, two platforms, two creatives.
      await listen(cpm, FULL_LISTEN, h0 + 60_000, { userId: users[0] });
      await listen(cpm, [...FULL_LISTEN, 'click'], h0 + 120_000, { userId: users[1], country: 'DE', platform: 'android' });
      await listen(cpm, ['impression', 'start', 'firstQuartile'], h0 + HOUR_MS + 60_000, { userId: users[0], creativeId: secondCreativeId });
      await listen(cpm, ['impression', 'start'], h0 + HOUR_MS + 90_000, { userId: users[2], platform: 'web' });
      await listen(cpm, ['impression'], now - 90_000, { userId: users[0] });
      await listen(cpc, ['impression', 'click'], h0 + 30_000, { userId: users[3], country: 'DE' });
      await listen(cpc, ['impression', 'start', 'click'], now - 60_000, { userId: users[1] });
      await listen(cpc, ['impression', 'click'], now - 50_000, { userId: users[2] });
      // Invalid traffic: reported apart, never billed.
      await listen(cpm, ['impression', 'click'], now - 40_000, { userId: users[3], issuedAt: Math.floor(now / 1000) - 3 * 86400 }, 'expired');
      await listen(cpc, ['click'], now - 30_000, { userId: users[0] }, 'no_prior_impression');
      const botClaims = decision(cpm, { userId: users[2] });
      const bot = await postEvents([{ event: 'impression', token: codec.sign(botClaims), occurredAt: now - 20_000 }], { userAgent: BOT_UA });
      expect(bot.body.results).toEqual([{ status: 'invalid', reason: 'bot' }]);
      stored.push({ claims: botClaims, event: 'impression', occurredAt: now - 20_000, valid: false, reason: 'bot' });
      // Replays change nothing.
      const replay = stored.find((e) => e.event === 'click' && e.valid)!;
      expect((await postEvents([{ event: 'click', token: codec.sign(replay.claims) }])).body.results).toEqual([{ status: 'duplicate' }]);

      expect(stored.filter((e) => !e.valid).map((e) => e.reason).sort()).toEqual(['bot', 'expired', 'expired', 'no_prior_impression']);
      await waitForAggregation(db);
    });

    it('totals a campaign exactly: counts, reach, frequency, spend and invalid traffic', async () => {
      const res = await report({ campaignId, from, to });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ scope: { campaignId }, granularity: 'total', breakdown: [], timezone: 'UTC', currency: 'USD', reachMethod: 'exact' });
      expect(comparable(res.body.rows)).toEqual([expectedRow(stored)]);
      const truth = expectedRow(stored);
      // Sanity of the ground truth itself: 5 CPM impressions at 2.345678 per mille, 3 valid CPC clicks at 0.15 (the 4th click is CPM).
      expect(truth).toMatchObject({ impressions: 8, clicks: 4, reach: 4, spendMicros: Math.floor((5 * 2_345_678 + 3 * 150_000 * 1000) / 1000) });
      expect(res.body.rows[0].invalidByReason).toEqual({ expired: 2, bot: 1, sequence: 1, rateLimit: 0 });
    });

    it('splits by hour and day and by country, platform and creative, each row exact', async () => {
      for (const granularity of ['hour', 'day', 'total'] as const) {
        for (const breakdown of [[], ['country'], ['platform', 'creative'], ['country', 'platform', 'creative']] as Array<Array<'country' | 'platform' | 'creative'>>) {
          const res = await report({ campaignId, from, to, granularity, ...(breakdown.length ? { breakdown: breakdown.join(',') } : {}) });
          expect(res.status).toBe(200);
          expect({ granularity, breakdown, rows: comparable(res.body.rows) }).toEqual({ granularity, breakdown, rows: expectedRows(stored, granularity, breakdown) });
        }
      }
    });

    it('answers the same from the daily rollups when the range is whole days', async () => {
      const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const days = { from: new Date(midnight - 86_400_000).toISOString(), to: new Date(midnight + 86_400_000).toISOString() };
      for (const granularity of ['day', 'total'] as const) {
        for (const breakdown of [[], ['creative', 'country']] as Array<Array<'country' | 'platform' | 'creative'>>) {
          const res = await report({ campaignId, ...days, granularity, ...(breakdown.length ? { breakdown: breakdown.join(',') } : {}) });
          expect({ granularity, breakdown, rows: comparable(res.body.rows) }).toEqual({ granularity, breakdown, rows: expectedRows(stored, granularity, breakdown) });
        }
      }
      const li = await report({ lineItemId: cpc.lineItemId, ...days, granularity: 'day' });
      expect(comparable(li.body.rows)).toEqual(expectedRows(stored.filter((e) => e.claims.lineItemId === cpc.lineItemId), 'day'));
      const adv = await report({ advertiserId, ...days });
      expect(comparable(adv.body.rows)).toEqual([expectedRow(stored)]);
    });

    it('reports a line item and an advertiser over any sub-range (late events in their own hour)', async () => {
      const firstHourOnly = { from, to: new Date(new Date(from).getTime() + HOUR_MS).toISOString() };
      const inFirstHour = (e: StoredEvent) => e.occurredAt < new Date(firstHourOnly.to).getTime();
      const li = await report({ lineItemId: cpm.lineItemId, ...firstHourOnly });
      expect(comparable(li.body.rows)).toEqual([expectedRow(stored.filter((e) => e.claims.lineItemId === cpm.lineItemId && inFirstHour(e)))]);
      const adv = await report({ advertiserId, from, to, granularity: 'day' });
      expect(comparable(adv.body.rows)).toEqual(expectedRows(stored, 'day'));
      const later = await report({ campaignId, from: new Date(Date.now() + 2 * HOUR_MS - (Date.now() % HOUR_MS)).toISOString(), to: new Date(Date.now() + 5 * HOUR_MS - (Date.now() % HOUR_MS)).toISOString() });
      expect(later.body.rows).toEqual([expect.objectContaining({ impressions: 0, reach: 0, spendMicros: 0, ctr: 0, frequency: 0 })]);
    });

    it("counts a decision's events on the UTC day they were played, not the day it was issued", async () => {
      // Offline listening across UTC midnight: two decisions issued yesterday at 23:00, one played at
      // 23:30 and one after midnight, in one batch (one aggregation range). The daily rollups once
      // grouped both on the decision's day (raw_events.event_day shadowed the day's alias).
      const placement = await createPlacementVia(process.env.E2E_BASE_URL!, { frequencyCaps: [] });
      const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const issuedAt = Math.floor((midnight - HOUR_MS) / 1000);
      const before = decision(placement, { issuedAt, userId: `night-${randomUUID().slice(0, 6)}` });
      const after = decision(placement, { issuedAt, userId: `night-${randomUUID().slice(0, 6)}` });
      const played = [midnight - HOUR_MS / 2, Math.min(midnight + 60_000, Date.now() - 1000)];
      const res = await postEvents([
        { event: 'impression', token: codec.sign(before), occurredAt: played[0] },
        { event: 'impression', token: codec.sign(after), occurredAt: played[1] },
      ]);
      expect(res.body.results).toEqual([{ status: 'accepted' }, { status: 'accepted' }]);
      await waitForAggregation(db);
      const days = { lineItemId: placement.lineItemId, from: new Date(midnight - 86_400_000).toISOString(), to: new Date(midnight + 86_400_000).toISOString() };
      const daily = await report({ ...days, granularity: 'day' });
      expect(daily.body.rows.map((r: { period: string; impressions: number }) => [r.period, r.impressions])).toEqual([
        [new Date(midnight - 86_400_000).toISOString().slice(0, 10), 1],
        [new Date(midnight).toISOString().slice(0, 10), 1],
      ]);
      // The whole of yesterday holds its one impression (from the daily rollups), as the sum of its hours does.
      const yesterday = { lineItemId: placement.lineItemId, from: days.from, to: new Date(midnight).toISOString() };
      expect((await report(yesterday)).body.rows[0].impressions).toBe(1);
      expect((await report({ ...yesterday, granularity: 'hour' })).body.rows.reduce((n: number, r: { impressions: number }) => n + r.impressions, 0)).toBe(1);
    });

    it('answers CSV with a header row for format=csv and for Accept: text/csv', async () => {
      const json = await report({ campaignId, from, to, granularity: 'hour', breakdown: 'country' });
      const csv = await report({ campaignId, from, to, granularity: 'hour', breakdown: 'country', format: 'csv' });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = csv.text.trim().split('\r\n');
      const header = lines[0].split(',');
      expect(header.slice(0, 4)).toEqual(['period', 'country', 'impressions', 'starts']);
      expect(header).toContain('spendMicros');
      expect(lines).toHaveLength(json.body.rows.length + 1);
      lines.slice(1).forEach((line, i) => {
        const cells = line.split(',');
        const row = json.body.rows[i];
        expect(cells[0]).toBe(row.period);
        expect(cells[1]).toBe(row.country);
        expect(Number(cells[header.indexOf('impressions')])).toBe(row.impressions);
        expect(Number(cells[header.indexOf('reach')])).toBe(row.reach);
        expect(Number(cells[header.indexOf('spendMicros')])).toBe(row.spendMicros);
      });
      const viaAccept = await report({ campaignId, from, to, granularity: 'hour', breakdown: 'country' }, { headers: { accept: 'text/csv' } });
      expect(viaAccept.text).toBe(csv.text);
    });

    it('lets an advertiser see only its own reports (404 otherwise) and validates parameters', async () => {
      const key = await createApiKey(advertiserId);
      expect((await report({ campaignId, from, to }, { key })).status).toBe(200);
      const other = await createAdvertiser();
      const otherKey = await createApiKey(other.id);
      for (const query of [{ campaignId }, { lineItemId: cpm.lineItemId }, { advertiserId }] as Array<Record<string, string>>) {
        const res = await report({ ...query, from, to }, { key: otherKey });
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
      expect((await report({ campaignId: randomUUID(), from, to })).status).toBe(404);
      expect((await report({ campaignId: 'not-a-uuid', from, to })).status).toBe(404);
      expect((await report({ campaignId, from, to }, { key: null })).status).toBe(401);

      const none = await report({ from, to });
      expect(none.status).toBe(400);
      expect(none.body.message).toMatch(/exactly one of advertiserId, campaignId, lineItemId/);
      expect((await report({ campaignId, lineItemId: cpm.lineItemId, from, to })).status).toBe(400);
      const bad = [
        [{ campaignId, from: 'last tuesday', to }, 'from'],
        [{ campaignId, from, to: from }, 'to'],
        [{ campaignId, from, to, granularity: 'week' }, 'granularity'],
        [{ campaignId, from, to, breakdown: 'country,city' }, 'breakdown'],
        [{ campaignId, from: '2026-11-01T00:00:00Z', to: '2020-01-01' }, 'to'],
      ] as const;
      for (const [query, field] of bad) {
        const res = await report(query as Record<string, string>);
        expect({ field, status: res.status }).toEqual({ field, status: 400 });
        expect(res.body.message).toContain(field);
      }

      // Rollups are hourly: a range widens to whole hours, and a missing one means the last 30 days.
      const explicit = await report({ campaignId, from, to });
      const rounded = await report({ campaignId, from: new Date(Date.parse(from) + 30 * 60_000).toISOString(), to });
      expect(rounded.status).toBe(200);
      expect(rounded.body.from).toBe(new Date(from).toISOString());
      const defaults = await report({ campaignId });
      expect(defaults.status).toBe(200);
      expect(Date.parse(defaults.body.to) - Date.parse(defaults.body.from)).toBe(30 * 24 * 3600_000);
      if (Date.parse(from) >= Date.parse(defaults.body.from)) expect(defaults.body.rows).toEqual(explicit.body.rows);
    });

    it('redirects a click to the creative\'s own click-through URL, never to one from the request', async () => {
      const claims = decision({ ...cpc, creativeId: secondCreativeId });
      const token = codec.sign(claims);
      expect((await beacon('impression', token)).status).toBe(204);
      const headers = { 'user-agent': BROWSER_UA };
      const click = await http('GET', `/t/click?d=${encodeURIComponent(token)}&url=https%3A%2F%2Fevil.example.com`, { key: null, headers });
      expect(click.status).toBe(302);
      expect(click.headers.get('location')).toBe('https://example.com/second');
      // The redirect of a replayed click is the same, and the click still counts once.
      const replay = await http('GET', `/t/click?d=${encodeURIComponent(token)}`, { key: null, headers });
      expect(replay.status).toBe(302);
      expect((await rawRows(claims.decisionId)).map((r) => `${r.event_type}:${r.status}`)).toEqual(['impression:valid', 'click:valid']);
      // HEAD (link checkers, prefetchers) gets the same answers and records nothing.
      const fresh = decision({ ...cpc, creativeId: secondCreativeId });
      const freshToken = encodeURIComponent(codec.sign(fresh));
      const headClick = await http('HEAD', `/t/click?d=${freshToken}`, { key: null, headers });
      expect(headClick.status).toBe(302);
      expect(headClick.headers.get('location')).toBe('https://example.com/second');
      expect((await http('HEAD', `/t/impression?d=${freshToken}`, { key: null, headers })).status).toBe(204);
      expect(await rawRows(fresh.decisionId)).toEqual([]);
      // An unknown creative has nowhere to go: the click is stored and answered 204.
      const unknown = decision(randomPlacement());
      expect((await beacon('click', codec.sign(unknown))).status).toBe(204);
      expect(await rawRows(unknown.decisionId)).toEqual([expect.objectContaining({ event_type: 'click', invalid_reason: 'no_prior_impression' })]);
    });
  });

  it('exposes event, batch-size and aggregation-lag metrics', async () => {
    await beacon('impression', codec.sign(decision(randomPlacement())));
    const metrics = await http('GET', '/metrics');
    expect(metrics.text).toMatch(/measurement_events_total\{event="impression",status="accepted",reason=""\} \d+/);
    expect(metrics.text).toMatch(/measurement_events_total\{event="impression",status="invalid",reason="bot"\} \d+/);
    expect(metrics.text).toMatch(/measurement_ingest_batch_size_count \d+/);
    expect(metrics.text).toMatch(/measurement_aggregation_lag_seconds \d/);
  });
});
