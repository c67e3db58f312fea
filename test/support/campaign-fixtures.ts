import { HttpResult, http } from './http';

/** Campaign-management fixtures for e2e tests: real HTTP calls, failing loudly with the response body. */

export const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();
export const inSeconds = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString();

export function expectStatus<T>(res: HttpResult<T>, status: number): HttpResult<T> {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text}`);
  return res;
}

type Body = Record<string, unknown>;

export async function createAdvertiser(overrides: Body = {}): Promise<Body & { id: string }> {
  return expectStatus(await http('POST', '/v1/advertisers', { body: { name: `Advertiser ${Math.random().toString(36).slice(2, 8)}`, ...overrides } }), 201).body;
}

export async function createApiKey(advertiserId: string, key?: string): Promise<string> {
  return expectStatus(await http('POST', `/v1/advertisers/${advertiserId}/api-keys`, { body: { name: 'e2e' }, key }), 201).body.key;
}

export async function createCampaign(advertiserId: string, overrides: Body = {}, key?: string): Promise<Body & { id: string }> {
  const body = { advertiserId, name: 'Campaign', startAt: inDays(-1), endAt: inDays(30), budgetMicros: 100_000_000_000, ...overrides };
  return expectStatus(await http('POST', '/v1/campaigns', { body, key }), 201).body;
}

export function creativeBody(advertiserId: string, overrides: Body = {}): Body {
  return {
    advertiserId,
    name: 'Spot 30s',
    format: 'audio',
    mediaUrl: 'https://cdn.example.com/spot.mp3',
    mimeType: 'audio/mpeg',
    durationSeconds: 30,
    clickThroughUrl: 'https://example.com/landing',
    ...overrides,
  };
}

export async function createCreative(advertiserId: string, overrides: Body = {}, key?: string): Promise<Body & { id: string }> {
  return expectStatus(await http('POST', '/v1/creatives', { body: creativeBody(advertiserId, overrides), key }), 201).body;
}

export async function approveCreative(creativeId: string): Promise<Body & { id: string }> {
  return expectStatus(await http('POST', `/v1/creatives/${creativeId}/review`, { body: { decision: 'approved' } }), 200).body;
}

export function lineItemBody(campaignId: string, overrides: Body = {}): Body {
  return {
    campaignId,
    name: 'Line item',
    pricingModel: 'CPM',
    rateMicros: 10_000_000,
    budgetMicros: 1_000_000_000,
    pacing: 'EVEN',
    priority: 8,
    frequencyCaps: [{ maxImpressions: 3, periodSeconds: 3600 }],
    targeting: { countries: ['US'] },
    ...overrides,
  };
}

export async function createLineItem(campaignId: string, overrides: Body = {}, key?: string): Promise<Body & { id: string }> {
  return expectStatus(await http('POST', '/v1/line-items', { body: lineItemBody(campaignId, overrides), key }), 201).body;
}

/** An advertiser with an active campaign and an active line item serving one approved creative. */
export async function createServingLineItem(options: { campaign?: Body; lineItem?: Body; creative?: Body } = {}) {
  const advertiser = await createAdvertiser();
  const campaign = await createCampaign(advertiser.id, options.campaign);
  const creative = await createCreative(advertiser.id, options.creative);
  await approveCreative(creative.id);
  const lineItem = await createLineItem(campaign.id, { creativeIds: [creative.id], ...options.lineItem });
  expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);
  const active = expectStatus(await http('POST', `/v1/line-items/${lineItem.id}/activate`), 200).body;
  return { advertiser, campaign, creative, lineItem: active as Body & { id: string } };
}
