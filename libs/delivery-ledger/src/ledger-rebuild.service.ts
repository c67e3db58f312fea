import { Injectable, Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { DeliveryLedger, MAX_CAP_PERIOD_SECONDS } from './delivery-ledger.service';
import { CountersRestoreState, FrequencyRestoreRow, RatesRestoreRow, SpendRestoreRow } from './ledger.types';
import { LedgerSnapshotRepository } from './repositories/ledger-snapshot.repository';

/** Recent spend handed to delivery (it needs ~26 h to recompute "today" in any timezone). */
const RECENT_MS = 27 * 3600 * 1000;
/** Line items whose listeners' impression times are read per query (bounds memory). */
const FREQUENCY_CHUNK = 50;

export interface RestoreRun {
  restored: boolean;
  lineItems?: number;
  frequencyRows?: number;
}

/**
 * Rebuilds the delivery ledger's Redis state from MySQL (run by the worker's restore job) after Redis lost them (the restore marker is gone):
 * spend (lifetime and recent, per line item and hence campaign), observed counts (rates) and
 * listeners' recent impression times (frequency caps). Everything is read in ONE repeatable-read
 * snapshot: rollups up to the watermark plus the raw events above it, so no event is missed or
 * counted twice. The SQL (set-based) is LedgerSnapshotRepository's; impression times are read a chunk
 * of line items at a time.
 * Covers every campaign still able to serve (not completed or archived), with all its line items,
 * since a campaign's total is the sum of its line items'.
 */
@Injectable()
export class LedgerRebuildService {
  private readonly logger = new Logger(LedgerRebuildService.name);

  constructor(
    private readonly snapshots: LedgerSnapshotRepository,
    private readonly counters: DeliveryLedger,
  ) {}

  async restoreIfNeeded(now: number = Date.now()): Promise<RestoreRun> {
    if (!(await this.counters.needsRestore())) return { restored: false };
    // Recording of newly applied events starts before the snapshot is taken (see beginRestore): events
    // stored after the snapshot are then added to it, none is lost from the counters.
    // The campaigns are read just before the rebuild begins (a campaign created since has nothing to restore).
    const accounts = await this.snapshots.servingAccounts();
    const token = await this.counters.beginRestore(accounts);
    if (!token) return { restored: false };
    let run: { lineItems: number; frequencyRows: number };
    try {
      run = await this.snapshots.snapshot(async (qr) => {
        // The first read fixes the snapshot every later read of this transaction sees.
        const watermark = await this.snapshots.watermark(qr);
        const { spend, rates } = await this.readSpendAndRates(qr, accounts.campaignIds, watermark, now);
        await this.counters.restore({ spend, frequency: [], rates });
        let frequencyRows = 0;
        for await (const frequency of this.readFrequency(qr, accounts.campaignIds, now)) {
          frequencyRows += frequency.length;
          await this.counters.restore({ spend: [], frequency, rates: [] } satisfies CountersRestoreState);
        }
        return { lineItems: spend.length, frequencyRows };
      });
    } catch (err) {
      await this.counters.abortRestore(token).catch(() => undefined);
      throw err;
    }
    await this.counters.finishRestore(token, accounts);
    this.logger.log(`delivery counters restored from MySQL: ${run.lineItems} line item(s), ${run.frequencyRows} listener/line item pair(s)`);
    return { restored: true, ...run };
  }

  /** Lifetime spend and counts per line item (rollups plus the raw events above the watermark), and its spend since RECENT_MS ago. */
  private async readSpendAndRates(qr: QueryRunner, campaignIds: string[], watermark: number, now: number): Promise<{ spend: SpendRestoreRow[]; rates: RatesRestoreRow[] }> {
    const recentFrom = new Date(now - RECENT_MS);
    const rolled = await this.snapshots.rolledTotals(qr, campaignIds);
    const tail = await this.snapshots.tailTotals(qr, campaignIds, watermark);
    const recentRolled = await this.snapshots.rolledSpendByHour(qr, campaignIds, recentFrom);
    const recentTail = await this.snapshots.tailSpendByQuarter(qr, campaignIds, watermark, recentFrom);

    const byLineItem = new Map<string, SpendRestoreRow & RatesRestoreRow>();
    for (const r of [...rolled, ...tail]) {
      const row = byLineItem.get(r.lineItemId) ?? { lineItemId: r.lineItemId, campaignId: r.campaignId, spentMilliMicros: 0, recent: [], impressions: 0, clicks: 0, completes: 0 };
      row.spentMilliMicros += r.spentMilliMicros;
      row.impressions += r.impressions;
      row.clicks += r.clicks;
      row.completes += r.completes;
      byLineItem.set(r.lineItemId, row);
    }
    for (const r of [...recentRolled, ...recentTail]) {
      if (r.spentMilliMicros > 0) byLineItem.get(r.lineItemId)?.recent.push({ quarterStartMs: r.startMs, spentMilliMicros: r.spentMilliMicros });
    }
    const rows = [...byLineItem.values()];
    return {
      spend: rows.map(({ lineItemId, campaignId, spentMilliMicros, recent }) => ({ lineItemId, campaignId, spentMilliMicros, recent })),
      rates: rows.map(({ lineItemId, impressions, clicks, completes }) => ({ lineItemId, impressions, clicks, completes })),
    };
  }

  /** Impression times per listener of each capped line item, within its longest cap period. */
  private async *readFrequency(qr: QueryRunner, campaignIds: string[], now: number): AsyncGenerator<FrequencyRestoreRow[]> {
    const periods = new Map<string, number>();
    for (const li of await this.snapshots.cappedLineItems(qr, campaignIds)) {
      const longest = Math.min(MAX_CAP_PERIOD_SECONDS, Math.max(0, ...li.capPeriodsSeconds));
      if (longest > 0) periods.set(li.lineItemId, longest * 1000);
    }
    const ids = [...periods.keys()];
    for (let i = 0; i < ids.length; i += FREQUENCY_CHUNK) {
      const chunk = ids.slice(i, i + FREQUENCY_CHUNK);
      const since = new Date(now - Math.max(...chunk.map((id) => periods.get(id)!)));
      const out: FrequencyRestoreRow[] = [];
      for (const r of await this.snapshots.impressionTimes(qr, chunk, since)) {
        const from = now - periods.get(r.lineItemId)!;
        const impressions = r.impressions.filter((i) => i.at >= from);
        if (impressions.length > 0) out.push({ lineItemId: r.lineItemId, userId: r.userId, impressions });
      }
      if (out.length > 0) yield out;
    }
  }
}
