import { Page, PageQuery, Principal, actorOf, mapPage, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import { AdvertiserDto, CreateAdvertiserDto, UpdateAdvertiserDto } from '../dto/advertiser.dto';
import { AdvertiserEntity } from '../entities/advertiser.entity';
import { checkIfMatch } from '../http/errors';
import { CampaignsStore } from '../repositories/campaigns.store';
import { auditOf, newAudit } from './audit-fields';
import { CatalogNotifier } from './catalog-notifier.service';
import { findVisible } from './visible';

/** Advertisers: created by admin; an advertiser key sees and edits only its own. */
@Injectable()
export class AdvertisersService {
  constructor(
    private readonly store: CampaignsStore,
    private readonly notifier: CatalogNotifier,
  ) {}

  async create(dto: CreateAdvertiserDto, principal: Principal): Promise<AdvertiserDto> {
    const row: AdvertiserEntity = { id: uuidv7(), name: dto.name, currency: dto.currency ?? 'USD', timezone: dto.timezone ?? 'UTC', ...newAudit(actorOf(principal), new Date()) };
    await this.store.repos.advertisers.insert(row);
    return toAdvertiserDto(row);
  }

  async list(query: PageQuery, principal: Principal): Promise<Page<AdvertiserDto>> {
    return mapPage(await this.store.repos.advertisers.page(query, scopeOf(principal)), (rows) => rows.map(toAdvertiserDto));
  }

  async get(id: string, principal: Principal): Promise<AdvertiserDto> {
    return toAdvertiserDto(await findVisible('advertiser', id, this.store.repos.advertisers.findOwned(id, scopeOf(principal))));
  }

  async update(id: string, dto: UpdateAdvertiserDto, ifMatch: string | undefined, principal: Principal): Promise<AdvertiserDto> {
    const updated = await this.store.transaction(async (repos) => {
      const current = await findVisible('advertiser', id, repos.advertisers.findOwned(id, scopeOf(principal), 'update'));
      checkIfMatch(ifMatch, 'advertiser', id, current.version);
      if (dto.currency !== undefined && dto.currency !== current.currency) {
        // Every stored amount is in micros of the currency: changing it would silently reprice them.
        const campaigns = await repos.advertisers.countCampaigns(id);
        if (campaigns > 0) throw new ConflictException(`currency cannot change: advertiser ${id} already has ${campaigns} campaign(s) priced in ${current.currency}`);
      }
      const patch: Partial<AdvertiserEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.currency !== undefined) patch.currency = dto.currency;
      if (dto.timezone !== undefined) patch.timezone = dto.timezone;
      await repos.advertisers.updateVersioned('advertiser', id, current.version, patch, actorOf(principal), new Date());
      return findVisible('advertiser', id, repos.advertisers.findOwned(id, undefined));
    });
    await this.notifier.changed('advertiser', [id]);
    return toAdvertiserDto(updated);
  }
}

export function toAdvertiserDto(a: AdvertiserEntity): AdvertiserDto {
  return { id: a.id, name: a.name, currency: a.currency, timezone: a.timezone, ...auditOf(a) };
}
