import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AccountState, DeliveryLedger, LineItemCounters } from '@app/delivery-ledger';
import { EligibilityIndexService } from './eligibility-index.service';

/** How often the observed counts and spend of every indexed line item are re-read from Redis. */
export const OBSERVED_STATE_REFRESH_MS = 2_000;
/** Line items (or campaigns) read per Redis call during a refresh. */
const REFRESH_SLICE = 200;

/**
 * A per-process copy, at most a couple of seconds old, of what ranking needs from Redis for every
 * indexed line item: observed counts (click and completion rates for expected value) and spend
 * (to skip line items whose budget is already gone before the atomic reservation step, which
 * remains the authority). A few Redis calls per refresh, none per decision.
 */
@Injectable()
export class ObservedStateService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ObservedStateService.name);
  /**
   * Updated in place, never rebuilt: these objects live as long as the process, while a fresh copy every
   * refresh would outlive two young-generation collections, be promoted, and leave a catalog's worth of
   * garbage in the old generation every two seconds (more full collections, each a latency spike).
   */
  private readonly lineItems = new Map<string, LineItemCounters>();
  private readonly campaigns = new Map<string, AccountState>();
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly counters: DeliveryLedger,
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
      for (let i = 0; i < ids.length; i += REFRESH_SLICE) {
        mergeInto(this.lineItems, await this.counters.readLineItems(ids.slice(i, i + REFRESH_SLICE)));
      }
      for (let i = 0; i < campaignIds.length; i += REFRESH_SLICE) {
        mergeInto(this.campaigns, await this.counters.readCampaigns(campaignIds.slice(i, i + REFRESH_SLICE)));
      }
      keepOnly(this.lineItems, ids);
      keepOnly(this.campaigns, campaignIds);
      this.index.rerank((id) => this.lineItems.get(id));
    } catch (err) {
      this.logger.debug(`observed state refresh failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}

function mergeInto<T extends object>(target: Map<string, T>, fresh: Map<string, T>): void {
  for (const [id, value] of fresh) {
    const current = target.get(id);
    if (current) Object.assign(current, value);
    else target.set(id, value);
  }
}

/** Drops entries of line items (campaigns) no longer in the index. */
function keepOnly<T>(target: Map<string, T>, ids: readonly string[]): void {
  if (target.size === ids.length) return;
  const keep = new Set(ids);
  for (const id of target.keys()) if (!keep.has(id)) target.delete(id);
}
