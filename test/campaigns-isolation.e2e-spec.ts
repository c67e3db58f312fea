import { http } from './support/http';
import { approveCreative, createAdvertiser, createApiKey, createCampaign, createCreative, createLineItem, creativeBody, expectStatus, lineItemBody } from './support/campaign-fixtures';

/**
 * Tenant isolation as a matrix: advertiser A's key against every endpoint that can name one of
 * advertiser B's resources answers 404 (exactly as for a missing one), and B's resources are unchanged.
 */
describe('tenant isolation (advertiser keys)', () => {
  let keyA: string;
  let a: { advertiser: string; campaign: string; creative: string; lineItem: string };
  let b: { advertiser: string; campaign: string; creative: string; lineItem: string; keyId: string };

  beforeAll(async () => {
    const advA = await createAdvertiser({ name: 'Tenant A' });
    const advB = await createAdvertiser({ name: 'Tenant B' });
    keyA = await createApiKey(advA.id);
    const keyB = expectStatus(await http('POST', `/v1/advertisers/${advB.id}/api-keys`, { body: { name: 'b' } }), 201).body;
    const campaignA = await createCampaign(advA.id, {}, keyA);
    const campaignB = await createCampaign(advB.id);
    const creativeA = await createCreative(advA.id, {}, keyA);
    const creativeB = await createCreative(advB.id);
    await approveCreative(creativeB.id);
    const lineItemA = await createLineItem(campaignA.id, { creativeIds: [creativeA.id] }, keyA);
    const lineItemB = await createLineItem(campaignB.id, { creativeIds: [creativeB.id] });
    a = { advertiser: advA.id, campaign: campaignA.id, creative: creativeA.id, lineItem: lineItemA.id };
    b = { advertiser: advB.id, campaign: campaignB.id, creative: creativeB.id, lineItem: lineItemB.id, keyId: keyB.id };
  });

  const matrix: Array<[string, string, () => string, () => unknown]> = [
    ['GET', 'advertiser', () => `/v1/advertisers/${b.advertiser}`, () => undefined],
    ['PATCH', 'advertiser', () => `/v1/advertisers/${b.advertiser}`, () => ({ name: 'hijacked' })],
    ['POST', 'advertiser api key', () => `/v1/advertisers/${b.advertiser}/api-keys`, () => ({ name: 'stolen' })],
    ['GET', 'advertiser api keys', () => `/v1/advertisers/${b.advertiser}/api-keys`, () => undefined],
    ['DELETE', 'api key', () => `/v1/api-keys/${b.keyId}`, () => undefined],
    ['POST', 'campaign in B', () => '/v1/campaigns', () => ({ advertiserId: b.advertiser, name: 'x', startAt: '2026-12-01T00:00:00Z', endAt: '2027-12-01T00:00:00Z' })],
    ['GET', 'campaign', () => `/v1/campaigns/${b.campaign}`, () => undefined],
    ['PATCH', 'campaign', () => `/v1/campaigns/${b.campaign}`, () => ({ name: 'hijacked' })],
    ['POST', 'campaign activate', () => `/v1/campaigns/${b.campaign}/activate`, () => undefined],
    ['POST', 'campaign pause', () => `/v1/campaigns/${b.campaign}/pause`, () => undefined],
    ['POST', 'campaign archive', () => `/v1/campaigns/${b.campaign}/archive`, () => undefined],
    ['POST', 'creative in B', () => '/v1/creatives', () => creativeBody(b.advertiser)],
    ['GET', 'creative', () => `/v1/creatives/${b.creative}`, () => undefined],
    ['PATCH', 'creative', () => `/v1/creatives/${b.creative}`, () => ({ name: 'hijacked' })],
    ['POST', 'line item in B campaign', () => '/v1/line-items', () => lineItemBody(b.campaign)],
    ['POST', "line item with B's creative", () => '/v1/line-items', () => lineItemBody(a.campaign, { creativeIds: [b.creative] })],
    ['PATCH', "assigning B's creative", () => `/v1/line-items/${a.lineItem}`, () => ({ creativeIds: [b.creative] })],
    ['GET', 'line item', () => `/v1/line-items/${b.lineItem}`, () => undefined],
    ['PATCH', 'line item', () => `/v1/line-items/${b.lineItem}`, () => ({ name: 'hijacked' })],
    ['POST', 'line item activate', () => `/v1/line-items/${b.lineItem}/activate`, () => undefined],
    ['POST', 'line item pause', () => `/v1/line-items/${b.lineItem}/pause`, () => undefined],
    ['POST', 'line item archive', () => `/v1/line-items/${b.lineItem}/archive`, () => undefined],
  ];

  it.each(matrix)("%s %s of another advertiser answers 404 and changes nothing", async (method, _what, path, body) => {
    const before = await snapshotB();
    const res = await http(method, path(), { body: body(), key: keyA });
    expect({ status: res.status, error: res.body?.error }).toEqual({ status: 404, error: 'Not Found' });
    expect(await snapshotB()).toEqual(before);
  });

  it('answers the same 404 for a missing resource as for another tenant\'s', async () => {
    const missing = '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f';
    const other = await http('GET', `/v1/campaigns/${b.campaign}`, { key: keyA });
    const absent = await http('GET', `/v1/campaigns/${missing}`, { key: keyA });
    expect(other.status).toBe(absent.status);
    expect(other.body.message.replace(b.campaign, 'ID')).toBe(absent.body.message.replace(missing, 'ID'));
  });

  it('lists only its own rows, even when filtering on another advertiser', async () => {
    const lists = [
      ['/v1/advertisers', a.advertiser, b.advertiser],
      ['/v1/campaigns', a.campaign, b.campaign],
      [`/v1/campaigns?advertiserId=${b.advertiser}`, null, b.campaign],
      ['/v1/creatives', a.creative, b.creative],
      [`/v1/creatives?advertiserId=${b.advertiser}`, null, b.creative],
      ['/v1/line-items', a.lineItem, b.lineItem],
      [`/v1/line-items?campaignId=${b.campaign}`, null, b.lineItem],
    ] as const;
    for (const [path, own, foreign] of lists) {
      const res = expectStatus(await http('GET', path, { key: keyA }), 200);
      const ids = res.body.data.map((r: { id: string }) => r.id);
      expect({ path, leaked: ids.includes(foreign) }).toEqual({ path, leaked: false });
      if (own) expect({ path, own: ids.includes(own) }).toEqual({ path, own: true });
      for (const row of res.body.data) expect(row.advertiserId ?? row.id).toBe(a.advertiser);
    }
  });

  it('refuses advertiser keys on admin-only endpoints with 403 (creating advertisers, reviewing creatives)', async () => {
    const forbidden = await http('POST', '/v1/advertisers', { body: { name: 'x' }, key: keyA });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.message).toBe('this endpoint needs an admin key');
    expect((await http('POST', `/v1/creatives/${a.creative}/review`, { body: { decision: 'approved' }, key: keyA })).status).toBe(403);
    expect((await http('GET', `/v1/creatives/${a.creative}`, { key: keyA })).body.status).toBe('pending_review');
  });

  it('lets the admin see and change every tenant', async () => {
    for (const path of [`/v1/advertisers/${b.advertiser}`, `/v1/campaigns/${b.campaign}`, `/v1/creatives/${b.creative}`, `/v1/line-items/${b.lineItem}`, `/v1/advertisers/${b.advertiser}/api-keys`]) {
      expect({ path, status: (await http('GET', path)).status }).toEqual({ path, status: 200 });
    }
  });

  /** Everything of B that A might have touched, as the admin sees it. */
  async function snapshotB() {
    const get = async (path: string) => (await http('GET', path)).body;
    return {
      advertiser: await get(`/v1/advertisers/${b.advertiser}`),
      keys: await get(`/v1/advertisers/${b.advertiser}/api-keys`),
      campaigns: await get(`/v1/campaigns?advertiserId=${b.advertiser}`),
      creatives: await get(`/v1/creatives?advertiserId=${b.advertiser}`),
      lineItems: await get(`/v1/line-items?campaignId=${b.campaign}`),
      lineItemA: await get(`/v1/line-items/${a.lineItem}`),
      lineItemsOfA: await get(`/v1/line-items?campaignId=${a.campaign}`),
    };
  }
});
