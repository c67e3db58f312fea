import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveryCatalogService } from './catalog/delivery-catalog.service';
import { AdvertisersController } from './controllers/advertisers.controller';
import { ApiKeysController } from './controllers/api-keys.controller';
import { CampaignsController } from './controllers/campaigns.controller';
import { CreativesController } from './controllers/creatives.controller';
import { LineItemsController } from './controllers/line-items.controller';
import { CAMPAIGN_ENTITIES } from './entities';
import { AdvertiserApiKeysService } from './services/advertiser-api-keys.service';
import { AdvertisersService } from './services/advertisers.service';
import { CampaignsService } from './services/campaigns.service';
import { CatalogNotifier } from './services/catalog-notifier.service';
import { CompletionService } from './services/completion.service';
import { CreativesService } from './services/creatives.service';
import { LineItemsService } from './services/line-items.service';
import { DeliveryStateService } from './services/delivery-state.service';
import { CampaignsStore } from './repositories/campaigns.store';

const SERVICES = [CampaignsStore, AdvertisersService, AdvertiserApiKeysService, CampaignsService, CreativesService, LineItemsService, CatalogNotifier, CompletionService, DeliveryCatalogService, DeliveryStateService];

/** Campaign management API and the delivery catalog read model (API process). */
@Module({
  imports: [TypeOrmModule.forFeature(CAMPAIGN_ENTITIES)],
  controllers: [AdvertisersController, ApiKeysController, CampaignsController, CreativesController, LineItemsController],
  providers: SERVICES,
  exports: [DeliveryCatalogService, CatalogNotifier, AdvertisersService, CampaignsService, LineItemsService, CreativesService],
})
export class CampaignsModule {}
