import type { EntityManager } from 'typeorm';
import { AdvertiserEntity } from '../entities/advertiser.entity';
import { CampaignEntity } from '../entities/campaign.entity';
import { AuditedRepository } from './audited.repository';

/** What billing needs of an advertiser: its money and its clock. */
export type AdvertiserAccount = Pick<AdvertiserEntity, 'id' | 'currency' | 'timezone'>;

export class AdvertiserRepository extends AuditedRepository<AdvertiserEntity> {
  constructor(manager: EntityManager) {
    // An advertiser key's scope is its advertiser's own id.
    super(manager, { entity: AdvertiserEntity, table: 'advertisers', ownerColumn: 'id', owner: (a) => a.id });
  }

  async countCampaigns(advertiserId: string): Promise<number> {
    return this.manager.getRepository(CampaignEntity).count({ where: { advertiserId } });
  }

  /** Every advertiser's currency and timezone, ordered by id. */
  accounts(): Promise<AdvertiserAccount[]> {
    return this.orm.find({ select: { id: true, currency: true, timezone: true }, order: { id: 'ASC' } });
  }
}
