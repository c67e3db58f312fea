import { CATALOG_CHANGED_CHANNEL, CatalogLineItem, DeliveryCatalog } from '@app/campaigns';
import { ApiConfig, MetricsService, RedisService } from '@app/platform';
import { Logger } from '@nestjs/common';
import { DeliveryLedger, ManualClock } from '@app/delivery-ledger';
import { testRedis } from '../../../../test/support/test-redis';
import { CatalogSource } from '../eligibility/catalog-source';
import { EligibilityIndexService } from '../eligibility/eligibility-index.service';
import { ObservedStateService } from '../eligibility/observed-state.service';
import type { DecisionContext } from '../selection/decision-context';
import { TrackingTokenCodec } from '../tracking/tracking-token';
import { DecisionService } from './decision.service';

type TestRedis = RedisService & { cleanup(): Promise<void> };
// Wednesday 2026-11-25 15:30 UTC.
const NOW = Date.UTC(2026, 10, 25, 15, 30);
let seq = 0;

function lineItem(o: Partial<CatalogLineItem> = {}): CatalogLineItem {
  const id = o.id ?? `li-${++seq}`;
  return {
    id,
    name: `Line item ${id}`,
    campaignId: 'cp-1',
    advertiserId: 'adv-1',
    timezone: 'UTC',
    currency: 'USD',
    pricingModel: 'CPM',
    rateMicros: 2_000_000,
    budgetMicros: 1_000_000_000,
    dailyBudgetMicros: null,
    campaignBudgetMicros: null,
    pacing: 'ASAP',
    priority: 8,
    startAt: NOW - 86_400_000,
    endAt: NOW + 86_400_000,
    frequencyCaps: [],
    targeting: {},
    creatives: [{ id: `cr-${id}`, format: 'audio', mediaUrl: `https://cdn.example.com/${id}.mp3`, mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://brand.example.com', companionImageUrl: null, weight: 1, approvedVersion: 1 }],
    version: 1,
    ...o,
  };
}

class MemoryCatalog extends CatalogSource {
  lineItems: CatalogLineItem[] = [];
  revision = 0;
  async load(): Promise<DeliveryCatalog> {
    return { loadedAt: NOW, lineItems: this.lineItems.map((li) => ({ ...li })) };
  }
  async version(): Promise<number> {
    return this.revision;
  }
}

const ctx = (o: Partial<DecisionContext> = {}): DecisionContext => ({
  placement: 'between-songs',
  slots: 1,
  userId: 'listener-1',
  platform: 'ios',
  country: 'US',
  keywords: [],
  ...o,
});

// The services log index refreshes and degraded modes; the assertions here say what matters.
Logger.overrideLogger(['error']);

describe('DecisionService (in-memory catalog, real Redis)', () => {
  let redis: TestRedis;
  let clock: ManualClock;
  let catalog: MemoryCatalog;
  let index: EligibilityIndexService;
  let counters: DeliveryLedger;
  let service: DecisionService;
  let observed: ObservedStateService;
  const codec = new TrackingTokenCodec('x'.repeat(32), 3600);

  beforeEach(async () => {
    redis = await testRedis();
    clock = new ManualClock(NOW);
    catalog = new MemoryCatalog();
    counters = new DeliveryLedger(redis, clock);
    await counters.whenReady();
    await counters.markRestored();
    index = new EligibilityIndexService(catalog, redis, clock);
    observed = new ObservedStateService(counters, index);
    const config = Object.assign(new ApiConfig(), { PUBLIC_BASE_URL: 'https://ads.example.com' });
    let s = 1;
    const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    service = new DecisionService(index, observed, counters, codec, clock, new MetricsService(), config, random);
  });

  afterEach(async () => {
    index.onApplicationShutdown();
    counters.onApplicationShutdown();
    await redis.cleanup();
  });

  async function load(...items: CatalogLineItem[]) {
    catalog.lineItems = items;
    catalog.revision++;
    await index.reload();
  }

  const decide = (c: Partial<DecisionContext> = {}, explain = false) => service.decide(ctx(c), { requestId: 'req-1', explain });

  it('answers no fill before the catalog is loaded, and when nothing matches', async () => {
    expect((await decide()).ads).toEqual([]);
    await load(lineItem({ targeting: { countries: ['CA'] } }));
    expect((await decide()).ads).toEqual([]);
  });

  it('serves a matching ad with signed tracking URLs and the click URL', async () => {
    const li = lineItem({ id: 'li-us', targeting: { countries: ['US'], platforms: ['ios'] } });
    await load(li, lineItem({ targeting: { countries: ['CA'] } }));
    const { ads, requestId } = await decide();
    expect(requestId).toBe('req-1');
    expect(ads).toHaveLength(1);
    const [ad] = ads;
    expect(ad).toMatchObject({ lineItemId: 'li-us', campaignId: 'cp-1', creativeId: 'cr-li-us', format: 'audio', mediaUrl: 'https://cdn.example.com/li-us.mp3', mimeType: 'audio/mpeg', durationSeconds: 30 });
    expect(ad.clickUrl).toBe(ad.tracking.click);
    for (const event of ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const) {
      expect(ad.tracking[event]).toMatch(new RegExp(`^https://ads\\.example\\.com/t/${event}\\?d=[\\w-]+\\.[\\w-]+$`));
    }
    const token = new URL(ad.tracking.impression).searchParams.get('d')!;
    expect(codec.verify(token, Math.floor(NOW / 1000))).toEqual({
      ok: true,
      claims: { decisionId: ad.decisionId, advertiserId: 'adv-1', campaignId: 'cp-1', lineItemId: 'li-us', creativeId: 'cr-li-us', userId: 'listener-1', pricingModel: 'CPM', rateMicros: 2_000_000, country: 'US', platform: 'ios', issuedAt: Math.floor(NOW / 1000), creativeVersion: 1 },
    });
  });

  it('serves the lowest priority number first, then the highest expected value', async () => {
    await load(lineItem({ id: 'house', priority: 16, rateMicros: 50_000_000 }), lineItem({ id: 'cheap', rateMicros: 1_000_000 }), lineItem({ id: 'rich', rateMicros: 3_000_000 }), lineItem({ id: 'sponsor', priority: 4, rateMicros: 100_000 }));
    expect((await decide({ slots: 4 })).ads.map((a) => a.lineItemId)).toEqual(['sponsor', 'rich', 'cheap', 'house']);
  });

  it('ranks CPC by rate x observed click rate: a click-poor CPC line item loses to a CPM one', async () => {
    // CPC $0.10 with prior CTR 1% = 1,000 micros per impression; CPM $2 = 2,000 micros per impression.
    await load(lineItem({ id: 'cpc', pricingModel: 'CPC', rateMicros: 100_000 }), lineItem({ id: 'cpm', rateMicros: 2_000_000 }));
    expect((await decide()).ads[0].lineItemId).toBe('cpm');
  });

  it('skips the line items of a campaign known to have spent its budget, however many rank first', async () => {
    // 50 line items of a spent campaign outrank the only one that can serve: offered to Redis, they would
    // fill all six reservation rounds (43 candidates for one slot) with refusals.
    const spent = Array.from({ length: 50 }, (_, i) => lineItem({ id: `spent-${i}`, campaignId: 'cp-spent', campaignBudgetMicros: 1_000_000, priority: 4 }));
    await load(...spent, lineItem({ id: 'other', campaignId: 'cp-2' }));
    await redis.client.hset(counters.keys.campaign('cp-spent'), 'spent', 1_000_000 * 1000);
    await observed.refresh();
    expect((await decide()).ads.map((a) => a.lineItemId)).toEqual(['other']);
    const { ads, explanation } = await decide({}, true);
    expect(ads.map((a) => a.lineItemId)).toEqual(['other']);
    expect(explanation!.filter((e) => e.reason === 'campaign_budget_exhausted')).toHaveLength(50);
  });

  it('offers the slots plus one candidate first, and more in later rounds when those are refused', async () => {
    const reserve = jest.spyOn(counters, 'reserve');
    const capped = Array.from({ length: 3 }, (_, i) => lineItem({ id: `capped-${i}`, priority: 4, rateMicros: (5 - i) * 1_000_000, frequencyCaps: [{ maxImpressions: 1, periodSeconds: 3600 }] }));
    await load(...capped, lineItem({ id: 'open' }));
    expect((await decide()).ads.map((a) => a.lineItemId)).toEqual(['capped-0']);
    reserve.mockClear();
    expect((await decide({ slots: 1 })).ads.map((a) => a.lineItemId)).toEqual(['capped-1']);
    expect(reserve.mock.calls.map(([r]) => r.candidates.length)).toEqual([2]);
    reserve.mockClear();
    // capped-0 and capped-1 are refused in round one; round two offers the rest.
    const third = await decide();
    expect(third.ads.map((a) => a.lineItemId)).toEqual(['capped-2']);
    expect(reserve.mock.calls.map(([r]) => r.candidates.length)).toEqual([2, 2]);
  });

  it('fills a pod without repeating a line item, and with fewer ads when fewer are eligible', async () => {
    await load(lineItem(), lineItem(), lineItem({ creatives: [...lineItem().creatives, { ...lineItem().creatives[0], id: 'second' }] }));
    const { ads } = await decide({ slots: 5 });
    expect(ads).toHaveLength(3);
    expect(new Set(ads.map((a) => a.lineItemId)).size).toBe(3);
    expect(new Set(ads.map((a) => a.decisionId)).size).toBe(3);
  });

  it('filters by format, flight and every targeting field, and explains why each line item lost', async () => {
    await load(
      lineItem({ id: 'video', creatives: [{ ...lineItem().creatives[0], id: 'v', format: 'video', mimeType: 'video/mp4' }] }),
      lineItem({ id: 'later', startAt: NOW + 3_600_000 }),
      lineItem({ id: 'ended', endAt: NOW }),
      lineItem({ id: 'age', targeting: { ageRanges: ['18-24'] } }),
      lineItem({ id: 'keywords', targeting: { keywords: { none: ['news'] } } }),
      lineItem({ id: 'night', targeting: { dayparts: [{ days: [3], startHour: 22, endHour: 24 }] } }),
      lineItem({ id: 'winner', priority: 4 }),
      lineItem({ id: 'runner-up', priority: 8 }),
    );
    const { ads, explanation } = await decide({ formats: ['audio'], age: 40, keywords: ['news'] }, true);
    expect(ads.map((a) => a.lineItemId)).toEqual(['winner']);
    const reasons = Object.fromEntries(explanation!.map((e) => [e.lineItemId, e.reason]));
    expect(reasons).toEqual({
      video: 'no_creative_for_format',
      later: 'flight_not_started',
      ended: 'flight_ended',
      age: 'targeting_ageRanges',
      keywords: 'targeting_keywords',
      night: 'targeting_dayparts',
      winner: 'selected',
      'runner-up': 'outranked',
    });
    expect(explanation!.find((e) => e.lineItemId === 'winner')).toMatchObject({ rank: 1, priority: 4, expectedValueMicros: 2000 });
  });

  it('holds frequency caps per listener and explains them', async () => {
    await load(lineItem({ id: 'capped', frequencyCaps: [{ maxImpressions: 1, periodSeconds: 3600 }] }));
    expect((await decide()).ads).toHaveLength(1);
    const second = await decide({}, true);
    expect(second.ads).toEqual([]);
    expect(second.explanation).toEqual([expect.objectContaining({ lineItemId: 'capped', reason: 'frequency_capped' })]);
    expect((await decide({ userId: 'listener-2' })).ads).toHaveLength(1);
  });

  it('stops at the budget and serves nothing while the counters await a restore', async () => {
    await load(lineItem({ id: 'small', budgetMicros: 6_000 }));
    const served = [];
    for (let i = 0; i < 5; i++) served.push(...(await decide({ userId: `u${i}` })).ads);
    expect(served).toHaveLength(3);
    await counters.markLost();
    await load(lineItem({ id: 'fresh' }));
    const blocked = await decide({}, true);
    expect(blocked.ads).toEqual([]);
    expect(blocked.explanation![0].reason).toBe('counters_not_restored');
  });

  it('reloads the index within a second of a change message, and by polling the version', async () => {
    await index.onModuleInit();
    catalog.lineItems = [lineItem({ id: 'first' })];
    catalog.revision++;
    await redis.publish(CATALOG_CHANGED_CHANNEL, JSON.stringify({ entity: 'line_item', ids: ['first'] }));
    const started = Date.now();
    while (!index.snapshot?.items.length && Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 10));
    expect(index.snapshot!.items.map((i) => i.lineItem.id)).toEqual(['first']);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await decide()).ads[0].lineItemId).toBe('first');
  });
});
