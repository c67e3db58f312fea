import Redis from 'ioredis';
import { createServingLineItem, expectStatus } from './support/campaign-fixtures';
import { http } from './support/http';
import { waitFor } from './support/processes';
import { validateVast } from './support/vast-schema';
import { markLedgerRestored } from './support/ledger';

/**
 * Decisions against line items created through the real campaigns API. The e2e database is shared
 * with other test files, so each test uses its own keyword (targeted with keywords.all) and priority 1,
 * and asserts on its own line items rather than on "no fill".
 */
const run = Math.random().toString(36).slice(2, 8);
let tagSeq = 0;
const tag = () => `dlv-${run}-${++tagSeq}`;

function decision(keyword: string, overrides: Record<string, unknown> = {}) {
  return {
    placement: 'between-songs',
    user: { id: `listener-${Math.random().toString(36).slice(2)}`, age: 30, gender: 'female' },
    device: { platform: 'android' },
    geo: { country: 'NZ', region: 'AUK' },
    context: { genre: 'jazz', keywords: [keyword] },
    ...overrides,
  };
}

async function serving(keyword: string, lineItem: Record<string, unknown> = {}, creative: Record<string, unknown> = {}) {
  const created = await createServingLineItem({
    lineItem: { pacing: 'ASAP', priority: 1, frequencyCaps: [], targeting: { countries: ['NZ'], keywords: { all: [keyword] } }, ...lineItem },
    creative,
  });
  return created;
}

async function servedLineItems(body: Record<string, unknown>, query = ''): Promise<string[]> {
  const res = expectStatus(await http('POST', `/v1/decisions${query}`, { body, key: null }), 200);
  return res.body.decisions.map((d: { lineItemId: string }) => d.lineItemId);
}

describe('delivery against the campaigns API (real API and worker)', () => {
  let redis: Redis;

  beforeAll(async () => {
    // Until measurement restores the counters (it does so whenever the marker is missing), declare them complete.
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await markLedgerRestored(redis, process.env.E2E_QUEUE_PREFIX!);
  });

  afterAll(async () => {
    redis.disconnect();
  });

  it('serves a line item only to requests matching its targeting', async () => {
    const keyword = tag();
    const { lineItem, creative } = await serving(keyword, {
      targeting: { countries: ['NZ'], regions: ['AUK'], platforms: ['android'], ageRanges: ['25-34'], genders: ['female'], genres: ['jazz'], keywords: { all: [keyword], none: ['news'] } },
    });
    const base = decision(keyword);
    const served = await waitFor(async () => {
      const res = await http('POST', '/v1/decisions', { body: base, key: null });
      return res.body.decisions?.find((d: { lineItemId: string }) => d.lineItemId === lineItem.id);
    }, 2000, 'the new line item to be served');
    expect(served).toMatchObject({ creativeId: creative.id, format: 'audio', mediaUrl: creative.mediaUrl, mimeType: 'audio/mpeg', durationSeconds: 30 });

    const misses: Array<[Record<string, unknown>, string]> = [
      [{ geo: { country: 'AU', region: 'AUK' } }, 'targeting_countries'],
      [{ geo: { country: 'NZ', region: 'WGN' } }, 'targeting_regions'],
      [{ device: { platform: 'ios' } }, 'targeting_platforms'],
      [{ user: { id: 'u-old', age: 60, gender: 'female' } }, 'targeting_ageRanges'],
      [{ user: { id: 'u-male', age: 30, gender: 'male' } }, 'targeting_genders'],
      [{ context: { genre: 'metal', keywords: [keyword] } }, 'targeting_genres'],
      [{ context: { genre: 'jazz', keywords: [keyword, 'news'] } }, 'targeting_keywords'],
      [{ format: 'video' }, 'no_creative_for_format'],
    ];
    for (const [overrides, reason] of misses) {
      const res = expectStatus(await http('POST', '/v1/decisions?explain=true', { body: decision(keyword, overrides) }), 200);
      expect(res.body.decisions.map((d: { lineItemId: string }) => d.lineItemId)).not.toContain(lineItem.id);
      expect(res.body.explanation.find((e: { lineItemId: string }) => e.lineItemId === lineItem.id)).toMatchObject({ reason });
    }
  });

  it('explains to an admin why each line item won or lost, and refuses explain to others', async () => {
    const keyword = tag();
    const { lineItem } = await serving(keyword);
    const body = decision(keyword);
    await waitFor(async () => (await servedLineItems(body)).includes(lineItem.id), 2000, 'line item served');
    const res = expectStatus(await http('POST', '/v1/decisions?explain=true', { body }), 200);
    expect(res.body.explanation.find((e: { lineItemId: string }) => e.lineItemId === lineItem.id)).toMatchObject({ reason: 'selected', rank: 1, priority: 1, expectedValueMicros: 10_000 });
    expect((await http('POST', '/v1/decisions?explain=true', { body, key: null })).status).toBe(401);
    const { advertiser } = await serving(tag());
    const advertiserKey = expectStatus(await http('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { body: { name: 'k' } }), 201).body.key;
    expect((await http('POST', '/v1/decisions?explain=true', { body, key: advertiserKey })).status).toBe(403);
  });

  it('stops serving a paused line item within 1 s', async () => {
    const keyword = tag();
    const { lineItem } = await serving(keyword);
    const body = decision(keyword);
    await waitFor(async () => (await servedLineItems(body)).includes(lineItem.id), 2000, 'line item served');
    expectStatus(await http('POST', `/v1/line-items/${lineItem.id}/pause`), 200);
    const paused = Date.now();
    await waitFor(async () => !(await servedLineItems(body)).includes(lineItem.id), 1000, 'the paused line item to stop serving', 20);
    expect(Date.now() - paused).toBeLessThan(1000);
    // And it stays stopped.
    for (let i = 0; i < 5; i++) expect(await servedLineItems(decision(keyword))).not.toContain(lineItem.id);
  });

  it('holds a frequency cap per listener (decisions awaiting their impression count against it)', async () => {
    const keyword = tag();
    const { lineItem } = await serving(keyword, { frequencyCaps: [{ maxImpressions: 2, periodSeconds: 3600 }] });
    const body = decision(keyword);
    await waitFor(async () => (await servedLineItems(body)).includes(lineItem.id), 2000, 'line item served');
    expect(await servedLineItems(body)).toContain(lineItem.id);
    const third = expectStatus(await http('POST', '/v1/decisions?explain=true', { body }), 200);
    expect(third.body.explanation.find((e: { lineItemId: string }) => e.lineItemId === lineItem.id)).toMatchObject({ reason: 'frequency_capped' });
    expect(await servedLineItems(decision(keyword))).toContain(lineItem.id);
  });

  it('stops a line item at its budget, even under concurrent decisions', async () => {
    const keyword = tag();
    // $10 CPM = 10,000 micros an impression: a 50,000 micro budget buys 5 impressions.
    const { lineItem } = await serving(keyword, { rateMicros: 10_000_000, budgetMicros: 50_000 });
    await waitFor(async () => (await servedLineItems(decision(keyword))).length > 0, 2000, 'line item served');
    const results = await Promise.all(Array.from({ length: 40 }, () => servedLineItems(decision(keyword))));
    const count = results.flat().filter((id) => id === lineItem.id).length;
    expect(count).toBe(4);
  });

  it('fills a pod with distinct line items and renders valid VAST 4.2 audio with sequence numbers', async () => {
    const keyword = tag();
    const first = await serving(keyword, { rateMicros: 20_000_000 });
    const second = await serving(keyword, { rateMicros: 15_000_000 }, { mediaUrl: 'https://cdn.example.com/second.mp3', clickThroughUrl: 'https://second.example.com/landing' });
    const body = decision(keyword, { slots: 3 });
    await waitFor(async () => (await servedLineItems(body)).includes(second.lineItem.id), 2000, 'both line items served');
    const pod = await servedLineItems(body);
    expect(pod.slice(0, 2)).toEqual([first.lineItem.id, second.lineItem.id]);
    expect(new Set(pod).size).toBe(pod.length);

    const q = new URLSearchParams({ placement: 'between-songs', slots: '2', userId: `vast-${run}`, age: '30', gender: 'female', platform: 'android', country: 'NZ', region: 'AUK', genre: 'jazz', keywords: `${keyword},other` });
    const res = await http('GET', `/v1/vast?${q}`, { key: null, headers: { 'user-agent': 'e2e-player/1.0' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(await validateVast(res.text)).toEqual({ valid: true, errors: [] });
    expect(res.text.match(/<Ad /g)).toHaveLength(2);
    expect(res.text).toMatch(/<Ad id="[\w-]+" sequence="1" adType="audio">/);
    expect(res.text).toMatch(/<Ad id="[\w-]+" sequence="2" adType="audio">/);
    expect(res.text).toContain('<![CDATA[https://second.example.com/landing]]>');
    expect(res.text).toMatch(/<Impression id="[\w-]+"><!\[CDATA\[http:\/\/127\.0\.0\.1:\d+\/t\/impression\?d=[\w-]+\.[\w-]+\]\]><\/Impression>/);
    expect(res.text).toContain(`<UniversalAdId idRegistry="adplatform">${second.creative.id}</UniversalAdId>`);
  });
});
