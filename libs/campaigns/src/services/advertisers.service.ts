import { Principal, actorOf, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AdvertiserDto, CreateAdvertiserDto, UpdateAdvertiserDto } from '../dto/advertiser.dto';
import { ListQueryDto } from '../dto/common.dto';
import { AdvertiserEntity } from '../entities/advertiser.entity';
import { CampaignEntity } from '../entities/campaign.entity';
import { checkIfMatch, isId, notFound } from '../http/errors';
import { CatalogNotifier } from './catalog-notifier.service';
import { Page, paginate, auditOf, toPage, updateVersioned } from './persistence';

/** Advertisers: created by admin; an advertiser key sees and edits only its own. */
@Injectable()
export class AdvertisersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifier: CatalogNotifier,
  ) {}

  async create(dto: CreateAdvertiserDto, principal: Principal): Promise<AdvertiserDto> {
    const now = new Date();
    const actor = actorOf(principal);
    const row = this.dataSource.getRepository(AdvertiserEntity).create({
      id: uuidv7(),
      name: dto.name,
      currency: dto.currency ?? 'USD',
      timezone: dto.timezone ?? 'UTC',
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: actor,
      updatedBy: actor,
    });
    await this.dataSource.getRepository(AdvertiserEntity).insert(row);
    return toAdvertiserDto(row);
  }

  async list(query: ListQueryDto, principal: Principal): Promise<Page<AdvertiserDto>> {
    const scope = scopeOf(principal);
    const qb = this.dataSource.getRepository(AdvertiserEntity).createQueryBuilder('a');
    if (scope !== undefined) qb.andWhere('a.id = :scope', { scope });
    const limit = paginate(qb, 'a', query);
    const rows = await qb.getMany();
    return toPage(rows, limit, (page) => page.map(toAdvertiserDto));
  }

  async get(id: string, principal: Principal): Promise<AdvertiserDto> {
    return toAdvertiserDto(await this.findVisible(this.dataSource.manager, id, scopeOf(principal)));
  }

  async update(id: string, dto: UpdateAdvertiserDto, ifMatch: string | undefined, principal: Principal): Promise<AdvertiserDto> {
    const updated = await this.dataSource.transaction(async (manager) => {
      const current = await this.findVisible(manager, id, scopeOf(principal), true);
      checkIfMatch(ifMatch, 'advertiser', id, current.version);
      if (dto.currency !== undefined && dto.currency !== current.currency) {
        // Every stored amount is in micros of the currency: changing it would silently reprice them.
        const campaigns = await manager.getRepository(CampaignEntity).count({ where: { advertiserId: id } });
        if (campaigns > 0) throw new ConflictException(`currency cannot change: advertiser ${id} already has ${campaigns} campaign(s) priced in ${current.currency}`);
      }
      const patch: Partial<AdvertiserEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.currency !== undefined) patch.currency = dto.currency;
      if (dto.timezone !== undefined) patch.timezone = dto.timezone;
      await updateVersioned(manager, AdvertiserEntity, 'advertiser', id, current.version, patch, actorOf(principal), new Date());
      return this.findVisible(manager, id, undefined);
    });
    await this.notifier.changed('advertiser', [id]);
    return toAdvertiserDto(updated);
  }

  /** The advertiser if it exists and `scope` (an advertiser key's own id) allows it; 404 otherwise. */
  async findVisible(manager: EntityManager, id: string, scope: string | undefined, lockForUpdate = false): Promise<AdvertiserEntity> {
    if (!isId(id) || (scope !== undefined && scope !== id)) throw notFound('advertiser', id);
    const row = await manager.getRepository(AdvertiserEntity).findOne({ where: { id }, ...(lockForUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!row) throw notFound('advertiser', id);
    return row;
  }
}

export function toAdvertiserDto(a: AdvertiserEntity): AdvertiserDto {
  return { id: a.id, name: a.name, currency: a.currency, timezone: a.timezone, ...auditOf(a) };
}
