import { createConnection, Connection } from 'mysql2/promise';
import { http } from './support/http';
import {
  approveCreative,
  createAdvertiser,
  createApiKey,
  createCampaign,
  createCreative,
  createLineItem,
  creativeBody,
  expectStatus,
  inDays,
  lineItemBody,
} from './support/campaign-fixtures';

let db: Connection;

beforeAll(async () => {
  db = await createConnection({
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? 3306),
    user: process.env.DB_USER ?? 'root',
    password: process.env.DB_PASSWORD ?? '',
    database: process.env.E2E_DB_NAME,
  });
});

afterAll(async () => {
  await db.end();
});

async function countRows(sql: string, params: unknown[]): Promise<number> {
  const [rows] = await db.query(sql, params);
  return Number((rows as Array<{ n: number }>)[0].n);
}

/** Sends a bad request; asserts 400 naming the field and that the table count under `where` did not move. */
async function expectRejected(method: string, path: string, body: unknown, field: string, count: () => Promise<number>): Promise<void> {
  const before = await count();
  const res = await http(method, path, { body });
  expect({ status: res.status, field, message: res.body?.message }).toEqual({ status: 400, field, message: expect.stringContaining(field) });
  expect(res.body.error).toBe('Bad Request');
  expect(await count()).toBe(before);
}

describe('advertisers', () => {
  it('creates with defaults, reads, lists newest first with a cursor, and patches with ETag/If-Match', async () => {
    const first = await createAdvertiser({ name: 'Paging One' });
    const second = await createAdvertiser({ name: 'Paging Two', currency: 'EUR', timezone: 'Europe/Paris' });
    expect(first).toMatchObject({ currency: 'USD', timezone: 'UTC', version: 1, createdBy: 'admin', updatedBy: 'admin' });
    expect(second).toMatchObject({ name: 'Paging Two', currency: 'EUR', timezone: 'Europe/Paris' });

    const got = await http('GET', `/v1/advertisers/${second.id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('W/"1"');
    expect(got.body).toEqual(second);

    const page1 = expectStatus(await http('GET', '/v1/advertisers?limit=1'), 200).body;
    expect(page1.data).toHaveLength(1);
    expect(page1.next).toEqual(page1.data[0].id);
    const page2 = expectStatus(await http('GET', `/v1/advertisers?limit=1&cursor=${page1.next}`), 200).body;
    expect(page2.data[0].id < page1.data[0].id).toBe(true);
    const all = expectStatus(await http('GET', '/v1/advertisers?limit=100'), 200).body.data.map((a: { id: string }) => a.id);
    expect(all.indexOf(second.id)).toBeLessThan(all.indexOf(first.id));
    expect(all.indexOf(first.id)).toBeGreaterThanOrEqual(0);

    const patched = await http('PATCH', `/v1/advertisers/${second.id}`, { body: { name: 'Paging Two Ltd', timezone: 'America/New_York' }, headers: { 'if-match': 'W/"1"' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Paging Two Ltd', timezone: 'America/New_York', currency: 'EUR', version: 2 });
    expect(patched.headers.get('etag')).toBe('W/"2"');

    const stale = await http('PATCH', `/v1/advertisers/${second.id}`, { body: { name: 'Lost update' }, headers: { 'if-match': 'W/"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ statusCode: 412, error: 'Precondition Failed' });
    expect((await http('GET', `/v1/advertisers/${second.id}`)).body.name).toBe('Paging Two Ltd');
  });

  it('rejects a bad currency, timezone, name or unknown field with 400 naming it, writing nothing', async () => {
    const count = () => countRows('SELECT COUNT(*) AS n FROM advertisers WHERE name = ?', ['Invalid Advertiser']);
    await expectRejected('POST', '/v1/advertisers', { name: 'Invalid Advertiser', currency: 'XYZ' }, 'currency', count);
    await expectRejected('POST', '/v1/advertisers', { name: 'Invalid Advertiser', currency: 'usd' }, 'currency', count);
    await expectRejected('POST', '/v1/advertisers', { name: 'Invalid Advertiser', timezone: 'Mars/Olympus_Mons' }, 'timezone', count);
    await expectRejected('POST', '/v1/advertisers', { name: 'Invalid Advertiser', timezone: '+02:00' }, 'timezone', count);
    await expectRejected('POST', '/v1/advertisers', { name: 'Invalid Advertiser', budget: 5 }, 'budget', count);
    await expectRejected('POST', '/v1/advertisers', { name: '' }, 'name', count);
    expect(await count()).toBe(0);

    const advertiser = await createAdvertiser({ name: 'Patch Target' });
    await expectRejected('PATCH', `/v1/advertisers/${advertiser.id}`, { name: null }, 'name', async () => (await http('GET', `/v1/advertisers/${advertiser.id}`)).body.version);
    await expectRejected('PATCH', `/v1/advertisers/${advertiser.id}`, { timezone: 'Nowhere' }, 'timezone', async () => (await http('GET', `/v1/advertisers/${advertiser.id}`)).body.version);
  });

  it('refuses a currency change once campaigns are priced in it', async () => {
    const advertiser = await createAdvertiser();
    expect(expectStatus(await http('PATCH', `/v1/advertisers/${advertiser.id}`, { body: { currency: 'GBP' } }), 200).body.currency).toBe('GBP');
    await createCampaign(advertiser.id);
    const res = await http('PATCH', `/v1/advertisers/${advertiser.id}`, { body: { currency: 'JPY' } });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/currency cannot change/);
    expect((await http('GET', `/v1/advertisers/${advertiser.id}`)).body.currency).toBe('GBP');
  });

  it('answers 404 for unknown and malformed ids, and 403 when an advertiser key creates an advertiser', async () => {
    expect((await http('GET', '/v1/advertisers/0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f')).status).toBe(404);
    expect((await http('GET', '/v1/advertisers/not-an-id')).status).toBe(404);
    const advertiser = await createAdvertiser();
    const key = await createApiKey(advertiser.id);
    const res = await http('POST', '/v1/advertisers', { body: { name: 'Sneaky' }, key });
    expect(res.status).toBe(403);
    expect(await countRows('SELECT COUNT(*) AS n FROM advertisers WHERE name = ?', ['Sneaky'])).toBe(0);
    const own = await http('GET', '/v1/advertisers', { key });
    expect(own.body.data.map((a: { id: string }) => a.id)).toEqual([advertiser.id]);
    const patched = await http('PATCH', `/v1/advertisers/${advertiser.id}`, { body: { name: 'Self-renamed' }, key });
    expect(patched.status).toBe(200);
    expect(patched.body.updatedBy).toMatch(/^key:/);
  });
});

describe('API keys', () => {
  it('shows a key once, lists keys without secrets, authenticates with it, and revokes it (then 401)', async () => {
    const advertiser = await createAdvertiser();
    const created = expectStatus(await http('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { body: { name: 'dashboard' } }), 201).body;
    expect(created).toMatchObject({ advertiserId: advertiser.id, name: 'dashboard' });
    expect(created.key).toMatch(/^adp_/);
    expect(created.key.startsWith(created.keyPrefix)).toBe(true);

    const list = expectStatus(await http('GET', `/v1/advertisers/${advertiser.id}/api-keys`), 200).body;
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ id: created.id, name: 'dashboard', revokedAt: null });
    expect(JSON.stringify(list)).not.toContain(created.key);
    expect(list.data[0]).not.toHaveProperty('key');
    expect(list.data[0]).not.toHaveProperty('keyHash');

    expect((await http('GET', `/v1/advertisers/${advertiser.id}`, { key: created.key })).status).toBe(200);
    // A key minted by the admin stands on its own; one minted by `created` goes with it (issue 15).
    const second = await createApiKey(advertiser.id);
    const minted = await createApiKey(advertiser.id, created.key);
    const revoked = expectStatus(await http('DELETE', `/v1/api-keys/${created.id}`, { key: second }), 200).body;
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect(revoked.revokedBy).toMatch(/^key:/);
    const after = await http('GET', `/v1/advertisers/${advertiser.id}`, { key: created.key });
    expect(after.status).toBe(401);
    expect((await http('GET', `/v1/advertisers/${advertiser.id}`, { key: minted })).status).toBe(401);
    expect((await http('GET', `/v1/advertisers/${advertiser.id}`, { key: second })).status).toBe(200);
    expect(expectStatus(await http('DELETE', `/v1/api-keys/${created.id}`), 200).body.revokedAt).toBe(revoked.revokedAt);
  });

  it('answers 404 for an unknown advertiser or key and 400 for a bad name', async () => {
    expect((await http('POST', '/v1/advertisers/0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f/api-keys', { body: {} })).status).toBe(404);
    expect((await http('DELETE', '/v1/api-keys/0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f')).status).toBe(404);
    expect((await http('DELETE', '/v1/api-keys/garbage')).status).toBe(404);
    const advertiser = await createAdvertiser();
    const count = () => countRows('SELECT COUNT(*) AS n FROM api_keys WHERE advertiser_id = ?', [advertiser.id]);
    await expectRejected('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { name: 'x'.repeat(101) }, 'name', count);
    await expectRejected('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { scopes: ['all'] }, 'scopes', count);
  });
});

describe('campaigns', () => {
  it('creates in draft, filters by advertiser and status, patches and pages', async () => {
    const advertiser = await createAdvertiser();
    const a = await createCampaign(advertiser.id, { name: 'A', budgetMicros: undefined });
    const b = await createCampaign(advertiser.id, { name: 'B' });
    expect(a).toMatchObject({ advertiserId: advertiser.id, status: 'draft', budgetMicros: null, version: 1 });
    expect(b.budgetMicros).toBe(100_000_000_000);

    const listed = expectStatus(await http('GET', `/v1/campaigns?advertiserId=${advertiser.id}`), 200).body;
    expect(listed.data.map((c: { id: string }) => c.id)).toEqual([b.id, a.id]);
    expect(listed.next).toBeNull();
    const paged = expectStatus(await http('GET', `/v1/campaigns?advertiserId=${advertiser.id}&limit=1`), 200).body;
    expect(paged.data.map((c: { id: string }) => c.id)).toEqual([b.id]);
    const rest = expectStatus(await http('GET', `/v1/campaigns?advertiserId=${advertiser.id}&limit=1&cursor=${paged.next}`), 200).body;
    expect(rest.data.map((c: { id: string }) => c.id)).toEqual([a.id]);
    expect(rest.next).toBeNull();
    const byNumber = expectStatus(await http('GET', `/v1/campaigns?advertiserId=${advertiser.id}&limit=1&page=2`), 200).body;
    expect(byNumber.data.map((c: { id: string }) => c.id)).toEqual([a.id]);

    expectStatus(await http('POST', `/v1/campaigns/${b.id}/activate`), 200);
    const active = expectStatus(await http('GET', `/v1/campaigns?advertiserId=${advertiser.id}&status=active`), 200).body;
    expect(active.data.map((c: { id: string }) => c.id)).toEqual([b.id]);

    const endAt = inDays(60);
    const patched = expectStatus(await http('PATCH', `/v1/campaigns/${a.id}`, { body: { name: 'A2', endAt, budgetMicros: 5_000_000 } }), 200);
    expect(patched.body).toMatchObject({ name: 'A2', endAt, budgetMicros: 5_000_000, version: 2 });
    expect(patched.headers.get('etag')).toBe('W/"2"');
    const cleared = expectStatus(await http('PATCH', `/v1/campaigns/${a.id}`, { body: { budgetMicros: null } }), 200);
    expect(cleared.body.budgetMicros).toBeNull();
  });

  it('rejects bad input with 400 naming the field and writes nothing', async () => {
    const advertiser = await createAdvertiser();
    const count = () => countRows('SELECT COUNT(*) AS n FROM campaigns WHERE advertiser_id = ?', [advertiser.id]);
    const good = { advertiserId: advertiser.id, name: 'Bad', startAt: inDays(1), endAt: inDays(10) };
    await expectRejected('POST', '/v1/campaigns', { ...good, endAt: inDays(0) }, 'endAt', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, endAt: good.startAt }, 'endAt', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, startAt: '2026-13-01T00:00:00Z' }, 'startAt', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, startAt: '2026-12-01T25:00:00' }, 'startAt', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, budgetMicros: -5 }, 'budgetMicros', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, budgetMicros: 0 }, 'budgetMicros', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, budgetMicros: 1.5 }, 'budgetMicros', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, budgetMicros: '1000' }, 'budgetMicros', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, budgetMicros: 2 ** 53 }, 'budgetMicros', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, status: 'active' }, 'status', count);
    await expectRejected('POST', '/v1/campaigns', { ...good, name: undefined }, 'name', count);
    const missing = await http('POST', '/v1/campaigns', { body: { ...good, advertiserId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' } });
    expect(missing.status).toBe(404);
    expect(await count()).toBe(0);

    const campaign = await createCampaign(advertiser.id, { startAt: inDays(1), endAt: inDays(10) });
    const version = async () => (await http('GET', `/v1/campaigns/${campaign.id}`)).body.version;
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { endAt: inDays(0) }, 'endAt', version);
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { startAt: inDays(11) }, 'startAt', version);
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { name: null }, 'name', version);
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { advertiserId: advertiser.id }, 'advertiserId', version);
    await expectRejected('GET', '/v1/campaigns?status=running', undefined, 'status', version);
    await expectRejected('GET', '/v1/campaigns?limit=0', undefined, 'limit', version);
    await expectRejected('GET', '/v1/campaigns?limit=abc', undefined, 'limit', version);
    await expectRejected('GET', '/v1/campaigns?cursor=zzz', undefined, 'cursor', version);
  });

  it('keeps line items inside the flight and budget when the campaign changes', async () => {
    const advertiser = await createAdvertiser();
    const campaign = await createCampaign(advertiser.id, { startAt: inDays(1), endAt: inDays(30), budgetMicros: 10_000_000_000 });
    await createLineItem(campaign.id, { startAt: inDays(2), endAt: inDays(20), budgetMicros: 4_000_000_000 });
    const version = async () => (await http('GET', `/v1/campaigns/${campaign.id}`)).body.version;
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { endAt: inDays(10) }, 'endAt', version);
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { startAt: inDays(3) }, 'startAt', version);
    await expectRejected('PATCH', `/v1/campaigns/${campaign.id}`, { budgetMicros: 3_000_000_000 }, 'budgetMicros', version);
    expectStatus(await http('PATCH', `/v1/campaigns/${campaign.id}`, { body: { endAt: inDays(25), budgetMicros: 4_000_000_000 } }), 200);
  });

  it('moves through the status machine and answers 409 with reasons', async () => {
    const advertiser = await createAdvertiser();
    const campaign = await createCampaign(advertiser.id);
    expect((await http('POST', `/v1/campaigns/${campaign.id}/pause`)).status).toBe(409);
    const active = expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200).body;
    expect(active).toMatchObject({ status: 'active', version: 2 });
    const again = expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200).body;
    expect(again.version).toBe(2);
    expect(expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/pause`), 200).body.status).toBe('paused');
    expect(expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200).body.status).toBe('active');
    expect(expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/archive`), 200).body.status).toBe('archived');
    const revive = await http('POST', `/v1/campaigns/${campaign.id}/activate`);
    expect(revive.status).toBe(409);
    expect(revive.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: 'cannot activate: campaign is archived', reasons: ['campaign is archived'] });
    expect((await http('PATCH', `/v1/campaigns/${campaign.id}`, { body: { name: 'Zombie' } })).status).toBe(409);

    const over = await createCampaign(advertiser.id, { startAt: inDays(-10), endAt: inDays(-1) });
    const late = await http('POST', `/v1/campaigns/${over.id}/activate`);
    expect(late.status).toBe(409);
    expect(late.body.reasons).toEqual([expect.stringMatching(/^campaign flight ended at /)]);
    expect((await http('GET', `/v1/campaigns/${over.id}`)).body.status).toBe('draft');
  });
});

describe('creatives and review', () => {
  it('creates pending_review, is reviewed by admin only, and goes back to review when its URLs change', async () => {
    const advertiser = await createAdvertiser();
    const key = await createApiKey(advertiser.id);
    const creative = await createCreative(advertiser.id, { companionImageUrl: 'https://cdn.example.com/banner.png' }, key);
    expect(creative).toMatchObject({ status: 'pending_review', format: 'audio', durationSeconds: 30, reviewNote: null, reviewedAt: null, version: 1 });
    expect(creative.createdBy).toMatch(/^key:/);

    const selfReview = await http('POST', `/v1/creatives/${creative.id}/review`, { body: { decision: 'approved' }, key });
    expect(selfReview.status).toBe(403);
    expect((await http('GET', `/v1/creatives/${creative.id}`)).body.status).toBe('pending_review');

    const rejected = expectStatus(await http('POST', `/v1/creatives/${creative.id}/review`, { body: { decision: 'rejected', note: 'clipping at 0:12' } }), 200).body;
    expect(rejected).toMatchObject({ status: 'rejected', reviewNote: 'clipping at 0:12', reviewedBy: 'admin', version: 2 });
    const approved = await approveCreative(creative.id);
    expect(approved).toMatchObject({ status: 'approved', reviewNote: null, version: 3 });

    const renamed = expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { name: 'Renamed', durationSeconds: 15 }, key }), 200).body;
    expect(renamed).toMatchObject({ name: 'Renamed', durationSeconds: 15, status: 'approved' });
    const sameUrl = expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { mediaUrl: creative.mediaUrl }, key }), 200).body;
    expect(sameUrl.status).toBe('approved');
    const newMedia = expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { mediaUrl: 'https://cdn.example.com/v2.mp3' }, key }), 200).body;
    expect(newMedia).toMatchObject({ status: 'pending_review', reviewedAt: null, reviewedBy: null });
    await approveCreative(creative.id);
    const newClick = expectStatus(await http('PATCH', `/v1/creatives/${creative.id}`, { body: { clickThroughUrl: 'https://example.com/other' } }), 200).body;
    expect(newClick.status).toBe('pending_review');

    const filtered = expectStatus(await http('GET', `/v1/creatives?advertiserId=${advertiser.id}&status=pending_review&format=audio`), 200).body;
    expect(filtered.data.map((c: { id: string }) => c.id)).toEqual([creative.id]);
    expect(expectStatus(await http('GET', `/v1/creatives?advertiserId=${advertiser.id}&status=approved`), 200).body.data).toEqual([]);
    expect(expectStatus(await http('GET', `/v1/creatives?advertiserId=${advertiser.id}&format=video`), 200).body.data).toEqual([]);
  });

  it('rejects bad creatives with 400 naming the field and writes nothing', async () => {
    const advertiser = await createAdvertiser();
    const count = () => countRows('SELECT COUNT(*) AS n FROM creatives WHERE advertiser_id = ?', [advertiser.id]);
    const body = (o: Record<string, unknown>) => creativeBody(advertiser.id, o);
    await expectRejected('POST', '/v1/creatives', body({ mediaUrl: 'ftp://cdn.example.com/spot.mp3' }), 'mediaUrl', count);
    await expectRejected('POST', '/v1/creatives', body({ mediaUrl: 'cdn.example.com/spot.mp3' }), 'mediaUrl', count);
    await expectRejected('POST', '/v1/creatives', body({ clickThroughUrl: 'javascript:alert(1)' }), 'clickThroughUrl', count);
    await expectRejected('POST', '/v1/creatives', body({ companionImageUrl: 'data:image/png;base64,AAAA' }), 'companionImageUrl', count);
    await expectRejected('POST', '/v1/creatives', body({ durationSeconds: 0 }), 'durationSeconds', count);
    await expectRejected('POST', '/v1/creatives', body({ durationSeconds: 121 }), 'durationSeconds', count);
    await expectRejected('POST', '/v1/creatives', body({ durationSeconds: 12.5 }), 'durationSeconds', count);
    await expectRejected('POST', '/v1/creatives', body({ format: 'radio' }), 'format', count);
    await expectRejected('POST', '/v1/creatives', body({ mimeType: 'video/mp4' }), 'mimeType', count);
    await expectRejected('POST', '/v1/creatives', body({ status: 'approved' }), 'status', count);
    expect(await count()).toBe(0);

    const creative = await createCreative(advertiser.id);
    const version = async () => (await http('GET', `/v1/creatives/${creative.id}`)).body.version;
    await expectRejected('PATCH', `/v1/creatives/${creative.id}`, { mimeType: 'image/png' }, 'mimeType', version);
    await expectRejected('PATCH', `/v1/creatives/${creative.id}`, { format: 'video' }, 'format', version);
    await expectRejected('PATCH', `/v1/creatives/${creative.id}`, { mediaUrl: 'file:///etc/passwd' }, 'mediaUrl', version);
    await expectRejected('POST', `/v1/creatives/${creative.id}/review`, { decision: 'maybe' }, 'decision', version);
    expect((await http('GET', `/v1/creatives/${creative.id}`)).body.status).toBe('pending_review');
  });
});

describe('line items', () => {
  async function setup() {
    const advertiser = await createAdvertiser();
    const campaign = await createCampaign(advertiser.id, { startAt: inDays(1), endAt: inDays(30), budgetMicros: 10_000_000_000 });
    const audio = await createCreative(advertiser.id);
    const audio2 = await createCreative(advertiser.id, { name: 'Spot 15s', durationSeconds: 15 });
    const video = await createCreative(advertiser.id, { format: 'video', mimeType: 'video/mp4', mediaUrl: 'https://cdn.example.com/spot.mp4' });
    const count = () => countRows('SELECT COUNT(*) AS n FROM line_items WHERE campaign_id = ?', [campaign.id]);
    return { advertiser, campaign, audio, audio2, video, count };
  }

  it('creates a line item with targeting, caps, creatives and weights, and shows the effective flight', async () => {
    const { advertiser, campaign, audio, audio2 } = await setup();
    const targeting = {
      countries: ['US', 'CA'],
      regions: ['us-ca'],
      platforms: ['ios', 'android'],
      ageRanges: ['18-24'],
      genders: ['female'],
      genres: ['Pop', 'indie'],
      keywords: { any: ['Running'], none: ['news'] },
      dayparts: [{ days: [5, 1], startHour: 6, endHour: 10 }],
    };
    const created = await createLineItem(campaign.id, {
      dailyBudgetMicros: 100_000_000,
      endAt: inDays(20),
      targeting,
      creativeIds: [audio.id, audio2.id],
      creativeWeights: { [audio2.id]: 3 },
    });
    expect(created).toMatchObject({
      campaignId: campaign.id,
      advertiserId: advertiser.id,
      format: 'audio',
      pricingModel: 'CPM',
      rateMicros: 10_000_000,
      budgetMicros: 1_000_000_000,
      dailyBudgetMicros: 100_000_000,
      pacing: 'EVEN',
      priority: 8,
      startAt: campaign.startAt,
      ownStartAt: null,
      frequencyCaps: [{ maxImpressions: 3, periodSeconds: 3600 }],
      targeting: { ...targeting, regions: ['US-CA'], genres: ['pop', 'indie'], keywords: { any: ['running'], none: ['news'] }, dayparts: [{ days: [1, 5], startHour: 6, endHour: 10 }] },
      status: 'draft',
      version: 1,
    });
    expect(created.ownEndAt).toBe(created.endAt);
    expect(new Set(created.creativeIds as string[])).toEqual(new Set([audio.id, audio2.id]));
    expect(created.creatives).toEqual(
      expect.arrayContaining([
        { creativeId: audio.id, weight: 1, status: 'pending_review' },
        { creativeId: audio2.id, weight: 3, status: 'pending_review' },
      ]),
    );

    const minimal = expectStatus(
      await http('POST', '/v1/line-items', { body: { campaignId: campaign.id, name: 'Minimal', pricingModel: 'CPCL', rateMicros: 50_000, budgetMicros: 1_000_000 } }),
      201,
    ).body;
    expect(minimal).toMatchObject({ pacing: 'EVEN', priority: 8, format: 'audio', frequencyCaps: [], targeting: {}, creativeIds: [], dailyBudgetMicros: null, ownEndAt: null, endAt: campaign.endAt });

    const list = expectStatus(await http('GET', `/v1/line-items?campaignId=${campaign.id}`), 200).body;
    expect(list.data.map((l: { id: string }) => l.id)).toEqual([minimal.id, created.id]);
    expect(list.data[1].creatives).toHaveLength(2);
    expect(expectStatus(await http('GET', `/v1/line-items?campaignId=${campaign.id}&status=active`), 200).body.data).toEqual([]);
  });

  it.each([
    ['dailyBudgetMicros', { dailyBudgetMicros: 2_000_000_000 }],
    ['budgetMicros', { budgetMicros: 20_000_000_000 }],
    ['budgetMicros', { budgetMicros: 0 }],
    ['rateMicros', { rateMicros: 1.5 }],
    ['rateMicros', { rateMicros: Number.MAX_SAFE_INTEGER + 2 }],
    ['endAt', { endAt: inDays(31) }],
    ['startAt', { startAt: inDays(0) }],
    ['endAt', { startAt: inDays(5), endAt: inDays(4) }],
    ['startAt', { startAt: inDays(30.5) }],
    ['priority', { priority: 0 }],
    ['priority', { priority: 17 }],
    ['pricingModel', { pricingModel: 'CPA' }],
    ['pacing', { pacing: 'FAST' }],
    ['format', { format: 'radio' }],
    ['targeting.countries', { targeting: { countries: ['XX'] } }],
    ['targeting.countries', { targeting: { countries: ['us'] } }],
    ['targeting.countries', { targeting: { countries: [] } }],
    ['targeting.platforms', { targeting: { platforms: ['fridge'] } }],
    ['targeting.ageRanges', { targeting: { ageRanges: ['18-99'] } }],
    ['targeting.unknown', { targeting: { unknown: ['x'] } }],
    ['targeting.keywords.any', { targeting: { keywords: { any: [42] } } }],
    ['targeting.dayparts.0.days', { targeting: { dayparts: [{ days: [7], startHour: 0, endHour: 24 }] } }],
    ['targeting.dayparts.0.days', { targeting: { dayparts: [{ days: [1, 1], startHour: 0, endHour: 24 }] } }],
    ['targeting.dayparts.0.endHour', { targeting: { dayparts: [{ days: [1], startHour: 10, endHour: 10 }] } }],
    ['targeting.dayparts.0.endHour', { targeting: { dayparts: [{ days: [1], startHour: 0, endHour: 25 }] } }],
    ['frequencyCaps', { frequencyCaps: Array.from({ length: 6 }, () => ({ maxImpressions: 1, periodSeconds: 3600 })) }],
    ['frequencyCaps.0.periodSeconds', { frequencyCaps: [{ maxImpressions: 1, periodSeconds: 10 }] }],
    ['frequencyCaps.0.maxImpressions', { frequencyCaps: [{ maxImpressions: 0, periodSeconds: 3600 }] }],
    ['frequencyCaps.0.maxImpressions', { frequencyCaps: [{ maxImpressions: 1_000_001, periodSeconds: 3600 }] }],
    ['creativeWeights', { creativeWeights: { 'not-assigned': 2 } }],
    ['status', { status: 'active' }],
  ])('rejects a bad %s with 400 and writes nothing', async (field, overrides) => {
    const { campaign, count } = await setup();
    await expectRejected('POST', '/v1/line-items', lineItemBody(campaign.id, overrides as Record<string, unknown>), field, count);
  });

  it('only takes creatives of its own advertiser and format', async () => {
    const { campaign, video, audio, count } = await setup();
    await expectRejected('POST', '/v1/line-items', lineItemBody(campaign.id, { creativeIds: [audio.id, video.id] }), 'creativeIds', count);
    const other = await createCreative((await createAdvertiser()).id);
    const foreign = await http('POST', '/v1/line-items', { body: lineItemBody(campaign.id, { creativeIds: [other.id] }) });
    expect(foreign.status).toBe(404);
    expect(foreign.body.message).toContain(other.id);
    const videoItem = await createLineItem(campaign.id, { format: 'video', creativeIds: [video.id] });
    expect(videoItem.creativeIds).toEqual([video.id]);
    expect(await count()).toBe(1);
    const version = async () => (await http('GET', `/v1/line-items/${videoItem.id}`)).body.version;
    await expectRejected('PATCH', `/v1/line-items/${videoItem.id}`, { format: 'audio' }, 'creativeIds', version);
    expect((await http('PATCH', `/v1/line-items/${videoItem.id}`, { body: { creativeIds: [other.id] } })).status).toBe(404);
  });

  it('patches fields, replaces the assignment and keeps validating the merged state', async () => {
    const { campaign, audio, audio2 } = await setup();
    const li = await createLineItem(campaign.id, { creativeIds: [audio.id], dailyBudgetMicros: 50_000_000 });
    const patched = expectStatus(
      await http('PATCH', `/v1/line-items/${li.id}`, {
        body: { name: 'Renamed', priority: 4, pacing: 'ASAP', dailyBudgetMicros: null, startAt: inDays(2), creativeIds: [audio2.id], creativeWeights: { [audio2.id]: 5 } },
      }),
      200,
    );
    expect(patched.body).toMatchObject({ name: 'Renamed', priority: 4, pacing: 'ASAP', dailyBudgetMicros: null, creativeIds: [audio2.id], creatives: [{ creativeId: audio2.id, weight: 5, status: 'pending_review' }], version: 2 });
    expect(patched.headers.get('etag')).toBe('W/"2"');
    const reweighted = expectStatus(await http('PATCH', `/v1/line-items/${li.id}`, { body: { creativeWeights: { [audio2.id]: 2 } } }), 200).body;
    expect(reweighted.creatives).toEqual([{ creativeId: audio2.id, weight: 2, status: 'pending_review' }]);
    const followed = expectStatus(await http('PATCH', `/v1/line-items/${li.id}`, { body: { startAt: null } }), 200).body;
    expect(followed).toMatchObject({ ownStartAt: null, startAt: campaign.startAt });

    const version = async () => (await http('GET', `/v1/line-items/${li.id}`)).body.version;
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { dailyBudgetMicros: 2_000_000_000 }, 'dailyBudgetMicros', version);
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { budgetMicros: 10, dailyBudgetMicros: 11 }, 'dailyBudgetMicros', version);
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { endAt: inDays(40) }, 'endAt', version);
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { campaignId: campaign.id }, 'campaignId', version);
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { priority: null }, 'priority', version);
    await expectRejected('PATCH', `/v1/line-items/${li.id}`, { targeting: { genders: ['robot'] } }, 'targeting.genders', version);
    expect((await http('GET', `/v1/line-items/${li.id}`)).body.creativeIds).toEqual([audio2.id]);
  });

  it('activates only with what it needs, and says what is missing', async () => {
    const { advertiser, campaign, audio } = await setup();
    const li = await createLineItem(campaign.id, { creativeIds: [audio.id] });
    const pending = await http('POST', `/v1/line-items/${li.id}/activate`);
    expect(pending.status).toBe(409);
    expect(pending.body).toEqual(expect.objectContaining({ statusCode: 409, error: 'Conflict', message: 'cannot activate: no approved creative assigned', reasons: ['no approved creative assigned'] }));
    expect((await http('GET', `/v1/line-items/${li.id}`)).body.status).toBe('draft');

    await approveCreative(audio.id);
    const active = expectStatus(await http('POST', `/v1/line-items/${li.id}/activate`), 200).body;
    expect(active).toMatchObject({ status: 'active', version: 2 });
    expect(expectStatus(await http('POST', `/v1/line-items/${li.id}/pause`), 200).body.status).toBe('paused');
    expect(expectStatus(await http('POST', `/v1/line-items/${li.id}/activate`), 200).body.status).toBe('active');
    expect(expectStatus(await http('POST', `/v1/line-items/${li.id}/archive`), 200).body.status).toBe('archived');
    const archived = await http('POST', `/v1/line-items/${li.id}/activate`);
    expect(archived.status).toBe(409);
    expect(archived.body.reasons).toEqual(['line item is archived']);
    expect((await http('PATCH', `/v1/line-items/${li.id}`, { body: { name: 'x' } })).status).toBe(409);
    expect((await http('POST', `/v1/line-items/${li.id}/pause`)).status).toBe(409);

    const bare = await createLineItem(campaign.id);
    expect((await http('POST', `/v1/line-items/${bare.id}/pause`)).status).toBe(409);
    expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/archive`), 200);
    const blocked = await http('POST', `/v1/line-items/${bare.id}/activate`);
    expect(blocked.status).toBe(409);
    expect(blocked.body.reasons).toEqual(['campaign is archived', 'no approved creative assigned']);
    expect(blocked.body.message).toBe('cannot activate: campaign is archived; no approved creative assigned');
    const refused = await http('POST', '/v1/line-items', { body: lineItemBody(campaign.id) });
    expect(refused.status).toBe(409);

    const past = await createCampaign(advertiser.id, { startAt: inDays(-10), endAt: inDays(-1), budgetMicros: undefined });
    const ended = await createLineItem(past.id, { creativeIds: [audio.id] });
    const late = await http('POST', `/v1/line-items/${ended.id}/activate`);
    expect(late.status).toBe(409);
    expect(late.body.reasons).toEqual([expect.stringMatching(/^flight ended at /)]);
  });

  it('detects concurrent conflicting updates: stale If-Match is 412, parallel writers never overwrite silently', async () => {
    const { campaign } = await setup();
    const li = await createLineItem(campaign.id);
    expect((await http('PATCH', `/v1/line-items/${li.id}`, { body: { name: 'v2' }, headers: { 'if-match': 'W/"7"' } })).status).toBe(412);
    expect((await http('PATCH', `/v1/line-items/${li.id}`, { body: { name: 'v2' }, headers: { 'if-match': 'garbage' } })).status).toBe(412);

    const writers = Array.from({ length: 6 }, (_, i) => http('PATCH', `/v1/line-items/${li.id}`, { body: { name: `writer ${i}`, priority: i + 1 }, headers: { 'if-match': 'W/"1"' } }));
    const results = await Promise.all(writers);
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect([409, 412]).toContain(r.status);
    const final = (await http('GET', `/v1/line-items/${li.id}`)).body;
    expect(final).toMatchObject({ version: 2, name: won[0].body.name, priority: won[0].body.priority });

    // No If-Match at all: each write is still guarded by its version, so every request is either
    // applied on top of the previous ones or refused with 409.
    const blind = await Promise.all(Array.from({ length: 6 }, (_, i) => http('PATCH', `/v1/line-items/${li.id}`, { body: { rateMicros: 1000 + i } })));
    for (const r of blind) expect([200, 409]).toContain(r.status);
    const applied = blind.filter((r) => r.status === 200).length;
    expect(applied).toBeGreaterThanOrEqual(1);
    expect((await http('GET', `/v1/line-items/${li.id}`)).body.version).toBe(2 + applied);
  });
});

describe('OpenAPI', () => {
  it('documents every campaign-management route with request and response schemas whose fields all have examples', async () => {
    const doc = expectStatus(await http('GET', '/docs-json', { key: null }), 200).body;
    const routes: Array<[string, string]> = [
      ['post', '/v1/advertisers'], ['get', '/v1/advertisers'], ['get', '/v1/advertisers/{id}'], ['patch', '/v1/advertisers/{id}'],
      ['post', '/v1/advertisers/{id}/api-keys'], ['get', '/v1/advertisers/{id}/api-keys'], ['delete', '/v1/api-keys/{id}'],
      ['post', '/v1/campaigns'], ['get', '/v1/campaigns'], ['get', '/v1/campaigns/{id}'], ['patch', '/v1/campaigns/{id}'],
      ['post', '/v1/campaigns/{id}/activate'], ['post', '/v1/campaigns/{id}/pause'], ['post', '/v1/campaigns/{id}/archive'],
      ['post', '/v1/creatives'], ['get', '/v1/creatives'], ['get', '/v1/creatives/{id}'], ['patch', '/v1/creatives/{id}'], ['post', '/v1/creatives/{id}/review'],
      ['post', '/v1/line-items'], ['get', '/v1/line-items'], ['get', '/v1/line-items/{id}'], ['patch', '/v1/line-items/{id}'],
      ['post', '/v1/line-items/{id}/activate'], ['post', '/v1/line-items/{id}/pause'], ['post', '/v1/line-items/{id}/archive'],
    ];
    for (const [method, path] of routes) {
      const op = doc.paths[path]?.[method];
      expect({ method, path, documented: !!op }).toEqual({ method, path, documented: true });
      const success = op.responses['200'] ?? op.responses['201'];
      expect({ path, method, response: !!success?.content?.['application/json']?.schema }).toEqual({ path, method, response: true });
    }
    const missing: string[] = [];
    let checked = 0;
    const mine = /^(Create|Update|Review)?(Advertiser|ApiKey|CreatedApiKey|Campaign|Creative|LineItem|Targeting|FrequencyCap|Keywords|Daypart|AssignedCreative|ActivationConflict)/;
    for (const [name, schema] of Object.entries<{ properties?: Record<string, Record<string, unknown>> }>(doc.components.schemas)) {
      if (!mine.test(name) || name.endsWith('QueryDto')) continue;
      for (const [prop, spec] of Object.entries(schema.properties ?? {})) {
        const nested = '$ref' in spec || (spec.items as Record<string, unknown> | undefined)?.$ref || (spec.allOf as unknown[] | undefined)?.length;
        checked++;
        if (!('example' in spec) && !nested) missing.push(`${name}.${prop}`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });
});
