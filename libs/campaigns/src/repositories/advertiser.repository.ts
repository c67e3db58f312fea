import type { EntityManager } from 'typeorm';
import { AdvertiserEntity } from '../entities/advertiser.entity';
import { CampaignEntity } from '../entities/campaign.entity';
import { AuditedRepository } from './audited.repository';

export class AdvertiserRepository extends AuditedRepository<AdvertiserEntity> {
  constructor(manager: EntityManager) {
    // An advertiser key's scope is its advertiser's own id.
    super(manager, { entity: AdvertiserEntity, table: 'advertisers', ownerColumn: 'id', owner: (a) => a.id });
  }

  async countCampaigns(advertiserId: string): Promise<number> {
    return this.manager.getRepository(CampaignEntity).count({ where: { advertiserId } });
  }
}
