import { provideSchedules } from '@app/platform';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CAMPAIGN_ENTITIES } from './entities';
import { CAMPAIGNS_SCHEDULES } from './jobs/campaigns.schedules';
import { CompleteExpiredJob } from './jobs/complete-expired.job';
import { CatalogNotifier } from './services/catalog-notifier.service';
import { CompletionService } from './services/completion.service';
import { CampaignsStore } from './repositories/campaigns.store';

/** Campaigns' job handlers (flight completion) and the sweep schedule; imported by apps/worker only. */
@Module({
  imports: [TypeOrmModule.forFeature(CAMPAIGN_ENTITIES)],
  providers: [CampaignsStore, CatalogNotifier, CompletionService, CompleteExpiredJob, provideSchedules('campaigns', CAMPAIGNS_SCHEDULES)],
})
export class CampaignsJobsModule {}
