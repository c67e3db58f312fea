import { Page, Principal, actorOf, invalidField, mapPage, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import type { CatalogTargeting } from '../catalog/delivery-catalog.types';
import type { CreativeFormat } from '../domain/enums';
import { CreateLineItemDto, LineItemDto, LineItemListQueryDto, UpdateLineItemDto } from '../dto/line-item.dto';
import type { FrequencyCapDto, TargetingDto } from '../dto/targeting.dto';
import { CampaignEntity } from '../entities/campaign.entity';
import { FrequencyCap, LineItemEntity } from '../entities/line-item.entity';
import { cannotActivate, checkIfMatch, isId, notFound } from '../http/errors';
import { CampaignRepositories, CampaignsStore } from '../repositories/campaigns.store';
import type { Assignment } from '../repositories/line-item.repository';
import { StatusAction, lineItemActivationProblems, transition } from '../status/status-machine';
import { auditOf, iso, isoOrNull, newAudit } from './audit-fields';
import { CatalogNotifier } from './catalog-notifier.service';
import { CompletionService } from './completion.service';
import { DeliveryStateService } from './delivery-state.service';
import { findVisible } from './visible';

@Injectable()
export class LineItemsService {
  constructor(
    private readonly store: CampaignsStore,
    private readonly notifier: CatalogNotifier,
    private readonly completion: CompletionService,
    private readonly deliveryStates: DeliveryStateService,
  ) {}

  async create(dto: CreateLineItemDto, principal: Principal): Promise<LineItemDto> {
    const id = uuidv7();
    await this.store.transaction(async (repos) => {
      // Share lock: the campaign's flight and budget cannot change until this line item is in.
      const campaign = await findVisible('campaign', dto.campaignId, repos.campaigns.findOwned(dto.campaignId, scopeOf(principal), 'share'));
      if (campaign.status === 'archived' || campaign.status === 'completed') {
        throw new ConflictException(`campaign ${campaign.id} is ${campaign.status}: it takes no new line items`);
      }
      const startAt = dto.startAt ? new Date(dto.startAt) : null;
      const endAt = dto.endAt ? new Date(dto.endAt) : null;
      checkFlight(campaign, startAt, endAt);
      checkBudgets(campaign, dto.budgetMicros, dto.dailyBudgetMicros ?? null);
      const format = dto.format ?? 'audio';
      const assignments = await resolveAssignments(repos, campaign.advertiserId, format, dto.creativeIds ?? [], dto.creativeWeights);
      const audit = newAudit(actorOf(principal), new Date());
      await repos.lineItems.insert({
        id,
        campaignId: campaign.id,
        advertiserId: campaign.advertiserId,
        name: dto.name,
        format,
        pricingModel: dto.pricingModel,
        rateMicros: dto.rateMicros,
        budgetMicros: dto.budgetMicros,
        dailyBudgetMicros: dto.dailyBudgetMicros ?? null,
        pacing: dto.pacing ?? 'EVEN',
        priority: dto.priority ?? 8,
        startAt,
        endAt,
        frequencyCaps: toCaps(dto.frequencyCaps ?? []),
        targeting: toTargeting(dto.targeting),
        status: 'draft',
        ...audit,
      });
      await repos.lineItems.assign(id, assignments, audit);
    });
    await this.notifier.changed('line_item', [id]);
    return this.get(id, principal);
  }

  async list(query: LineItemListQueryDto, principal: Principal): Promise<Page<LineItemDto>> {
    const page = await this.store.repos.lineItems.page(query, scopeOf(principal), { campaign_id: query.campaignId, status: query.status });
    const dtos = await this.toDtos(this.store.repos, page.data);
    return mapPage(page, () => dtos);
  }

  async get(id: string, principal: Principal): Promise<LineItemDto> {
    const { repos } = this.store;
    const row = await findVisible('line item', id, repos.lineItems.findOwned(id, scopeOf(principal)));
    return (await this.toDtos(repos, [row]))[0];
  }

  async update(id: string, dto: UpdateLineItemDto, ifMatch: string | undefined, principal: Principal): Promise<LineItemDto> {
    const effectiveEnd = await this.store.transaction(async (repos) => {
      const current = await findVisible('line item', id, repos.lineItems.findOwned(id, scopeOf(principal)));
      checkIfMatch(ifMatch, 'line item', id, current.version);
      if (current.status === 'archived') throw new ConflictException(`line item ${id} is archived and cannot change`);
      const campaign = await findVisible('campaign', current.campaignId, repos.campaigns.findOwned(current.campaignId, undefined, 'share'));

      const startAt = dto.startAt !== undefined ? (dto.startAt === null ? null : new Date(dto.startAt)) : current.startAt;
      const endAt = dto.endAt !== undefined ? (dto.endAt === null ? null : new Date(dto.endAt)) : current.endAt;
      checkFlight(campaign, startAt, endAt);
      const budgetMicros = dto.budgetMicros ?? current.budgetMicros;
      const dailyBudgetMicros = dto.dailyBudgetMicros !== undefined ? dto.dailyBudgetMicros : current.dailyBudgetMicros;
      checkBudgets(campaign, budgetMicros, dailyBudgetMicros);

      const format = dto.format ?? current.format;
      let assignments: Assignment[] | undefined;
      if (dto.creativeIds !== undefined || dto.creativeWeights !== undefined || format !== current.format) {
        const existing = await repos.lineItems.assignments(id);
        const ids = dto.creativeIds ?? existing.map((a) => a.creativeId);
        const weights = dto.creativeWeights ?? (dto.creativeIds === undefined ? Object.fromEntries(existing.map((a) => [a.creativeId, a.weight])) : undefined);
        assignments = await resolveAssignments(repos, current.advertiserId, format, ids, weights);
      }

      const patch: Partial<LineItemEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.format !== undefined) patch.format = dto.format;
      if (dto.pricingModel !== undefined) patch.pricingModel = dto.pricingModel;
      if (dto.rateMicros !== undefined) patch.rateMicros = dto.rateMicros;
      if (dto.budgetMicros !== undefined) patch.budgetMicros = dto.budgetMicros;
      if (dto.dailyBudgetMicros !== undefined) patch.dailyBudgetMicros = dto.dailyBudgetMicros;
      if (dto.pacing !== undefined) patch.pacing = dto.pacing;
      if (dto.priority !== undefined) patch.priority = dto.priority;
      if (dto.startAt !== undefined) patch.startAt = startAt;
      if (dto.endAt !== undefined) patch.endAt = endAt;
      if (dto.frequencyCaps !== undefined) patch.frequencyCaps = toCaps(dto.frequencyCaps);
      if (dto.targeting !== undefined) patch.targeting = toTargeting(dto.targeting);
      const now = new Date();
      const actor = actorOf(principal);
      await repos.lineItems.updateVersioned('line item', id, current.version, patch, actor, now);
      if (assignments) await repos.lineItems.replaceAssignments(id, assignments, newAudit(actor, now));
      return current.status === 'active' ? (endAt ?? campaign.endAt) : null;
    });
    await this.notifier.changed('line_item', [id]);
    if (effectiveEnd) await this.completion.scheduleAt(effectiveEnd);
    return this.get(id, principal);
  }

  async changeStatus(id: string, action: Exclude<StatusAction, 'complete'>, ifMatch: string | undefined, principal: Principal): Promise<LineItemDto> {
    const result = await this.store.transaction(async (repos) => {
      const current = await findVisible('line item', id, repos.lineItems.findOwned(id, scopeOf(principal), 'update'));
      checkIfMatch(ifMatch, 'line item', id, current.version);
      const campaign = await findVisible('campaign', current.campaignId, repos.campaigns.findOwned(current.campaignId, undefined, 'share'));
      const effectiveEndAt = current.endAt ?? campaign.endAt;
      if (action === 'activate') {
        const approvedCreativeCount = await repos.lineItems.countApprovedCreatives(current.id, current.format);
        const problems = lineItemActivationProblems({ status: current.status, budgetMicros: current.budgetMicros, effectiveEndAt, approvedCreativeCount, campaign }, new Date());
        if (problems.length > 0) throw cannotActivate(problems);
      }
      const move = transition(current.status, action);
      if (!move.ok) throw new ConflictException(`cannot ${action} line item ${id}: it is ${current.status}`);
      if (move.changed) await repos.lineItems.updateVersioned('line item', id, current.version, { status: move.to }, actorOf(principal), new Date());
      return { changed: move.changed, active: move.to === 'active', effectiveEndAt };
    });
    if (result.changed) await this.notifier.changed('line_item', [id]);
    if (result.active) await this.completion.scheduleAt(result.effectiveEndAt);
    return this.get(id, principal);
  }

  /** Line items as the API shows them: flight defaulted from the campaign, assignments with creative status; two queries per page. */
  private async toDtos(repos: CampaignRepositories, rows: LineItemEntity[]): Promise<LineItemDto[]> {
    if (rows.length === 0) return [];
    const campaigns = new Map((await repos.campaigns.findByIds([...new Set(rows.map((r) => r.campaignId))])).map((c) => [c.id, c]));
    const assigned = await repos.lineItems.assignedCreatives(rows.map((r) => r.id));
    const states = await this.deliveryStates.ofLineItems(rows.map((li) => ({ li, campaign: campaigns.get(li.campaignId)! })));
    return rows.map((li) => {
      const campaign = campaigns.get(li.campaignId)!;
      const creatives = assigned.filter((a) => a.lineItemId === li.id).map((a) => ({ creativeId: a.creativeId, weight: a.weight, status: a.status }));
      return {
        id: li.id,
        campaignId: li.campaignId,
        advertiserId: li.advertiserId,
        name: li.name,
        format: li.format,
        pricingModel: li.pricingModel,
        rateMicros: li.rateMicros,
        budgetMicros: li.budgetMicros,
        dailyBudgetMicros: li.dailyBudgetMicros,
        pacing: li.pacing,
        priority: li.priority,
        // The contract's default: a line item without its own flight shows (and runs on) the campaign's.
        startAt: iso(li.startAt ?? campaign.startAt),
        endAt: iso(li.endAt ?? campaign.endAt),
        ownStartAt: isoOrNull(li.startAt),
        ownEndAt: isoOrNull(li.endAt),
        frequencyCaps: li.frequencyCaps,
        targeting: li.targeting as TargetingDto,
        creativeIds: creatives.map((c) => c.creativeId),
        creatives,
        status: li.status,
        deliveryState: states.get(li.id)!,
        ...auditOf(li),
      };
    });
  }
}

/**
 * The creatives to assign: each must exist and belong to the line item's advertiser (404 otherwise,
 * as for any other tenant's resource) and be of the line item's format (400).
 */
async function resolveAssignments(
  repos: CampaignRepositories,
  advertiserId: string,
  format: CreativeFormat,
  ids: string[],
  weights: Record<string, number> | undefined,
): Promise<Assignment[]> {
  for (const creativeId of Object.keys(weights ?? {})) {
    if (!ids.includes(creativeId)) throw invalidField('creativeWeights', `${creativeId} is not among the assigned creativeIds`);
  }
  if (ids.length === 0) return [];
  const byId = new Map((await repos.creatives.findByIds(ids.filter(isId))).map((c) => [c.id, c]));
  for (const creativeId of ids) {
    const creative = byId.get(creativeId);
    if (!creative || creative.advertiserId !== advertiserId) throw notFound('creative', creativeId);
    if (creative.format !== format) throw invalidField('creativeIds', `creative ${creativeId} is ${creative.format}, the line item is ${format}`);
  }
  return ids.map((creativeId) => ({ creativeId, weight: weights?.[creativeId] ?? 1 }));
}

/** A line item's own flight lies inside its campaign's and ends after it starts. */
function checkFlight(campaign: CampaignEntity, startAt: Date | null, endAt: Date | null): void {
  if (startAt && startAt.getTime() < campaign.startAt.getTime()) {
    throw invalidField('startAt', `must not be before the campaign start (${iso(campaign.startAt)})`);
  }
  if (startAt && startAt.getTime() >= campaign.endAt.getTime()) {
    throw invalidField('startAt', `must be before the campaign end (${iso(campaign.endAt)})`);
  }
  if (endAt && endAt.getTime() > campaign.endAt.getTime()) {
    throw invalidField('endAt', `must not be after the campaign end (${iso(campaign.endAt)})`);
  }
  if (endAt && endAt.getTime() <= (startAt ?? campaign.startAt).getTime()) {
    throw invalidField('endAt', `must be after the start (${iso(startAt ?? campaign.startAt)})`);
  }
}

function checkBudgets(campaign: CampaignEntity, budgetMicros: number, dailyBudgetMicros: number | null): void {
  if (campaign.budgetMicros !== null && budgetMicros > campaign.budgetMicros) {
    throw invalidField('budgetMicros', `must not exceed the campaign budget (${campaign.budgetMicros})`);
  }
  if (dailyBudgetMicros !== null && dailyBudgetMicros > budgetMicros) {
    throw invalidField('dailyBudgetMicros', `must not be greater than budgetMicros (${budgetMicros})`);
  }
}

function toCaps(caps: FrequencyCapDto[]): FrequencyCap[] {
  return caps.map((c) => ({ maxImpressions: c.maxImpressions, periodSeconds: c.periodSeconds }));
}

const lower = (values: string[] | undefined) => (values ? [...new Set(values.map((v) => v.trim().toLowerCase()))] : undefined);

/**
 * The stored (and catalog) form of targeting: only the fields given, genres and keywords lower-cased
 * and trimmed so delivery can match them case-insensitively, regions upper-cased like countries.
 */
export function toTargeting(dto: TargetingDto | undefined): CatalogTargeting {
  if (!dto) return {};
  const out: CatalogTargeting = {};
  if (dto.countries) out.countries = [...dto.countries];
  if (dto.regions) out.regions = [...new Set(dto.regions.map((r) => r.toUpperCase()))];
  if (dto.platforms) out.platforms = [...dto.platforms];
  if (dto.ageRanges) out.ageRanges = [...dto.ageRanges];
  if (dto.genders) out.genders = [...dto.genders];
  if (dto.genres) out.genres = lower(dto.genres);
  if (dto.keywords) {
    const keywords: NonNullable<CatalogTargeting['keywords']> = {};
    if (dto.keywords.any) keywords.any = lower(dto.keywords.any);
    if (dto.keywords.all) keywords.all = lower(dto.keywords.all);
    if (dto.keywords.none) keywords.none = lower(dto.keywords.none);
    if (Object.keys(keywords).length > 0) out.keywords = keywords;
  }
  if (dto.dayparts) out.dayparts = dto.dayparts.map((d) => ({ days: [...d.days].sort((a, b) => a - b), startHour: d.startHour, endHour: d.endHour }));
  return out;
}
