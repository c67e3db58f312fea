import { Principal, actorOf, invalidField, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { CampaignDto, CampaignListQueryDto, CreateCampaignDto, UpdateCampaignDto } from '../dto/campaign.dto';
import { CampaignEntity } from '../entities/campaign.entity';
import { LineItemEntity } from '../entities/line-item.entity';
import { cannotActivate, checkIfMatch, isId, notFound } from '../http/errors';
import { StatusAction, campaignActivationProblems, transition } from '../status/status-machine';
import { AdvertisersService } from './advertisers.service';
import { CatalogNotifier } from './catalog-notifier.service';
import { CompletionService } from './completion.service';
import { DeliveryStateService } from './delivery-state.service';
import { Page, paginate, auditOf, iso, toPage, updateVersioned } from './persistence';

@Injectable()
export class CampaignsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly advertisers: AdvertisersService,
    private readonly notifier: CatalogNotifier,
    private readonly completion: CompletionService,
    private readonly deliveryStates: DeliveryStateService,
  ) {}

  async create(dto: CreateCampaignDto, principal: Principal): Promise<CampaignDto> {
    const advertiser = await this.advertisers.findVisible(this.dataSource.manager, dto.advertiserId, scopeOf(principal));
    const now = new Date();
    const actor = actorOf(principal);
    const repo = this.dataSource.getRepository(CampaignEntity);
    const row = repo.create({
      id: uuidv7(),
      advertiserId: advertiser.id,
      name: dto.name,
      startAt: new Date(dto.startAt),
      endAt: new Date(dto.endAt),
      budgetMicros: dto.budgetMicros ?? null,
      status: 'draft',
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: actor,
      updatedBy: actor,
    });
    await repo.insert(row);
    await this.notifier.changed('campaign', [row.id]);
    return toCampaignDto(row);
  }

  async list(query: CampaignListQueryDto, principal: Principal): Promise<Page<CampaignDto>> {
    const scope = scopeOf(principal);
    const qb = this.dataSource.getRepository(CampaignEntity).createQueryBuilder('c');
    if (scope !== undefined) qb.andWhere('c.advertiser_id = :scope', { scope });
    if (query.advertiserId !== undefined) qb.andWhere('c.advertiser_id = :advertiserId', { advertiserId: query.advertiserId });
    if (query.status !== undefined) qb.andWhere('c.status = :status', { status: query.status });
    const limit = paginate(qb, 'c', query);
    const rows = await qb.getMany();
    const states = await this.deliveryStates.ofCampaigns(rows.slice(0, limit));
    return toPage(rows, limit, (page) => page.map((c) => ({ ...toCampaignDto(c), deliveryState: states.get(c.id) })));
  }

  async get(id: string, principal: Principal): Promise<CampaignDto> {
    const row = await this.findVisible(this.dataSource.manager, id, scopeOf(principal));
    return { ...toCampaignDto(row), deliveryState: (await this.deliveryStates.ofCampaigns([row])).get(row.id) };
  }

  async update(id: string, dto: UpdateCampaignDto, ifMatch: string | undefined, principal: Principal): Promise<CampaignDto> {
    const updated = await this.dataSource.transaction(async (manager) => {
      // FOR UPDATE: line item writes take this row in share mode, so the flight and budget checked
      // below cannot change under a concurrent line item change.
      const current = await this.findVisible(manager, id, scopeOf(principal), 'update');
      checkIfMatch(ifMatch, 'campaign', id, current.version);
      if (current.status === 'archived') throw new ConflictException(`campaign ${id} is archived and cannot change`);
      const startAt = dto.startAt !== undefined ? new Date(dto.startAt) : current.startAt;
      const endAt = dto.endAt !== undefined ? new Date(dto.endAt) : current.endAt;
      const budgetMicros = dto.budgetMicros !== undefined ? dto.budgetMicros : current.budgetMicros;
      if (endAt.getTime() <= startAt.getTime()) {
        throw dto.endAt !== undefined ? invalidField('endAt', `must be after startAt (${iso(startAt)})`) : invalidField('startAt', `must be before endAt (${iso(endAt)})`);
      }
      await this.checkLineItemsFit(manager, id, startAt, endAt, budgetMicros);
      const patch: Partial<CampaignEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.startAt !== undefined) patch.startAt = startAt;
      if (dto.endAt !== undefined) patch.endAt = endAt;
      if (dto.budgetMicros !== undefined) patch.budgetMicros = budgetMicros;
      await updateVersioned(manager, CampaignEntity, 'campaign', id, current.version, patch, actorOf(principal), new Date());
      return this.findVisible(manager, id, undefined);
    });
    await this.notifier.changed('campaign', [id]);
    if (updated.status === 'active') await this.completion.scheduleAt(updated.endAt);
    return toCampaignDto(updated);
  }

  async changeStatus(id: string, action: Exclude<StatusAction, 'complete'>, ifMatch: string | undefined, principal: Principal): Promise<CampaignDto> {
    const result = await this.dataSource.transaction(async (manager) => {
      const current = await this.findVisible(manager, id, scopeOf(principal), 'update');
      checkIfMatch(ifMatch, 'campaign', id, current.version);
      if (action === 'activate') {
        const problems = campaignActivationProblems(current, new Date());
        if (problems.length > 0) throw cannotActivate(problems);
      }
      const move = transition(current.status, action);
      if (!move.ok) throw new ConflictException(`cannot ${action} campaign ${id}: it is ${current.status}`);
      if (!move.changed) return { row: current, changed: false };
      await updateVersioned(manager, CampaignEntity, 'campaign', id, current.version, { status: move.to }, actorOf(principal), new Date());
      return { row: await this.findVisible(manager, id, undefined), changed: true };
    });
    if (result.changed) await this.notifier.changed('campaign', [id]);
    if (result.row.status === 'active') await this.completion.scheduleAt(result.row.endAt);
    return toCampaignDto(result.row);
  }

  /**
   * The campaign if it exists and is within `scope`; 404 otherwise (another tenant's looks missing).
   * `update` locks it FOR UPDATE; `share` takes a shared lock, written as LOCK IN SHARE MODE, which
   * both MariaDB and MySQL accept (TypeORM's FOR SHARE is MySQL 8 only).
   */
  async findVisible(manager: EntityManager, id: string, scope: string | undefined, lock?: 'update' | 'share'): Promise<CampaignEntity> {
    if (!isId(id)) throw notFound('campaign', id);
    if (lock === 'share') await manager.query('SELECT id FROM campaigns WHERE id = ? LOCK IN SHARE MODE', [id]);
    const row = await manager.getRepository(CampaignEntity).findOne({ where: { id }, ...(lock === 'update' ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!row || (scope !== undefined && row.advertiserId !== scope)) throw notFound('campaign', id);
    return row;
  }

  /** A new flight or budget must still hold every line item's own flight and budget. */
  private async checkLineItemsFit(manager: EntityManager, campaignId: string, startAt: Date, endAt: Date, budgetMicros: number | null): Promise<void> {
    const qb = manager
      .getRepository(LineItemEntity)
      .createQueryBuilder('li')
      .select('li.id', 'id')
      .where('li.campaign_id = :campaignId', { campaignId })
      .andWhere("li.status <> 'archived'");
    const early = await qb.clone().andWhere('li.start_at < :startAt', { startAt }).limit(1).getRawOne<{ id: string }>();
    if (early) throw invalidField('startAt', `line item ${early.id} starts before ${iso(startAt)}; move it first`);
    const late = await qb.clone().andWhere('li.end_at > :endAt', { endAt }).limit(1).getRawOne<{ id: string }>();
    if (late) throw invalidField('endAt', `line item ${late.id} ends after ${iso(endAt)}; move it first`);
    const inverted = await qb
      .clone()
      .andWhere('COALESCE(li.end_at, :endAt) <= COALESCE(li.start_at, :startAt)', { startAt, endAt })
      .limit(1)
      .getRawOne<{ id: string }>();
    if (inverted) throw invalidField('endAt', `line item ${inverted.id} would end before it starts`);
    if (budgetMicros !== null) {
      const over = await qb.clone().andWhere('li.budget_micros > :budgetMicros', { budgetMicros }).limit(1).getRawOne<{ id: string }>();
      if (over) throw invalidField('budgetMicros', `line item ${over.id} has a larger budget than ${budgetMicros}`);
    }
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
