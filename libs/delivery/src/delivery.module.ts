import { CampaignsModule, DeliveryCatalogService } from '@app/campaigns';
import { ApiConfig } from '@app/platform';
import { Module } from '@nestjs/common';
import { DeliveryCountersModule } from './delivery-counters.module';
import { CatalogSource } from './eligibility/catalog-source';
import { EligibilityIndexService } from './eligibility/eligibility-index.service';
import { ObservedStateService } from './eligibility/observed-state.service';
import { DecisionRoutes } from './http/decision.routes';
import { DecisionService } from './services/decision.service';
import { TrackingTokenCodec } from './tracking/tracking-token';

/** Ad decisioning in the API process: eligibility index, decisions (JSON and VAST, as player routes), counters. */
@Module({
  imports: [CampaignsModule, DeliveryCountersModule],
  providers: [
    { provide: CatalogSource, useExisting: DeliveryCatalogService },
    {
      provide: TrackingTokenCodec,
      // ApiConfig exists in the API process only: workers import DeliveryCountersModule, not this module.
      inject: [ApiConfig],
      useFactory: (config: ApiConfig) => new TrackingTokenCodec(config.TRACKING_SECRET, config.TRACKING_TOKEN_TTL),
    },
    EligibilityIndexService,
    ObservedStateService,
    DecisionService,
    DecisionRoutes,
  ],
  exports: [DeliveryCountersModule, TrackingTokenCodec, EligibilityIndexService, DecisionService, DecisionRoutes],
})
export class DeliveryModule {}
