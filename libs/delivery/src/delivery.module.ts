import { CampaignsModule, DeliveryCatalogService } from '@app/campaigns';
import { DeliveryLedgerModule } from '@app/delivery-ledger';
import { ApiConfig } from '@app/platform';
import { Module } from '@nestjs/common';
import { CatalogSource } from './eligibility/catalog-source';
import { EligibilityIndexService } from './eligibility/eligibility-index.service';
import { ObservedStateService } from './eligibility/observed-state.service';
import { DecisionRoutes } from './http/decision.routes';
import { DecisionService } from './services/decision.service';
import { TrackingTokenCodec } from './tracking/tracking-token';

/** Ad decisioning in the API process: eligibility index, decisions (JSON and VAST, as player routes); the ledger comes from DeliveryLedgerModule. */
@Module({
  imports: [CampaignsModule, DeliveryLedgerModule],
  providers: [
    { provide: CatalogSource, useExisting: DeliveryCatalogService },
    {
      provide: TrackingTokenCodec,
      // ApiConfig exists in the API process only: workers import DeliveryLedgerModule, not this module.
      inject: [ApiConfig],
      useFactory: (config: ApiConfig) => new TrackingTokenCodec(config.TRACKING_SECRET, config.TRACKING_TOKEN_TTL),
    },
    EligibilityIndexService,
    ObservedStateService,
    DecisionService,
    DecisionRoutes,
  ],
  exports: [DeliveryLedgerModule, TrackingTokenCodec, EligibilityIndexService, DecisionService, DecisionRoutes],
})
export class DeliveryModule {}
