import { http, HttpResult } from './support/http';
import { waitFor } from './support/processes';
import { ADMIN_KEY } from './support/stack';
import { validateVast } from './support/vast-schema';

/**
 * The API contract of DESIGN.md, exercised strictly as an outside client would: plain fetch with its
 * default headers (no browser User-Agent), only public endpoints, no database or Redis access. The
 * database is shared with other suites, so every test uses its own country (targeted, and never used
 * by another suite) and its own keyword, and asserts on its own resources.
 */
const run = Math.random().toString(36).slice(2, 8);
let seq = 0;
const unique = (prefix: string) => `${prefix}-${run}-${++seq}`;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

type Json = Record<string, any>;

function ok<T = any>(res: HttpResult<T>, status: number): T {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text}`);
  return res.body;
}

function expectError(res: HttpResult, status: number, field?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String) });
  expect(res.text).not.toMatch(/\bat .+\.(js|ts):\d+/);
  if (field) expect(res.body.message).toContain(field);
}

/** A fetch exactly as a player or a test harness does it: default headers, no key. */
async function fire(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init });
}

interface Setup {
  advertiser: Json;
  campaign: Json;
  creative: Json;
  lineItem: Json;
  country: string;
  keyword: string;
}

/** Advertiser, campaign, approved creative and an active line item, all through the public API. */
async function serving(country: string, lineItem: Json = {}, creative: Json = {}): Promise<Setup> {
  const keyword = unique('kw');
  const advertiser = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Contract advertiser') } }), 201);
  const campaign = ok(await http('POST', '/v1/campaigns', { body: { advertiserId: advertiser.id, name: 'Contract campaign', startAt: inDays(-1), endAt: inDays(30), budgetMicros: 1_000_000_000 } }), 201);
  const cr = ok(
    await http('POST', '/v1/creatives', {
      body: { advertiserId: advertiser.id, name: 'Spot', format: 'audio', mediaUrl: `https://cdn.example.com/${keyword}.mp3`, mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: `https://brand.example.com/${keyword}`, ...creative },
    }),
    201,
  );
  ok(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'approved' } }), 200);
  const li = ok(
    await http('POST', '/v1/line-items', {
      body: {
        campaignId: campaign.id,
        name: 'Contract line item',
        pricingModel: 'CPM',
        rateMicros: 10_000_000,
        budgetMicros: 100_000_000,
        pacing: 'ASAP',
        priority: 1,
        frequencyCaps: [],
        targeting: { countries: [country], keywords: { all: [keyword] } },
        creativeIds: [cr.id],
        ...lineItem,
      },
    }),
    201,
  );
  ok(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);
  const active = ok(await http('POST', `/v1/line-items/${li.id}/activate`), 200);
  return { advertiser, campaign, creative: cr, lineItem: active, country, keyword };
}

function request(s: Pick<Setup, 'country' | 'keyword'>, overrides: Json = {}): Json {
  return {
    placement: 'between-songs',
    user: { id: unique('listener') },
    device: { platform: 'ios' },
    geo: { country: s.country },
    context: { keywords: [s.keyword] },
    ...overrides,
  };
}

async function decide(body: Json, query = ''): Promise<Json> {
  return ok(await http('POST', `/v1/decisions${query}`, { body, key: null }), 200);
}

async function servedTo(s: Setup, body: Json): Promise<Json | undefined> {
  return (await decide(body)).decisions.find((d: Json) => d.lineItemId === s.lineItem.id);
}

/** New line items reach the decision path through the eligibility index: wait until one serves. */
async function firstServe(s: Setup, body: Json = request(s)): Promise<Json> {
  return waitFor(() => servedTo(s, { ...body, user: { id: unique('warmup') } }), 5000, 'the new line item to serve');
}

async function report(query: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http('GET', `/v1/reports?${new URLSearchParams(query)}`, { headers });
}

async function totals(campaignId: string): Promise<Json | undefined> {
  return ok(await report({ campaignId, granularity: 'total' }), 200).rows[0];
}

const ROW_FIELDS = ['impressions', 'starts', 'firstQuartiles', 'midpoints', 'thirdQuartiles', 'completes', 'clicks', 'ctr', 'completionRate', 'reach', 'frequency', 'spendMicros', 'invalidImpressions', 'invalidClicks'];

describe('API contract (black box)', () => {
  describe('advertisers and API keys', () => {
    it('creates with defaults, lists newest first with a cursor, gets and patches', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Adv A') } }), 201);
      expect(a).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), currency: 'USD', timezone: 'UTC' });
      const b = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Adv B'), currency: 'EUR', timezone: 'Europe/Paris' } }), 201);
      expect(b).toMatchObject({ currency: 'EUR', timezone: 'Europe/Paris' });

      // Other suites create advertisers on the same stack at the same time: check order and paging
      // relative to this test's own two rows, not absolute positions.
      const ids = (page: { data: Array<{ id: string }> }) => page.data.map((x) => x.id);
      const newest = ok(await http('GET', '/v1/advertisers?limit=100'), 200);
      expect(ids(newest).indexOf(b.id)).toBeGreaterThanOrEqual(0);
      expect(ids(newest).indexOf(b.id)).toBeLessThan(ids(newest).indexOf(a.id));
      const one = ok(await http('GET', '/v1/advertisers?limit=1'), 200);
      expect(one.data).toHaveLength(1);
      expect(typeof one.next).toBe('string');
      const afterB = ok(await http('GET', `/v1/advertisers?limit=100&cursor=${encodeURIComponent(b.id)}`), 200);
      expect(ids(afterB)).toContain(a.id);
      expect(ids(afterB)).not.toContain(b.id);
      expect('next' in afterB).toBe(true);

      expect(ok(await http('GET', `/v1/advertisers/${a.id}`), 200)).toMatchObject({ id: a.id, name: a.name });
      const patched = ok(await http('PATCH', `/v1/advertisers/${a.id}`, { body: { name: 'Renamed' } }), 200);
      expect(patched).toMatchObject({ id: a.id, name: 'Renamed', currency: 'USD' });
      expect(ok(await http('GET', `/v1/advertisers/${a.id}`), 200).name).toBe('Renamed');
    });

    it('issues a key shown once, scopes it to its advertiser, and revokes it (401 after)', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Keyed') } }), 201);
      const other = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Other') } }), 201);
      const created = ok(await http('POST', `/v1/advertisers/${a.id}/api-keys`, { body: { name: 'dashboard' } }), 201);
      expect(created).toMatchObject({ id: expect.any(String), key: expect.any(String) });
      // {name?}: the body may be omitted entirely.
      const bare = await http('POST', `/v1/advertisers/${a.id}/api-keys`);
      expect(bare.status).toBe(201);
      expect(bare.body.key).toEqual(expect.any(String));
      const listed = ok(await http('GET', `/v1/advertisers/${a.id}/api-keys`), 200);
      expect(listed.data.map((k: Json) => k.id)).toEqual(expect.arrayContaining([created.id, bare.body.id]));
      expect(JSON.stringify(listed)).not.toContain(created.key);

      const key = created.key as string;
      expect(ok(await http('GET', `/v1/advertisers/${a.id}`, { key }), 200).id).toBe(a.id);
      expectError(await http('GET', `/v1/advertisers/${other.id}`, { key }), 404);
      const mine = ok(await http('GET', '/v1/advertisers', { key }), 200);
      expect(mine.data.map((x: Json) => x.id)).toEqual([a.id]);
      expectError(await http('POST', '/v1/advertisers', { key, body: { name: 'nope' } }), 403);

      expect([200, 204]).toContain((await http('DELETE', `/v1/api-keys/${created.id}`)).status);
      expectError(await http('GET', `/v1/advertisers/${a.id}`, { key }), 401);
    });
  });

  describe('campaigns, creatives and line items', () => {
    it('campaigns start in draft, filter by advertiser and status, and change status as checked', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Camp') } }), 201);
      const c1 = ok(await http('POST', '/v1/campaigns', { body: { advertiserId: a.id, name: 'One', startAt: inDays(-1), endAt: inDays(10) } }), 201);
      const c2 = ok(await http('POST', '/v1/campaigns', { body: { advertiserId: a.id, name: 'Two', startAt: inDays(-1), endAt: inDays(10), budgetMicros: 5_000_000 } }), 201);
      expect(c1).toMatchObject({ status: 'draft', advertiserId: a.id });
      expect(c2.budgetMicros).toBe(5_000_000);
      const all = ok(await http('GET', `/v1/campaigns?advertiserId=${a.id}`), 200);
      expect(all.data.map((c: Json) => c.id)).toEqual([c2.id, c1.id]);

      ok(await http('POST', `/v1/campaigns/${c1.id}/activate`), 200);
      expect(ok(await http('GET', `/v1/campaigns/${c1.id}`), 200).status).toBe('active');
      expect(ok(await http('GET', `/v1/campaigns?advertiserId=${a.id}&status=active`), 200).data.map((c: Json) => c.id)).toEqual([c1.id]);
      expect(ok(await http('POST', `/v1/campaigns/${c1.id}/pause`), 200).status).toBe('paused');
      expect(ok(await http('POST', `/v1/campaigns/${c1.id}/archive`), 200).status).toBe('archived');
      expectError(await http('POST', `/v1/campaigns/${c1.id}/activate`), 409);
      expectError(await http('POST', `/v1/campaigns/${c2.id}/pause`), 409);
      expect(ok(await http('PATCH', `/v1/campaigns/${c2.id}`, { body: { name: 'Two renamed' } }), 200).name).toBe('Two renamed');
    });

    it('creatives start pending_review; only an admin reviews; a new media URL goes back to review', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Creative') } }), 201);
      const key = ok(await http('POST', `/v1/advertisers/${a.id}/api-keys`, { body: {} }), 201).key;
      const body = { advertiserId: a.id, name: 'Spot', format: 'audio', mediaUrl: 'https://cdn.example.com/a.mp3', mimeType: 'audio/mpeg', durationSeconds: 15, clickThroughUrl: 'https://brand.example.com', companionImageUrl: 'https://cdn.example.com/a.png' };
      const cr = ok(await http('POST', '/v1/creatives', { body, key }), 201);
      expect(cr).toMatchObject({ ...body, status: 'pending_review' });
      expectError(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'approved' }, key }), 403);
      expect(ok(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'approved', note: 'fine' } }), 200).status).toBe('approved');
      expect(ok(await http('PATCH', `/v1/creatives/${cr.id}`, { body: { name: 'Renamed' }, key }), 200).status).toBe('approved');
      expect(ok(await http('PATCH', `/v1/creatives/${cr.id}`, { body: { mediaUrl: 'https://cdn.example.com/b.mp3' }, key }), 200).status).toBe('pending_review');
      ok(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'approved' } }), 200);
      expect(ok(await http('PATCH', `/v1/creatives/${cr.id}`, { body: { clickThroughUrl: 'https://brand.example.com/new' }, key }), 200).status).toBe('pending_review');
      expect(ok(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'rejected', note: 'loud' } }), 200).status).toBe('rejected');
      expect(ok(await http('GET', `/v1/creatives?advertiserId=${a.id}`, { key }), 200).data.map((c: Json) => c.id)).toEqual([cr.id]);
    });

    it('line items take every field of the contract, default their flight to the campaign, activate and pause', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Line') } }), 201);
      const campaign = ok(await http('POST', '/v1/campaigns', { body: { advertiserId: a.id, name: 'C', startAt: inDays(-1), endAt: inDays(20) } }), 201);
      const cr = ok(await http('POST', '/v1/creatives', { body: { advertiserId: a.id, name: 'S', format: 'audio', mediaUrl: 'https://cdn.example.com/x.mp3', mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://brand.example.com' } }), 201);
      const targeting = {
        countries: ['US'],
        regions: ['CA'],
        platforms: ['ios', 'android', 'desktop', 'web', 'speaker', 'tv', 'car'],
        ageRanges: ['18-24', '25-34'],
        genders: ['female'],
        genres: ['rock'],
        keywords: { any: ['running'], all: ['summer'], none: ['news'] },
        dayparts: [{ days: [0, 1, 2, 3, 4, 5, 6], startHour: 6, endHour: 22 }],
      };
      const full = {
        campaignId: campaign.id,
        name: 'Full',
        pricingModel: 'CPM',
        rateMicros: 2_500_000,
        budgetMicros: 10_000_000,
        dailyBudgetMicros: 1_000_000,
        pacing: 'EVEN',
        priority: 4,
        startAt: inDays(1),
        endAt: inDays(5),
        frequencyCaps: [{ maxImpressions: 3, periodSeconds: 86_400 }],
        targeting,
        creativeIds: [cr.id],
      };
      const li = ok(await http('POST', '/v1/line-items', { body: full }), 201);
      expect(li).toMatchObject({ ...full, startAt: new Date(full.startAt).toISOString(), endAt: new Date(full.endAt).toISOString(), status: 'draft' });
      for (const model of ['CPC', 'CPCL']) ok(await http('POST', '/v1/line-items', { body: { ...full, pricingModel: model } }), 201);

      const { startAt: _s, endAt: _e, ...noFlight } = full;
      const dflt = ok(await http('POST', '/v1/line-items', { body: noFlight }), 201);
      expect(dflt.startAt).toBe(campaign.startAt);
      expect(dflt.endAt).toBe(campaign.endAt);
      expect(ok(await http('GET', `/v1/line-items/${dflt.id}`), 200)).toMatchObject({ startAt: campaign.startAt, endAt: campaign.endAt });

      for (const priority of [0, 17]) expectError(await http('POST', '/v1/line-items', { body: { ...full, priority } }), 400, 'priority');
      expectError(await http('POST', '/v1/line-items', { body: { ...full, pricingModel: 'CPA' } }), 400, 'pricingModel');
      expectError(await http('POST', '/v1/line-items', { body: { ...full, targeting: { platforms: ['fridge'] } } }), 400, 'platforms');

      ok(await http('POST', `/v1/creatives/${cr.id}/review`, { body: { decision: 'approved' } }), 200);
      ok(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);
      expect(ok(await http('POST', `/v1/line-items/${dflt.id}/activate`), 200).status).toBe('active');
      expect(ok(await http('POST', `/v1/line-items/${dflt.id}/pause`), 200).status).toBe('paused');
      expect(ok(await http('PATCH', `/v1/line-items/${dflt.id}`, { body: { priority: 16 } }), 200).priority).toBe(16);
      expect(ok(await http('GET', `/v1/line-items?campaignId=${campaign.id}&status=paused`), 200).data.map((l: Json) => l.id)).toEqual([dflt.id]);
    });
  });

  describe('decisions', () => {
    it('answers with exactly the contract fields, with and without optional request fields', async () => {
      const s = await serving('TV');
      await firstServe(s);
      const full = request(s, {
        slots: 1,
        user: { id: unique('u'), age: 30, gender: 'female' },
        device: { platform: 'ios', userAgent: 'Podcasts/1.0', ip: '203.0.113.9' },
        geo: { country: 'TV', region: 'FUN' },
        context: { genre: 'rock', keywords: [s.keyword] },
        format: 'audio',
      });
      const res = await decide(full);
      expect(res.requestId).toEqual(expect.any(String));
      const d = res.decisions.find((x: Json) => x.lineItemId === s.lineItem.id);
      expect(d).toEqual(
        expect.objectContaining({
          decisionId: expect.any(String),
          campaignId: s.campaign.id,
          lineItemId: s.lineItem.id,
          creativeId: s.creative.id,
          format: 'audio',
          mediaUrl: s.creative.mediaUrl,
          mimeType: 'audio/mpeg',
          durationSeconds: 30,
          clickUrl: expect.stringMatching(/^https?:\/\//),
        }),
      );
      for (const event of ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click']) expect(d.tracking[event]).toMatch(/^https?:\/\/.+\/t\//);

      const minimal = { placement: 'p', user: { id: unique('u') }, device: { platform: 'ios' }, geo: { country: 'TV' }, context: { keywords: [s.keyword] } };
      expect((await decide(minimal)).decisions.map((x: Json) => x.lineItemId)).toContain(s.lineItem.id);
      // context is a bag of optional fields: without it nothing keyword-targeted serves, but it is not an error.
      const { context: _c, ...noContext } = minimal;
      expect((await decide(noContext)).decisions).toEqual(expect.any(Array));
    });

    it('fills a pod without repeating a line item, answers no fill with an empty list, explains to admins', async () => {
      const s1 = await serving('NR');
      const s2 = await serving('NR', { targeting: { countries: ['NR'], keywords: { all: [s1.keyword] } } });
      await firstServe(s2, request(s1));
      const pod = await decide(request(s1, { slots: 3 }));
      const ids = pod.decisions.map((d: Json) => d.lineItemId);
      expect(ids).toEqual(expect.arrayContaining([s1.lineItem.id, s2.lineItem.id]));
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(pod.decisions.map((d: Json) => d.decisionId)).size).toBe(ids.length);

      const none = await decide({ placement: 'p', user: { id: unique('u') }, device: { platform: 'car' }, geo: { country: 'NR' }, format: 'display', context: { keywords: [unique('none')] } });
      expect(none).toEqual({ requestId: expect.any(String), decisions: [] });

      const explained = ok(await http('POST', '/v1/decisions?explain=true', { body: request(s1, { geo: { country: 'KI' } }) }), 200);
      expect(JSON.stringify(explained.body ?? explained)).toContain(s1.lineItem.id);
      expect((await http('POST', '/v1/decisions?explain=true', { body: request(s1), key: null })).status).toBe(401);
    });

    it('targets countries, platforms, dayparts and keywords any/all/none', async () => {
      const hour = new Date().getUTCHours();
      const away = hour < 12 ? { startHour: 13, endHour: 24 } : { startHour: 0, endHour: 11 };
      const kwAny = unique('any');
      const kwAll = unique('all');
      const s = await serving('PW', {
        targeting: {
          countries: ['PW'],
          platforms: ['android', 'speaker'],
          keywords: { any: [kwAny, 'x-other'], all: [kwAll], none: ['blocked'] },
          dayparts: [{ days: [0, 1, 2, 3, 4, 5, 6], startHour: 0, endHour: 24 }],
        },
      });
      const base = (over: Json = {}) => ({ placement: 'p', user: { id: unique('u') }, device: { platform: 'android' }, geo: { country: 'PW' }, context: { keywords: [kwAny, kwAll] }, ...over });
      await firstServe(s, base());
      expect(await servedTo(s, base({ device: { platform: 'speaker' } }))).toBeDefined();
      expect(await servedTo(s, base({ geo: { country: 'FM' } }))).toBeUndefined();
      expect(await servedTo(s, base({ device: { platform: 'ios' } }))).toBeUndefined();
      expect(await servedTo(s, base({ context: { keywords: [kwAll] } }))).toBeUndefined();
      expect(await servedTo(s, base({ context: { keywords: [kwAny] } }))).toBeUndefined();
      expect(await servedTo(s, base({ context: { keywords: [kwAny, kwAll, 'blocked'] } }))).toBeUndefined();

      const off = await serving('MH', { targeting: { countries: ['MH'], dayparts: [{ days: [0, 1, 2, 3, 4, 5, 6], ...away }] } });
      const onDay = await serving('MH', { targeting: { countries: ['MH'], dayparts: [{ days: [new Date().getUTCDay()], startHour: hour, endHour: hour + 1 }] } });
      const body = { placement: 'p', user: { id: unique('u') }, device: { platform: 'web' }, geo: { country: 'MH' }, slots: 5 };
      await waitFor(async () => (await decide({ ...body, user: { id: unique('u') } })).decisions.some((d: Json) => d.lineItemId === onDay.lineItem.id), 5000, 'daypart line item');
      const served = (await decide(body)).decisions.map((d: Json) => d.lineItemId);
      expect(served).toContain(onDay.lineItem.id);
      expect(served).not.toContain(off.lineItem.id);
    });

    it('holds a frequency cap counted on impressions fired through the tracking URLs', async () => {
      const s = await serving('FM', { frequencyCaps: [{ maxImpressions: 2, periodSeconds: 3600 }] });
      await firstServe(s);
      const body = request(s);
      for (let i = 0; i < 2; i++) {
        const d = await servedTo(s, body);
        expect(d).toBeDefined();
        expect((await fire(d!.tracking.impression)).status).toBe(204);
      }
      expect(await servedTo(s, body)).toBeUndefined();
      expect(await servedTo(s, request(s))).toBeDefined();
    });

    it('stops serving within 1 s of a pause', async () => {
      const s = await serving('WS');
      await firstServe(s);
      ok(await http('POST', `/v1/line-items/${s.lineItem.id}/pause`), 200);
      const paused = Date.now();
      await waitFor(async () => !(await servedTo(s, request(s))), 1000, 'paused line item to stop', 20);
      expect(Date.now() - paused).toBeLessThan(1000);
      expect(await servedTo(s, request(s))).toBeUndefined();
    });
  });

  describe('VAST', () => {
    it('answers VAST 4.2 from flat parameters, audio adType, valid against the XSD; empty VAST on no fill', async () => {
      const s = await serving('TO');
      await firstServe(s);
      const q = new URLSearchParams({ placement: 'p', slots: '1', userId: unique('u'), age: '30', gender: 'female', platform: 'ios', country: 'TO', region: 'X', genre: 'rock', keywords: `${s.keyword},other`, format: 'audio' });
      const res = await fire(`${process.env.E2E_BASE_URL}/v1/vast?${q}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/xml/);
      const xml = await res.text();
      expect(xml).toContain('xmlns="http://www.iab.com/VAST"');
      expect(xml).toMatch(/<VAST[^>]* version="4.2"/);
      expect(xml).toContain('adType="audio"');
      expect(xml).toContain(s.creative.mediaUrl);
      expect(await validateVast(xml)).toEqual({ valid: true, errors: [] });

      const impression = xml.match(/<Impression[^>]*><!\[CDATA\[(.+?)\]\]>/)![1];
      expect((await fire(impression)).status).toBe(204);

      const empty = await fire(`${process.env.E2E_BASE_URL}/v1/vast?${new URLSearchParams({ placement: 'p', userId: 'u', platform: 'car', country: 'TO', keywords: unique('none'), format: 'video' })}`);
      expect(empty.status).toBe(200);
      const emptyXml = await empty.text();
      expect(emptyXml).toContain('xmlns="http://www.iab.com/VAST"');
      expect(emptyXml).not.toContain('<Ad');
      expect(await validateVast(emptyXml)).toEqual({ valid: true, errors: [] });
      expect((await fire(`${process.env.E2E_BASE_URL}/v1/vast?placement=p`)).status).toBe(400);
    });
  });

  describe('tracking, events and reports', () => {
    it('counts every fired event exactly once, redirects clicks, reports within 5 s with exact numbers and spend', async () => {
      const s = await serving('SB', { rateMicros: 2_000_000, frequencyCaps: [] });
      await firstServe(s);
      const before = (await totals(s.campaign.id)) ?? { impressions: 0 };
      const warm = before.impressions as number;
      const users = [unique('u'), unique('u')];
      const decisions: Json[] = [];
      for (const user of [users[0], users[0], users[1]]) decisions.push((await servedTo(s, request(s, { user: { id: user } })))!);

      // A full listen with a click, each URL exactly as returned, in player order.
      const first = decisions[0];
      for (const event of ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete']) {
        expect((await fire(first.tracking[event])).status).toBe(204);
      }
      const click = await fire(first.clickUrl);
      expect(click.status).toBe(302);
      expect(click.headers.get('location')).toBe(s.creative.clickThroughUrl);
      // Replays count once.
      expect((await fire(first.tracking.impression)).status).toBe(204);
      expect((await fire(first.tracking.complete)).status).toBe(204);
      // A tampered token is still answered, and never counted as valid.
      const tampered = first.tracking.impression.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
      expect((await fire(tampered)).status).toBe(204);

      // The offline batch: per-item results, in order.
      const second = decisions[1];
      const batch = ok(
        await http('POST', '/v1/events', {
          key: null,
          body: {
            events: [
              { event: 'impression', token: new URL(second.tracking.impression).searchParams.get('d') },
              { event: 'start', token: new URL(second.tracking.start).searchParams.get('d'), occurredAt: new Date().toISOString() },
              { event: 'impression', token: new URL(second.tracking.impression).searchParams.get('d') },
              { event: 'impression', token: 'not-a-token' },
            ],
          },
        }),
        200,
      );
      expect(batch.results.map((r: Json) => r.status)).toEqual(['accepted', 'accepted', 'duplicate', 'invalid']);
      expect(batch.results[3].reason).toEqual(expect.any(String));
      // A known bot: kept, reported apart, never billed.
      expect((await fire(decisions[2].tracking.impression, { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } })).status).toBe(204);

      const started = Date.now();
      const row = await waitFor(async () => {
        const r = await totals(s.campaign.id);
        return r && r.impressions === warm + 2 && r.invalidImpressions >= 1 ? r : null;
      }, 5000, 'the events in the report', 100);
      expect(Date.now() - started).toBeLessThan(5000);
      for (const field of ROW_FIELDS) expect(row).toHaveProperty(field);
      expect(row).toMatchObject({ starts: 2, firstQuartiles: 1, midpoints: 1, thirdQuartiles: 1, completes: 1, clicks: 1, invalidImpressions: 1, invalidClicks: 0 });
      expect(row.reach).toBe(warm + 1);
      // CPM: impressions x rate / 1000; 2,000,000 micros CPM = 2,000 micros an impression.
      expect(row.spendMicros).toBe((warm + 2) * 2_000);
      expect(row.ctr).toBeCloseTo(1 / (warm + 2), 5);
      expect(row.completionRate).toBeCloseTo(1 / (warm + 2), 5);

      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      const range = { from: new Date(hour.getTime() - 3_600_000).toISOString(), to: new Date(hour.getTime() + 3_600_000).toISOString() };
      for (const granularity of ['hour', 'day', 'total']) {
        const res = ok(await report({ campaignId: s.campaign.id, granularity, breakdown: 'country,platform,creative', ...range }), 200);
        const sum = res.rows.reduce((n: number, r: Json) => n + r.impressions, 0);
        expect(sum).toBe(warm + 2);
        expect(res.rows.every((r: Json) => r.country === 'SB' && r.platform === 'ios' && r.creativeId === s.creative.id)).toBe(true);
      }
      const lineItemReport = ok(await report({ lineItemId: s.lineItem.id, granularity: 'total' }), 200);
      expect(lineItemReport.rows[0].impressions).toBe(warm + 2);
      const advertiserReport = ok(await report({ advertiserId: s.advertiser.id, granularity: 'total' }), 200);
      expect(advertiserReport.rows[0].spendMicros).toBe(row.spendMicros);

      for (const [query, headers] of [[{ format: 'csv' }, {}], [{}, { accept: 'text/csv' }]] as const) {
        const csv = await report({ campaignId: s.campaign.id, granularity: 'total', ...query }, headers);
        expect(csv.status).toBe(200);
        expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
        const [header, first] = csv.text.trim().split(/\r?\n/);
        const cols = header.split(',');
        for (const field of ROW_FIELDS) expect(cols).toContain(field);
        expect(Number(first.split(',')[cols.indexOf('impressions')])).toBe(warm + 2);
      }
    });

    it('counts a listen whose beacons are fired all at once (a naive client) as valid', async () => {
      const s = await serving('CK', { rateMicros: 3_000_000 });
      await firstServe(s);
      const d = (await servedTo(s, request(s)))!;
      const statuses = await Promise.all(Object.values(d.tracking as Record<string, string>).map(async (url) => (await fire(url)).status));
      expect(statuses.sort()).toEqual([204, 204, 204, 204, 204, 204, 302]);
      const row = await waitFor(async () => {
        const r = await totals(s.campaign.id);
        const counted = r ? r.impressions + r.starts + r.firstQuartiles + r.midpoints + r.thirdQuartiles + r.completes + r.clicks + r.invalidEvents : 0;
        return counted >= 7 ? r : null;
      }, 5000, 'the seven events in the report', 100);
      expect(row).toMatchObject({ impressions: 1, starts: 1, firstQuartiles: 1, midpoints: 1, thirdQuartiles: 1, completes: 1, clicks: 1, invalidImpressions: 0, invalidClicks: 0, spendMicros: 3_000, invalidByReason: { sequence: 0 } });
    });

    it('rejects batches over 1,000 events and malformed batches with 400', async () => {
      const events = Array.from({ length: 1001 }, () => ({ event: 'impression', token: 'x' }));
      expectError(await http('POST', '/v1/events', { key: null, body: { events } }), 400, 'events');
      expectError(await http('POST', '/v1/events', { key: null, body: { events: [{ event: 'listen', token: 'x' }] } }), 400, 'event');
      expectError(await http('POST', '/v1/events', { key: null, body: {} }), 400, 'events');
      expect((await fire(`${process.env.E2E_BASE_URL}/t/impression`)).status).toBe(400);
    });

    it('stops a small CPM budget before it is gone: measured spend within budget x 1.01', async () => {
      // 10,000 micros an impression: 55,000 micros buy 5.5 impressions.
      const budget = 55_000;
      const s = await serving('VU', { rateMicros: 10_000_000, budgetMicros: budget });
      await firstServe(s);
      let fills = 0;
      for (let i = 0; i < 30; i++) {
        const d = await servedTo(s, request(s));
        if (!d) break;
        fills++;
        expect((await fire(d.tracking.impression)).status).toBe(204);
      }
      expect(fills).toBeLessThan(30);
      const row = await waitFor(async () => {
        const r = await totals(s.campaign.id);
        return r && r.impressions >= fills ? r : null;
      }, 5000, 'impressions reported');
      expect(row.spendMicros).toBeLessThanOrEqual(budget * 1.01);
      expect(row.spendMicros).toBe(row.impressions * 10_000);
    });
  });

  describe('errors', () => {
    it('answers 400/401/403/404/409 with {statusCode, error, message}', async () => {
      const a = ok(await http('POST', '/v1/advertisers', { body: { name: unique('Err') } }), 201);
      const key = ok(await http('POST', `/v1/advertisers/${a.id}/api-keys`, { body: { name: 'k' } }), 201).key;
      expectError(await http('POST', '/v1/advertisers', { body: { name: 'x', color: 'red' } }), 400, 'color');
      expectError(await http('POST', '/v1/advertisers', { body: {} }), 400, 'name');
      expectError(await http('POST', '/v1/advertisers', { body: { name: 'x', currency: 'DOLLARS' } }), 400, 'currency');
      expectError(await http('POST', '/v1/campaigns', { body: { advertiserId: a.id, name: 'x', startAt: inDays(2), endAt: inDays(1) } }), 400, 'endAt');
      expectError(await http('POST', '/v1/decisions', { key: null, body: { placement: 'p', user: { id: 'u' }, device: { platform: 'fridge' }, geo: { country: 'US' } } }), 400, 'platform');
      expectError(await http('POST', '/v1/decisions', { key: null, body: { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' }, extra: 1 } }), 400, 'extra');
      expectError(await http('GET', '/v1/advertisers', { key: null }), 401);
      expectError(await http('GET', '/v1/advertisers', { key: 'adp_wrong' }), 401);
      expectError(await http('POST', '/v1/advertisers', { key, body: { name: 'x' } }), 403);
      for (const path of ['/v1/advertisers/', '/v1/campaigns/', '/v1/creatives/', '/v1/line-items/']) {
        expectError(await http('GET', `${path}not-a-uuid`), 404);
        expectError(await http('GET', `${path}0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f`), 404);
      }
      expectError(await http('PATCH', '/v1/campaigns/nope', { body: { name: 'x' } }), 404);
      expectError(await http('DELETE', '/v1/api-keys/nope'), 404);
      expectError(await http('GET', '/v1/nothing-here'), 404);
      expectError(await http('GET', '/v1/reports?campaignId=nope'), 404);
      expectError(await http('GET', '/v1/reports?campaignId=0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f&granularity=week'), 400, 'granularity');
      // Nothing is written when a request fails.
      const before = ok(await http('GET', `/v1/campaigns?advertiserId=${a.id}`), 200).data.length;
      expectError(await http('POST', '/v1/campaigns', { body: { advertiserId: a.id, name: 'x', startAt: inDays(1), endAt: inDays(2), budgetMicros: -5 } }), 400, 'budgetMicros');
      expect(ok(await http('GET', `/v1/campaigns?advertiserId=${a.id}`), 200).data.length).toBe(before);
    });
  });

  describe('operations', () => {
    it('serves health, docs, OpenAPI and metrics', async () => {
      const base = process.env.E2E_BASE_URL!;
      expect((await fire(`${base}/health/live`)).status).toBe(200);
      expect((await fire(`${base}/health/ready`)).status).toBe(200);
      const docs = await fire(`${base}/docs`);
      expect([200, 301, 302]).toContain(docs.status);
      const openapi = (await (await fire(`${base}/docs-json`)).json()) as Json;
      expect(openapi.openapi).toMatch(/^3\./);
      for (const path of ['/v1/advertisers', '/v1/campaigns', '/v1/creatives', '/v1/line-items', '/v1/decisions', '/v1/vast', '/v1/events', '/v1/reports', '/t/{event}']) expect(Object.keys(openapi.paths)).toContain(path);
      // Metrics show traffic and internals: the admin key only (or a separate METRICS_PORT).
      expect((await fire(`${base}/metrics`)).status).toBe(401);
      const metrics = await fire(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# (HELP|TYPE) /m);
    });
  });
});
