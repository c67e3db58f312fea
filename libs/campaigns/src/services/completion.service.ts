import { JobName, JobQueue } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { CampaignsStore } from '../repositories/campaigns.store';
import { CatalogNotifier } from './catalog-notifier.service';

/** Written into updated_by by automatic completion. */
export const SYSTEM_ACTOR = 'system';

/**
 * Completes campaigns and line items whose flight is over: a set-based sweep in the worker every
 * 30 s, plus a delayed job at each activated flight's end so completion is not 30 s late.
 */
@Injectable()
export class CompletionService {
  private readonly logger = new Logger(CompletionService.name);

  constructor(
    private readonly store: CampaignsStore,
    private readonly jobs: JobQueue,
    private readonly notifier: CatalogNotifier,
  ) {}

  /**
   * Asks for a sweep just after `endAt`. Best effort: the job id is per end time (so many flights
   * ending together share one job), and the periodic sweep covers a lost or failed enqueue.
   */
  async scheduleAt(endAt: Date): Promise<void> {
    const delay = Math.max(0, endAt.getTime() - Date.now()) + 250;
    try {
      await this.jobs.enqueue(JobName.CampaignsCompleteExpired, {}, { delay, jobId: `complete-expired-${endAt.getTime()}` });
    } catch (err) {
      this.logger.warn(`completion at ${endAt.toISOString()} not scheduled, the periodic sweep will do it: ${(err as Error).message}`);
    }
  }

  /** Worker side: completes what has ended, in one transaction; idempotent. */
  async completeExpired(now: Date = new Date()): Promise<{ campaigns: number; lineItems: number }> {
    const { campaigns, lineItems } = await this.store.transaction((repos) => repos.campaigns.completeEnded(now, SYSTEM_ACTOR));
    if (campaigns > 0 || lineItems > 0) {
      this.logger.log(`completed ${campaigns} campaign(s) and ${lineItems} line item(s) whose flight ended`);
      await this.notifier.changed('campaign', []);
    }
    return { campaigns, lineItems };
  }
}
