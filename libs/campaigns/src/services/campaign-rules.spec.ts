import type { Principal } from '@app/platform';
import { BadRequestException, ConflictException, HttpException, NotFoundException, PreconditionFailedException } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { inMemoryCampaignsStore } from '../../../../test/support/in-memory-campaigns-store';
import type { CreateLineItemDto } from '../dto/line-item.dto';
import { AdvertisersService } from './advertisers.service';
import { CampaignsService } from './campaigns.service';
import type { CatalogNotifier } from './catalog-notifier.service';
import type { CompletionService } from './completion.service';
import { CreativesService } from './creatives.service';
import { DeliveryStateService } from './delivery-state.service';
import { LineItemsService, toTargeting } from './line-items.service';

/**
 * The campaign rules, run through the services on in-memory repositories: no HTTP, no MySQL (the
 * repositories' SQL is covered on MariaDB by test/campaigns*.e2e-spec.ts).
 */
const ADMIN: Principal = { kind: 'admin', keyId: 'admin' };
const DAY = 86_400_000;
const future = (days: number) => new Date(Date.now() + days * DAY).toISOString();

function setup() {
  const store = inMemoryCampaignsStore();
  const changed: string[] = [];
  const scheduled: Date[] = [];
  const notifier = { changed: async (kind: string, ids: string[]) => void changed.push(...ids.map((id) => `${kind}:${id}`)) } as unknown as CatalogNotifier;
  const completion = { scheduleAt: async (at: Date) => void scheduled.push(at) } as unknown as CompletionService;
  // No spend provider: delivery states from flight and status alone.
  const states = new DeliveryStateService({ get: () => { throw new Error('no SPEND_STATE') } } as unknown as ModuleRef);
  const advertisers = new AdvertisersService(store, notifier);
  const campaigns = new CampaignsService(store, notifier, completion, states);
  const creatives = new CreativesService(store, notifier);
  const lineItems = new LineItemsService(store, notifier, completion, states);
  return { store, changed, scheduled, advertisers, campaigns, creatives, lineItems };
}

type Services = ReturnType<typeof setup>;

async function world(s: Services, campaign: { budgetMicros?: number } = {}) {
  const advertiser = await s.advertisers.create({ name: 'Acme' }, ADMIN);
  const owner: Principal = { kind: 'advertiser', keyId: 'k1', advertiserId: advertiser.id };
  const c = await s.campaigns.create({ advertiserId: advertiser.id, name: 'Winter', startAt: future(1), endAt: future(31), budgetMicros: campaign.budgetMicros ?? 10_000_000_000 }, owner);
  const creative = await s.creatives.create(
    { advertiserId: advertiser.id, name: 'Spot', format: 'audio', mediaUrl: 'https://cdn.example.com/a.mp3', mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://example.com' },
    owner,
  );
  return { advertiser, owner, campaign: c, creative };
}

const lineItem = (campaignId: string, extra: Partial<CreateLineItemDto> = {}): CreateLineItemDto => ({ campaignId, name: 'Drive time', pricingModel: 'CPM', rateMicros: 12_500_000, budgetMicros: 1_000_000_000, ...extra });

/** The status and the `details` field names of what `work` throws. */
async function refusal(work: Promise<unknown>): Promise<{ status: number; fields: string[]; message: string }> {
  try {
    await work;
  } catch (err) {
    if (!(err instanceof HttpException)) throw err;
    const body = err.getResponse() as { message?: string; details?: Array<{ field: string }> } | string;
    const message = typeof body === 'string' ? body : String(body.message);
    return { status: err.getStatus(), fields: typeof body === 'string' ? [] : (body.details ?? []).map((d) => d.field), message };
  }
  throw new Error('expected a refusal');
}

describe('line item rules', () => {
  it('keeps its own flight inside the campaign flight, naming the field', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { startAt: future(0.5) }), owner))).toMatchObject({ status: 400, fields: ['startAt'] });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { startAt: future(31) }), owner))).toMatchObject({ status: 400, fields: ['startAt'] });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { endAt: future(32) }), owner))).toMatchObject({ status: 400, fields: ['endAt'] });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { startAt: future(10), endAt: future(5) }), owner))).toMatchObject({ status: 400, fields: ['endAt'] });
    const [startAt, endAt] = [future(2), future(30)];
    const inside = await s.lineItems.create(lineItem(campaign.id, { startAt, endAt }), owner);
    expect(inside).toMatchObject({ ownStartAt: startAt, ownEndAt: endAt, startAt, endAt, status: 'draft' });
    expect(s.store.memory.lineItemTable.rows.size).toBe(1);
  });

  it('shows the campaign flight when it has none of its own', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    const li = await s.lineItems.create(lineItem(campaign.id), owner);
    expect({ startAt: li.startAt, endAt: li.endAt, ownStartAt: li.ownStartAt, ownEndAt: li.ownEndAt }).toEqual({ startAt: campaign.startAt, endAt: campaign.endAt, ownStartAt: null, ownEndAt: null });
  });

  it('keeps budgets under the campaign budget and the daily budget under the total', async () => {
    const s = setup();
    const { owner, campaign } = await world(s, { budgetMicros: 2_000_000_000 });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { budgetMicros: 2_000_000_001 }), owner))).toMatchObject({ status: 400, fields: ['budgetMicros'] });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { dailyBudgetMicros: 1_000_000_001 }), owner))).toMatchObject({ status: 400, fields: ['dailyBudgetMicros'] });
    const li = await s.lineItems.create(lineItem(campaign.id, { budgetMicros: 2_000_000_000, dailyBudgetMicros: 100_000_000 }), owner);
    expect(await refusal(s.lineItems.update(li.id, { dailyBudgetMicros: 2_000_000_001 }, undefined, owner))).toMatchObject({ status: 400, fields: ['dailyBudgetMicros'] });
    expect(s.store.memory.lineItemTable.rows.get(li.id)!.dailyBudgetMicros).toBe(100_000_000);
  });

  it('assigns only creatives of its advertiser (404) and of its format (400), weights only for assigned ones', async () => {
    const s = setup();
    const { owner, campaign, creative } = await world(s);
    const other = await world(s);
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { creativeIds: [other.creative.id] }), owner))).toMatchObject({ status: 404 });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { format: 'video', creativeIds: [creative.id] }), owner))).toMatchObject({ status: 400, fields: ['creativeIds'] });
    expect(await refusal(s.lineItems.create(lineItem(campaign.id, { creativeIds: [], creativeWeights: { [creative.id]: 2 } }), owner))).toMatchObject({ status: 400, fields: ['creativeWeights'] });
    const li = await s.lineItems.create(lineItem(campaign.id, { creativeIds: [creative.id], creativeWeights: { [creative.id]: 3 } }), owner);
    expect(li.creatives).toEqual([{ creativeId: creative.id, weight: 3, status: 'pending_review' }]);
    // Changing the format re-checks the kept assignments.
    expect(await refusal(s.lineItems.update(li.id, { format: 'display' }, undefined, owner))).toMatchObject({ status: 400, fields: ['creativeIds'] });
  });

  it('activates only with an approved creative of its format and a live flight, listing every problem', async () => {
    const s = setup();
    const { owner, campaign, creative } = await world(s);
    const li = await s.lineItems.create(lineItem(campaign.id, { creativeIds: [creative.id] }), owner);
    const blocked = await refusal(s.lineItems.changeStatus(li.id, 'activate', undefined, owner));
    expect(blocked).toMatchObject({ status: 409 });
    expect(blocked.message).toMatch(/no approved creative assigned/);
    await s.creatives.review(creative.id, { decision: 'approved' }, undefined, ADMIN);
    const active = await s.lineItems.changeStatus(li.id, 'activate', undefined, owner);
    expect(active.status).toBe('active');
    expect(s.scheduled.map((d) => d.toISOString())).toEqual([campaign.endAt]);
    // Activating again changes nothing (a retried request succeeds); pausing a draft is refused.
    expect((await s.lineItems.changeStatus(li.id, 'activate', undefined, owner)).version).toBe(active.version);
    const draft = await s.lineItems.create(lineItem(campaign.id), owner);
    expect(await refusal(s.lineItems.changeStatus(draft.id, 'pause', undefined, owner))).toMatchObject({ status: 409 });
  });

  it('refuses new line items on an archived campaign and changes to an archived line item', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    const li = await s.lineItems.create(lineItem(campaign.id), owner);
    await s.lineItems.changeStatus(li.id, 'archive', undefined, owner);
    expect(await refusal(s.lineItems.update(li.id, { name: 'again' }, undefined, owner))).toMatchObject({ status: 409 });
    await s.campaigns.changeStatus(campaign.id, 'archive', undefined, owner);
    expect(await refusal(s.lineItems.create(lineItem(campaign.id), owner))).toMatchObject({ status: 409 });
  });

  it('stores targeting normalised: keywords and genres lower-cased and trimmed, regions upper-cased, days sorted', () => {
    expect(
      toTargeting({ countries: ['US'], regions: ['ca', 'CA'], genres: [' Rock ', 'rock'], keywords: { any: ['Jazz'], none: [] }, dayparts: [{ days: [5, 1, 3], startHour: 6, endHour: 10 }] }),
    ).toEqual({ countries: ['US'], regions: ['CA'], genres: ['rock'], keywords: { any: ['jazz'], none: [] }, dayparts: [{ days: [1, 3, 5], startHour: 6, endHour: 10 }] });
    expect(toTargeting(undefined)).toEqual({});
  });
});

describe('campaign rules', () => {
  it('keeps the flight ordered and every line item inside a new flight and budget', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    const li = await s.lineItems.create(lineItem(campaign.id, { startAt: future(5), endAt: future(20), budgetMicros: 3_000_000_000 }), owner);
    expect(await refusal(s.campaigns.update(campaign.id, { endAt: future(0.5) }, undefined, owner))).toMatchObject({ status: 400, fields: ['endAt'] });
    const early = await refusal(s.campaigns.update(campaign.id, { startAt: future(6) }, undefined, owner));
    expect(early).toMatchObject({ status: 400, fields: ['startAt'] });
    expect(early.message).toContain(li.id);
    expect(await refusal(s.campaigns.update(campaign.id, { endAt: future(19) }, undefined, owner))).toMatchObject({ status: 400, fields: ['endAt'] });
    expect(await refusal(s.campaigns.update(campaign.id, { budgetMicros: 2_999_999_999 }, undefined, owner))).toMatchObject({ status: 400, fields: ['budgetMicros'] });
    const moved = await s.campaigns.update(campaign.id, { startAt: future(4), endAt: future(21), budgetMicros: 3_000_000_000 }, undefined, owner);
    expect(moved.version).toBe(campaign.version + 1);
  });

  it('activates only from draft or paused and before its flight ends', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    expect((await s.campaigns.changeStatus(campaign.id, 'activate', undefined, owner)).status).toBe('active');
    expect((await s.campaigns.changeStatus(campaign.id, 'pause', undefined, owner)).status).toBe('paused');
    await s.campaigns.changeStatus(campaign.id, 'archive', undefined, owner);
    const refused = await refusal(s.campaigns.changeStatus(campaign.id, 'activate', undefined, owner));
    expect(refused).toMatchObject({ status: 409 });
    expect(refused.message).toMatch(/campaign is archived/);
  });

  it('hides other tenants (404) and honours If-Match (412) and concurrent writes (409)', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    const stranger: Principal = { kind: 'advertiser', keyId: 'k2', advertiserId: (await world(s)).advertiser.id };
    await expect(s.campaigns.get(campaign.id, stranger)).rejects.toBeInstanceOf(NotFoundException);
    await expect(s.campaigns.get('not-an-id', ADMIN)).rejects.toBeInstanceOf(NotFoundException);
    await expect(s.campaigns.update(campaign.id, { name: 'x' }, 'W/"7"', owner)).rejects.toBeInstanceOf(PreconditionFailedException);
    s.store.memory.campaignTable.concurrentWrite = true;
    await expect(s.campaigns.update(campaign.id, { name: 'x' }, undefined, owner)).rejects.toBeInstanceOf(ConflictException);
    expect(s.store.memory.campaignTable.rows.get(campaign.id)!.name).toBe('Winter');
  });

  it('lists only the caller’s campaigns, by id descending (newest first), a page at a time', async () => {
    const s = setup();
    const { owner, advertiser, campaign } = await world(s);
    await world(s);
    const second = await s.campaigns.create({ advertiserId: advertiser.id, name: 'Spring', startAt: future(1), endAt: future(2) }, owner);
    const page = await s.campaigns.list({ limit: 1 }, owner);
    const rest = await s.campaigns.list({ limit: 1, cursor: page.next! }, owner);
    expect([...page.data, ...rest.data].map((c) => c.id)).toEqual([campaign.id, second.id].sort().reverse());
    expect(rest.next).toBeNull();
    expect((await s.campaigns.list({}, ADMIN)).data).toHaveLength(3);
  });
});

describe('creative and advertiser rules', () => {
  it('puts a creative back in review when what the listener gets changes, not for its name', async () => {
    const s = setup();
    const { owner, creative } = await world(s);
    await s.creatives.review(creative.id, { decision: 'approved' }, undefined, ADMIN);
    expect((await s.creatives.update(creative.id, { name: 'Renamed' }, undefined, owner)).status).toBe('approved');
    const edited = await s.creatives.update(creative.id, { mediaUrl: 'https://cdn.example.com/b.mp3' }, undefined, owner);
    expect(edited).toMatchObject({ status: 'pending_review', reviewedAt: null, reviewedBy: null });
    expect(await refusal(s.creatives.update(creative.id, { mimeType: 'video/mp4' }, undefined, owner))).toMatchObject({ status: 400, fields: ['mimeType'] });
  });

  it('keeps one approved version per distinct approved content', async () => {
    const s = setup();
    const { owner, creative } = await world(s);
    await s.creatives.review(creative.id, { decision: 'approved' }, undefined, ADMIN);
    await s.creatives.review(creative.id, { decision: 'approved' }, undefined, ADMIN);
    await s.creatives.update(creative.id, { clickThroughUrl: 'https://example.com/sale' }, undefined, owner);
    await s.creatives.review(creative.id, { decision: 'rejected', note: 'misleading' }, undefined, ADMIN);
    await s.creatives.review(creative.id, { decision: 'approved' }, undefined, ADMIN);
    expect(s.store.memory.approved.get(creative.id)!.map((v) => [v.version, v.clickThroughUrl])).toEqual([
      [1, 'https://example.com'],
      [2, 'https://example.com/sale'],
    ]);
  });

  it('refuses a currency change once campaigns are priced in it, and nothing is written', async () => {
    const s = setup();
    const { owner, advertiser } = await world(s);
    expect(await refusal(s.advertisers.update(advertiser.id, { currency: 'EUR', name: 'Acme EU' }, undefined, owner))).toMatchObject({ status: 409 });
    expect(s.store.memory.advertiserTable.rows.get(advertiser.id)).toMatchObject({ currency: 'USD', name: 'Acme', version: 1 });
    const fresh = await s.advertisers.create({ name: 'New' }, ADMIN);
    expect((await s.advertisers.update(fresh.id, { currency: 'EUR' }, undefined, ADMIN)).currency).toBe('EUR');
  });

  it('lets an advertiser key see its own advertiser only', async () => {
    const s = setup();
    const { owner, advertiser } = await world(s);
    const other = await s.advertisers.create({ name: 'Other' }, ADMIN);
    expect((await s.advertisers.list({}, owner)).data.map((a) => a.id)).toEqual([advertiser.id]);
    await expect(s.advertisers.get(other.id, owner)).rejects.toBeInstanceOf(NotFoundException);
    await expect(s.creatives.create({ advertiserId: other.id, name: 'x', format: 'audio', mediaUrl: 'https://a.example/x.mp3', mimeType: 'audio/mpeg', durationSeconds: 5, clickThroughUrl: 'https://a.example' }, owner)).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it('answers invalid input in the one 400 shape', async () => {
    const s = setup();
    const { owner, campaign } = await world(s);
    const err = await s.lineItems.create(lineItem(campaign.id, { startAt: future(40) }), owner).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestException);
    expect((err as BadRequestException).getResponse()).toEqual({ message: expect.stringMatching(/^startAt: must be before the campaign end/), details: [{ field: 'startAt', problems: [expect.any(String)] }] });
  });
});
