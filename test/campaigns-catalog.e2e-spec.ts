import { CATALOG_CHANGED_CHANNEL, CatalogLineItem, DeliveryCatalogService } from '@app/campaigns';
import { PlatformConfig, RedisService, mysqlOptions } from '@app/platform';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { e2eConfig } from './support/e2e-config';
import { http } from './support/http';
import { waitFor } from './support/processes';
import {
  approveCreative,
  createAdvertiser,
  createCampaign,
  createCreative,
  createLineItem,
  createServingLineItem,
  expectStatus,
  inDays,
  inSeconds,
} from './support/campaign-fixtures';

/**
 * The read side delivery depends on (DeliveryCatalogService against the test database and Redis),
 * change notification, and automatic completion by the worker process.
 */
const config = e2eConfig(PlatformConfig);

let dataSource: DataSource;
let redis: RedisService;
let catalog: DeliveryCatalogService;

beforeAll(async () => {
  dataSource = await new DataSource({ ...mysqlOptions(config), extra: { connectionLimit: 2 } }).initialize();
  redis = new RedisService(config);
  catalog = new DeliveryCatalogService(dataSource, redis);
});

afterAll(async () => {
  await redis.onApplicationShutdown();
  await dataSource.destroy();
});

async function catalogItem(id: string): Promise<CatalogLineItem | undefined> {
  return (await catalog.load()).lineItems.find((li) => li.id === id);
}

describe('DeliveryCatalogService', () => {
  it('loads a serving line item with every field, approved creatives only, and the advertiser timezone and currency', async () => {
    const advertiser = await createAdvertiser({ currency: 'EUR', timezone: 'Europe/Berlin' });
    const campaign = await createCampaign(advertiser.id, { startAt: inDays(-1), endAt: inDays(10), budgetMicros: 9_000_000_000 });
    const approved = await createCreative(advertiser.id, { companionImageUrl: 'https://cdn.example.com/c.png' });
    const rejected = await createCreative(advertiser.id, { name: 'Rejected' });
    await approveCreative(approved.id);
    expectStatus(await http('POST', `/v1/creatives/${rejected.id}/review`, { body: { decision: 'rejected' } }), 200);
    const targeting = { countries: ['DE'], platforms: ['web'], dayparts: [{ days: [1, 2], startHour: 7, endHour: 9 }] };
    const li = await createLineItem(campaign.id, {
      pricingModel: 'CPCL',
      rateMicros: 40_000,
      budgetMicros: 2_000_000_000,
      dailyBudgetMicros: 100_000_000,
      pacing: 'ASAP',
      priority: 4,
      endAt: inDays(5),
      frequencyCaps: [{ maxImpressions: 2, periodSeconds: 86_400 }],
      targeting,
      creativeIds: [approved.id, rejected.id],
      creativeWeights: { [approved.id]: 7 },
    });
    expect(await catalogItem(li.id)).toBeUndefined();
    expectStatus(await http('POST', `/v1/line-items/${li.id}/activate`), 200);
    expect(await catalogItem(li.id)).toBeUndefined();
    expectStatus(await http('POST', `/v1/campaigns/${campaign.id}/activate`), 200);

    const item = await catalogItem(li.id);
    expect(item).toEqual({
      id: li.id,
      name: li.name,
      campaignId: campaign.id,
      advertiserId: advertiser.id,
      timezone: 'Europe/Berlin',
      currency: 'EUR',
      pricingModel: 'CPCL',
      rateMicros: 40_000,
      budgetMicros: 2_000_000_000,
      dailyBudgetMicros: 100_000_000,
      campaignBudgetMicros: 9_000_000_000,
      pacing: 'ASAP',
      priority: 4,
      startAt: Date.parse(campaign.startAt as string),
      endAt: Date.parse(li.endAt as string),
      frequencyCaps: [{ maxImpressions: 2, periodSeconds: 86_400 }],
      targeting,
      creatives: [
        {
          id: approved.id,
          format: 'audio',
          mediaUrl: approved.mediaUrl,
          mimeType: 'audio/mpeg',
          durationSeconds: 30,
          clickThroughUrl: approved.clickThroughUrl,
          companionImageUrl: 'https://cdn.example.com/c.png',
          weight: 7,
          approvedVersion: 1,
        },
      ],
      version: expect.any(Number),
    });

    // The per-line-item version moves with the line item, its campaign and its creatives.
    const v1 = item!.version;
    expectStatus(await http('PATCH', `/v1/campaigns/${campaign.id}`, { body: { budgetMicros: 8_000_000_000 } }), 200);
    const v2 = (await catalogItem(li.id))!.version;
    expect(v2).not.toBe(v1);
    expectStatus(await http('PATCH', `/v1/creatives/${approved.id}`, { body: { name: 'renamed' } }), 200);
    expect((await catalogItem(li.id))!.version).not.toBe(v2);
  });

  it('leaves out what cannot serve: paused, no approved creative, campaign paused or archived, flight over', async () => {
    const paused = await createServingLineItem();
    expect(await catalogItem(paused.lineItem.id)).toBeDefined();
    expectStatus(await http('POST', `/v1/line-items/${paused.lineItem.id}/pause`), 200);
    expect(await catalogItem(paused.lineItem.id)).toBeUndefined();

    const unapproved = await createServingLineItem();
    expectStatus(await http('PATCH', `/v1/creatives/${unapproved.creative.id}`, { body: { mediaUrl: 'https://cdn.example.com/new.mp3' } }), 200);
    expect(await catalogItem(unapproved.lineItem.id)).toBeUndefined();
    expect((await http('GET', `/v1/line-items/${unapproved.lineItem.id}`)).body.status).toBe('active');

    const campaignPaused = await createServingLineItem();
    expectStatus(await http('POST', `/v1/campaigns/${campaignPaused.campaign.id}/pause`), 200);
    expect(await catalogItem(campaignPaused.lineItem.id)).toBeUndefined();
    expectStatus(await http('POST', `/v1/campaigns/${campaignPaused.campaign.id}/activate`), 200);
    expect(await catalogItem(campaignPaused.lineItem.id)).toBeDefined();
    expectStatus(await http('POST', `/v1/campaigns/${campaignPaused.campaign.id}/archive`), 200);
    expect(await catalogItem(campaignPaused.lineItem.id)).toBeUndefined();

    const ending = await createServingLineItem();
    const endAt = Date.parse(ending.lineItem.endAt as string);
    expect((await catalog.load(new Date(endAt - 1))).lineItems.some((li) => li.id === ending.lineItem.id)).toBe(true);
    expect((await catalog.load(new Date(endAt))).lineItems.some((li) => li.id === ending.lineItem.id)).toBe(false);
  });

  it('announces every delivery-affecting change on the catalog channel and moves version()', async () => {
    const { lineItem, creative, campaign } = await createServingLineItem();
    const messages: Array<{ entity: string; ids: string[]; counter: number }> = [];
    await redis.subscribe(CATALOG_CHANGED_CHANNEL, (m) => messages.push(JSON.parse(m)));

    const changes: Array<[string, string, unknown, string, string]> = [
      ['PATCH', `/v1/line-items/${lineItem.id}`, { targeting: { countries: ['FR'] } }, 'line_item', lineItem.id],
      ['POST', `/v1/line-items/${lineItem.id}/pause`, undefined, 'line_item', lineItem.id],
      ['PATCH', `/v1/campaigns/${campaign.id}`, { endAt: inDays(40) }, 'campaign', campaign.id],
      ['POST', `/v1/creatives/${creative.id}/review`, { decision: 'rejected' }, 'creative', creative.id],
    ];
    for (const [method, path, body, entity, id] of changes) {
      const before = await catalog.version();
      const sent = Date.now();
      expectStatus(await http(method, path, { body }), 200);
      const message = await waitFor(async () => messages.find((m) => m.entity === entity && m.ids.includes(id)), 1000, `${entity} change message`, 10);
      expect(Date.now() - sent).toBeLessThan(1000);
      expect(message.counter).toEqual(expect.any(Number));
      expect(await catalog.version()).not.toBe(before);
      messages.length = 0;
    }
  });

  it('still moves version() from MySQL when the Redis counter is gone', async () => {
    const { lineItem } = await createServingLineItem();
    await redis.client.del(redis.key('catalog', 'version'));
    const before = await catalog.version();
    await new Promise((r) => setTimeout(r, 5));
    await dataSource.query('UPDATE line_items SET updated_at = ? WHERE id = ?', [new Date(), lineItem.id]);
    expect(await catalog.version()).not.toBe(before);
  });
});

describe('automatic completion (worker)', () => {
  it('registers the 30 s completion sweep in the maintenance queue', async () => {
    const queue = new Queue('maintenance', { connection: { url: config.REDIS_URL } as never, prefix: config.QUEUE_PREFIX });
    try {
      const scheduler = await waitFor(() => queue.getJobScheduler('campaigns.complete-expired'), 10000, 'the completion job scheduler');
      expect(Number(scheduler.every)).toBe(30_000);
    } finally {
      await queue.close();
    }
  });

  it('completes campaigns and line items whose flight ended, and drops them from the catalog', async () => {
    const short = await createServingLineItem({ campaign: { startAt: inDays(-1), endAt: inSeconds(3) } });
    const long = await createServingLineItem();
    const shortLine = await createLineItem(long.campaign.id, { endAt: inSeconds(2), creativeIds: [long.creative.id] });
    expectStatus(await http('POST', `/v1/line-items/${shortLine.id}/activate`), 200);

    await waitFor(async () => (await http('GET', `/v1/campaigns/${short.campaign.id}`)).body.status === 'completed', 20000, 'the short campaign to complete');
    await waitFor(async () => (await http('GET', `/v1/line-items/${shortLine.id}`)).body.status === 'completed', 20000, 'the short line item to complete');
    const campaign = (await http('GET', `/v1/campaigns/${short.campaign.id}`)).body;
    expect(campaign.updatedBy).toBe('system');
    const lineItem = (await http('GET', `/v1/line-items/${short.lineItem.id}`)).body;
    expect(lineItem).toMatchObject({ status: 'completed', updatedBy: 'system' });
    expect((await http('GET', `/v1/campaigns/${long.campaign.id}`)).body.status).toBe('active');
    expect((await http('GET', `/v1/line-items/${long.lineItem.id}`)).body.status).toBe('active');

    const reactivate = await http('POST', `/v1/line-items/${shortLine.id}/activate`);
    expect(reactivate.status).toBe(409);
    expect(reactivate.body.reasons).toEqual(expect.arrayContaining(['line item is completed']));
    const ids = (await catalog.load()).lineItems.map((li) => li.id);
    expect(ids).toContain(long.lineItem.id);
    expect(ids).not.toContain(short.lineItem.id);
    expect(ids).not.toContain(shortLine.id);
    expect(expectStatus(await http('POST', `/v1/campaigns/${short.campaign.id}/archive`), 200).body.status).toBe('archived');
  });
});
