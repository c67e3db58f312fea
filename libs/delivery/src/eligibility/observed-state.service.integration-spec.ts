import type { CatalogLineItem, DeliveryCatalog } from '@app/campaigns';
import type { RedisService } from '@app/platform';
import { Logger } from '@nestjs/common';
import { DeliveryLedger, ManualClock } from '@app/delivery-ledger';
import { testRedis } from '../../../../test/support/test-redis';
import { CatalogSource } from './catalog-source';
import { EligibilityIndexService } from './eligibility-index.service';
import { ObservedStateService } from './observed-state.service';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
Logger.overrideLogger(['error']);

function lineItem(i: number): CatalogLineItem {
  return {
    id: `li-${i}`, name: `li ${i}`, campaignId: `cp-${i % 7}`, advertiserId: 'adv', timezone: 'UTC', currency: 'USD',
    pricingModel: 'CPC', rateMicros: 1_000_000, budgetMicros: 1e9, dailyBudgetMicros: null, campaignBudgetMicros: null,
    pacing: 'ASAP', priority: 8, startAt: T0 - 3_600_000, endAt: T0 + 3_600_000, frequencyCaps: [], targeting: {},
    creatives: [{ id: `cr-${i}`, format: 'audio', mediaUrl: 'https://cdn.example.com/a.mp3', mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://example.com', companionImageUrl: null, weight: 1, approvedVersion: 1 }],
    version: 1,
  };
}

class FixedCatalog extends CatalogSource {
  constructor(public items: CatalogLineItem[]) {
    super();
  }
  async load(): Promise<DeliveryCatalog> {
    return { loadedAt: T0, lineItems: this.items };
  }
  async version(): Promise<number> {
    return 1;
  }
}

describe('ObservedStateService (real Redis)', () => {
  let redis: RedisService & { cleanup(): Promise<void> };
  let counters: DeliveryLedger;

  beforeEach(async () => {
    redis = await testRedis();
    counters = new DeliveryLedger(redis, new ManualClock(T0));
    await counters.whenReady();
  });

  afterEach(async () => {
    counters.onApplicationShutdown();
    await redis.cleanup();
  });

  it('reads the counts of every indexed line item and campaign, however many slices the catalog takes', async () => {
    const items = Array.from({ length: 450 }, (_, i) => lineItem(i));
    const index = new EligibilityIndexService(new FixedCatalog(items), redis, new ManualClock(T0));
    await index.reload();
    for (const i of [0, 199, 200, 449]) {
      await redis.client.hset(counters.keys.lineItem(`li-${i}`), 'spent', 1000 + i, 'imps', 100 + i, 'clicks', i);
    }
    await redis.client.hset(counters.keys.campaign('cp-3'), 'spent', 777, 'res', 5);

    const observed = new ObservedStateService(counters, index);
    await observed.refresh();

    for (const i of [0, 199, 200, 449]) {
      expect(observed.lineItem(`li-${i}`)).toMatchObject({ spentMilliMicros: 1000 + i, impressions: 100 + i, clicks: i });
    }
    expect(observed.lineItem('li-300')).toEqual({ spentMilliMicros: 0, spentTodayMilliMicros: 0, reservedMilliMicros: 0, impressions: 0, clicks: 0, completes: 0 });
    expect(observed.lineItem('li-450')).toBeUndefined();
    expect(observed.campaign('cp-3')).toEqual({ spentMilliMicros: 777, reservedMilliMicros: 5 });
    // Observed click rates feed ranking: the line item with clicks now ranks above one without.
    expect(index.snapshot!.ranked[0].lineItem.id).toBe('li-449');
  });

  it('updates its copy in place on each refresh and forgets line items and campaigns that left the index', async () => {
    const catalog = new FixedCatalog([lineItem(1), lineItem(2)]);
    const index = new EligibilityIndexService(catalog, redis, new ManualClock(T0));
    await index.reload();
    const observed = new ObservedStateService(counters, index);
    await observed.refresh();
    const first = observed.lineItem('li-1');
    expect(first).toMatchObject({ spentMilliMicros: 0 });

    await redis.client.hset(counters.keys.lineItem('li-1'), 'spent', 42, 'res', 7);
    await redis.client.hset(counters.keys.campaign('cp-1'), 'spent', 99);
    await observed.refresh();
    // The same object, with the new values: nothing long-lived is reallocated per refresh.
    expect(observed.lineItem('li-1')).toBe(first);
    expect(first).toMatchObject({ spentMilliMicros: 42, reservedMilliMicros: 7 });
    expect(observed.campaign('cp-1')).toMatchObject({ spentMilliMicros: 99 });

    catalog.items = [lineItem(2), lineItem(3)];
    await index.reload();
    await observed.refresh();
    expect(observed.lineItem('li-1')).toBeUndefined();
    expect(observed.campaign('cp-1')).toBeUndefined();
    expect(observed.lineItem('li-3')).toMatchObject({ spentMilliMicros: 0 });
    expect(observed.campaign('cp-3')).toBeDefined();
  });
});
