import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { AccountState, LineItemCounters } from '../counters/counters.types';
import { DeliveryCountersService } from '../counters/delivery-counters.service';
import { EligibilityIndexService } from './eligibility-index.service';

/** How often the observed counts and spend of every indexed line item are re-read from Redis. */
export const OBSERVED_STATE_REFRESH_MS = 2_000;
/** Line items (or campaigns) read per Redis pipeline during a refresh. */
const REFRESH_SLICE = 200;

/**
 * A per-process copy, at most a couple of seconds old, of what ranking needs from Redis for every
 * indexed line item: observed counts (click and completion rates for expected value) and spend
 * (to skip line items whose budget is already gone before the atomic reservation step, which
 * remains the authority). One pipeline per refresh, not per decision.
 */
@Injectable()
export class ObservedStateService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ObservedStateService.name);
  private lineItems = new Map<string, LineItemCounters>();
  private campaigns = new Map<string, AccountState>();
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly counters: DeliveryCountersService,
    private readonly index: EligibilityIndexService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.refresh(), OBSERVED_STATE_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  lineItem(id: string): LineItemCounters | undefined {
    return this.lineItems.get(id);
  }

  campaign(id: string): AccountState | undefined {
    return this.campaigns.get(id);
  }

  async refresh(): Promise<void> {
    const snapshot = this.index.snapshot;
    if (!snapshot || this.running) return;
    this.running = true;
    try {
      const ids = snapshot.items.map((i) => i.lineItem.id);
      const campaignIds = [...new Set(snapshot.items.map((i) => i.lineItem.campaignId))];
      // In slices, one after the other: a whole catalog's replies parsed in one go would hold up the
      // decisions waiting behind them on the event loop (a tail-latency spike every refresh).
      const lineItems = new Map<string, LineItemCounters>();
      const campaigns = new Map<string, AccountState>();
      for (let i = 0; i < ids.length; i += REFRESH_SLICE) {
        for (const [id, counts] of await this.counters.readLineItems(ids.slice(i, i + REFRESH_SLICE))) lineItems.set(id, counts);
      }
      for (let i = 0; i < campaignIds.length; i += REFRESH_SLICE) {
        for (const [id, state] of await this.counters.readCampaigns(campaignIds.slice(i, i + REFRESH_SLICE))) campaigns.set(id, state);
      }
      this.lineItems = lineItems;
      this.campaigns = campaigns;
      this.index.rerank((id) => lineItems.get(id));
    } catch (err) {
      this.logger.debug(`observed state refresh failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
