import { CampaignsModule, DeliveryCatalogService } from '@app/campaigns';
import { DeliveryLedgerModule } from '@app/delivery-ledger';
import { ApiConfig, PlatformConfig } from '@app/platform';
import { Module } from '@nestjs/common';
import { DecisionsController } from './controllers/decisions.controller';
import { CatalogSource } from './index/catalog-source';
import { EligibilityIndexService } from './index/eligibility-index.service';
import { ObservedStateService } from './index/observed-state.service';
import { DecisionService } from './services/decision.service';
import { TrackingTokenCodec } from './tracking/tracking-token';

/** Ad decisioning in the API process: eligibility index, decisions (JSON and VAST); the ledger comes from DeliveryLedgerModule. */
@Module({
  imports: [CampaignsModule, DeliveryLedgerModule],
  controllers: [DecisionsController],
  providers: [
    { provide: CatalogSource, useExisting: DeliveryCatalogService },
    {
      provide: TrackingTokenCodec,
      inject: [PlatformConfig],
      useFactory: (config: PlatformConfig) => {
        const { TRACKING_SECRET, TRACKING_TOKEN_TTL } = config as ApiConfig;
        if (!TRACKING_SECRET) throw new Error('DeliveryModule belongs to the API process (ApiConfig with TRACKING_SECRET); workers import DeliveryLedgerModule');
        return new TrackingTokenCodec(TRACKING_SECRET, TRACKING_TOKEN_TTL);
      },
    },
    EligibilityIndexService,
    ObservedStateService,
    DecisionService,
  ],
  exports: [DeliveryLedgerModule, TrackingTokenCodec, EligibilityIndexService, DecisionService],
})
export class DeliveryModule {}
