import { Page, Principal, actorOf, invalidField, mapPage, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import { CampaignDto, CampaignListQueryDto, CreateCampaignDto, UpdateCampaignDto } from '../dto/campaign.dto';
import { CampaignEntity } from '../entities/campaign.entity';
import { cannotActivate, checkIfMatch } from '../http/errors';
import { CampaignsStore } from '../repositories/campaigns.store';
import { StatusAction, campaignActivationProblems, transition } from '../status/status-machine';
import { auditOf, iso, newAudit } from './audit-fields';
import { CatalogNotifier } from './catalog-notifier.service';
import { CompletionService } from './completion.service';
import { DeliveryStateService } from './delivery-state.service';
import { findVisible } from './visible';

@Injectable()
export class CampaignsService {
  constructor(
    private readonly store: CampaignsStore,
    private readonly notifier: CatalogNotifier,
    private readonly completion: CompletionService,
    private readonly deliveryStates: DeliveryStateService,
  ) {}

  async create(dto: CreateCampaignDto, principal: Principal): Promise<CampaignDto> {
    const { repos } = this.store;
    const advertiser = await findVisible('advertiser', dto.advertiserId, repos.advertisers.findOwned(dto.advertiserId, scopeOf(principal)));
    const row: CampaignEntity = {
      id: uuidv7(),
      advertiserId: advertiser.id,
      name: dto.name,
      startAt: new Date(dto.startAt),
      endAt: new Date(dto.endAt),
      budgetMicros: dto.budgetMicros ?? null,
      status: 'draft',
      ...newAudit(actorOf(principal), new Date()),
    };
    await repos.campaigns.insert(row);
    await this.notifier.changed('campaign', [row.id]);
    return toCampaignDto(row);
  }

  async list(query: CampaignListQueryDto, principal: Principal): Promise<Page<CampaignDto>> {
    const page = await this.store.repos.campaigns.page(query, scopeOf(principal), { advertiser_id: query.advertiserId, status: query.status });
    const states = await this.deliveryStates.ofCampaigns(page.data);
    return mapPage(page, (rows) => rows.map((c) => ({ ...toCampaignDto(c), deliveryState: states.get(c.id) })));
  }

  async get(id: string, principal: Principal): Promise<CampaignDto> {
    const row = await findVisible('campaign', id, this.store.repos.campaigns.findOwned(id, scopeOf(principal)));
    return { ...toCampaignDto(row), deliveryState: (await this.deliveryStates.ofCampaigns([row])).get(row.id) };
  }

  async update(id: string, dto: UpdateCampaignDto, ifMatch: string | undefined, principal: Principal): Promise<CampaignDto> {
    const updated = await this.store.transaction(async ({ campaigns }) => {
      // FOR UPDATE: line item writes take this row in share mode, so the flight and budget checked
      // below cannot change under a concurrent line item change.
      const current = await findVisible('campaign', id, campaigns.findOwned(id, scopeOf(principal), 'update'));
      checkIfMatch(ifMatch, 'campaign', id, current.version);
      if (current.status === 'archived') throw new ConflictException(`campaign ${id} is archived and cannot change`);
      const startAt = dto.startAt !== undefined ? new Date(dto.startAt) : current.startAt;
      const endAt = dto.endAt !== undefined ? new Date(dto.endAt) : current.endAt;
      const budgetMicros = dto.budgetMicros !== undefined ? dto.budgetMicros : current.budgetMicros;
      if (endAt.getTime() <= startAt.getTime()) {
        throw dto.endAt !== undefined ? invalidField('endAt', `must be after startAt (${iso(startAt)})`) : invalidField('startAt', `must be before endAt (${iso(endAt)})`);
      }
      // A new flight or budget must still hold every line item's own flight and budget.
      const outside = await campaigns.lineItemsOutside(id, startAt, endAt, budgetMicros);
      if (outside.startingBefore) throw invalidField('startAt', `line item ${outside.startingBefore} starts before ${iso(startAt)}; move it first`);
      if (outside.endingAfter) throw invalidField('endAt', `line item ${outside.endingAfter} ends after ${iso(endAt)}; move it first`);
      if (outside.inverted) throw invalidField('endAt', `line item ${outside.inverted} would end before it starts`);
      if (outside.overBudget) throw invalidField('budgetMicros', `line item ${outside.overBudget} has a larger budget than ${budgetMicros}`);
      const patch: Partial<CampaignEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.startAt !== undefined) patch.startAt = startAt;
      if (dto.endAt !== undefined) patch.endAt = endAt;
      if (dto.budgetMicros !== undefined) patch.budgetMicros = budgetMicros;
      await campaigns.updateVersioned('campaign', id, current.version, patch, actorOf(principal), new Date());
      return findVisible('campaign', id, campaigns.findOwned(id, undefined));
    });
    await this.notifier.changed('campaign', [id]);
    if (updated.status === 'active') await this.completion.scheduleAt(updated.endAt);
    return toCampaignDto(updated);
  }

  async changeStatus(id: string, action: Exclude<StatusAction, 'complete'>, ifMatch: string | undefined, principal: Principal): Promise<CampaignDto> {
    const result = await this.store.transaction(async ({ campaigns }) => {
      const current = await findVisible('campaign', id, campaigns.findOwned(id, scopeOf(principal), 'update'));
      checkIfMatch(ifMatch, 'campaign', id, current.version);
      if (action === 'activate') {
        const problems = campaignActivationProblems(current, new Date());
        if (problems.length > 0) throw cannotActivate(problems);
      }
      const move = transition(current.status, action);
      if (!move.ok) throw new ConflictException(`cannot ${action} campaign ${id}: it is ${current.status}`);
      if (!move.changed) return { row: current, changed: false };
      await campaigns.updateVersioned('campaign', id, current.version, { status: move.to }, actorOf(principal), new Date());
      return { row: await findVisible('campaign', id, campaigns.findOwned(id, undefined)), changed: true };
    });
    if (result.changed) await this.notifier.changed('campaign', [id]);
    if (result.row.status === 'active') await this.completion.scheduleAt(result.row.endAt);
    return toCampaignDto(result.row);
  }
}

export function toCampaignDto(c: CampaignEntity): CampaignDto {
  return {
    id: c.id,
    advertiserId: c.advertiserId,
    name: c.name,
    startAt: iso(c.startAt),
    endAt: iso(c.endAt),
    budgetMicros: c.budgetMicros,
    status: c.status,
    ...auditOf(c),
  };
}
