import { AdvertiserEntity } from './advertiser.entity';
import { CampaignEntity } from './campaign.entity';
import { CreativeEntity } from './creative.entity';
import { LineItemCreativeEntity } from './line-item-creative.entity';
import { LineItemEntity } from './line-item.entity';

export const CAMPAIGN_ENTITIES = [AdvertiserEntity, CampaignEntity, LineItemEntity, CreativeEntity, LineItemCreativeEntity];
