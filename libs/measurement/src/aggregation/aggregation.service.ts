import { MILLI_PER_MICRO } from '@app/delivery-ledger';
import { WorkerConfig } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { DataSource, QueryRunner } from 'typeorm';
import { addToReachSketches } from '../reach/reach-sketch.store';
import { AggregationWatermarkRepository } from '../repositories/aggregation-watermark.repository';
import { RawEventRepository } from '../repositories/raw-event.repository';
import { ReachRepository } from '../repositories/reach.repository';
import { RollupRepository } from '../repositories/rollup.repository';
import { SpendLedgerRepository } from '../repositories/spend-ledger.repository';
import { CapAccount, CapEvent, campaignKey, capToBudgets, fitsWhole, lineItemKey } from './budget-cap';

/** How long one job keeps rolling batches before handing over to the next run, ms. */
const RUN_BUDGET_MS = 10_000;

export interface AggregationRun {
  /** advanced: batches committed; idle: nothing new; busy: another worker holds the watermark. */
  state: 'advanced' | 'idle' | 'busy';
  batches: number;
  /** Watermark after the run (last raw id rolled up). */
  watermark: number;
  /** Highest raw id known to be settled (no transaction can still commit an id below it). */
  settledId: number;
}

/**
 * Exactly-once aggregation of raw events into hourly (and daily) rollups and reach, by a watermark over
 * raw_events.id. Each batch is ONE transaction: lock the watermark row (FOR UPDATE NOWAIT: a second
 * worker backs off instead of double counting), upsert the rollups and reach of (watermark, upto] with
 * set-based SQL, merge the range's listeners into the reach sketches, advance the watermark, COMMIT. A worker killed mid-batch commits nothing, and the
 * next run redoes the same range.
 *
 * Auto-increment ids are handed out before their transactions commit, so a lower id can become
 * visible after a higher one was aggregated, and would be skipped for ever. A time-based safety delay
 * only makes that unlikely; here it cannot happen: every ingest transaction holds a shared lock on the
 * `ingest_fence` row from before it takes ids until it commits, and each run first reads MAX(id) of
 * the committed rows, then takes that lock exclusively for an instant. Every id up to that maximum
 * was handed out, before the read, to a transaction holding the shared lock; the exclusive lock is
 * granted only once all of those have committed or rolled back, so every id up to the maximum is then
 * final (`settledId`), and ids handed out later are higher. Runs aggregate only up to `settledId`.
 * The cost for ingestion is a wait of at most one in-flight batch, once per run: the exclusive lock is
 * taken by one autocommit statement, so it is released as soon as it is granted, with no round trip
 * to this process in between.
 */
@Injectable()
export class AggregationService {
  private readonly logger = new Logger(AggregationService.name);
  private readonly who = `${hostname()}:${process.pid}`;
  private readonly watermarks: AggregationWatermarkRepository;
  private readonly rawEvents: RawEventRepository;
  private readonly rollups: RollupRepository;
  private readonly reach: ReachRepository;
  private readonly ledger: SpendLedgerRepository;

  // Repositories bound here rather than injected: tests and the aggregation benchmark build the service from a DataSource.
  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly config: WorkerConfig,
  ) {
    this.watermarks = new AggregationWatermarkRepository(dataSource);
    this.rawEvents = new RawEventRepository(dataSource);
    this.rollups = new RollupRepository(dataSource);
    this.reach = new ReachRepository(dataSource);
    this.ledger = new SpendLedgerRepository(dataSource);
  }

  async aggregate(budgetMs = RUN_BUDGET_MS): Promise<AggregationRun> {
    const started = Date.now();
    const settledId = await this.settledId();
    let batches = 0;
    for (;;) {
      const batch = await this.aggregateBatch(settledId);
      if (batch.state !== 'advanced') return { state: batches > 0 ? 'advanced' : batch.state, batches, watermark: batch.watermark, settledId };
      batches++;
      if (batch.watermark >= settledId || Date.now() - started > budgetMs) return { state: 'advanced', batches, watermark: batch.watermark, settledId };
    }
  }

  /** The fence: the highest raw id below which no ingest transaction can still commit. */
  async settledId(): Promise<number> {
    return this.watermarks.onConnection(async (qr) => {
      // First the read, then the lock (autocommit: held only while the statement runs). The other way
      // round, a transaction that took its ids after the lock could commit a higher id before the read
      // while holding a lower one still uncommitted.
      const maxId = await this.rawEvents.maxId(qr);
      await this.watermarks.waitForFence(qr);
      return maxId;
    });
  }

  private async aggregateBatch(settledId: number): Promise<{ state: AggregationRun['state']; watermark: number }> {
    return this.watermarks.transaction(async (qr) => {
      const watermark = await this.watermarks.lock(qr);
      if (watermark === 'busy') return { state: 'busy' as const, watermark: -1 };
      if (watermark >= settledId) return { state: 'idle' as const, watermark };
      const upto = Math.min(settledId, watermark + this.config.AGGREGATION_BATCH_SIZE);
      await this.capToBudgets(qr, watermark, upto);
      await this.rollups.addRange(qr, watermark, upto);
      await this.reach.addRange(qr, watermark, upto);
      await addToReachSketches(qr, await this.reach.rangeListeners(qr, watermark, upto));
      await this.watermarks.advance(qr, upto, this.who);
      this.logger.debug(`rolled up raw events (${watermark}, ${upto}]`);
      return { state: 'advanced' as const, watermark: upto };
    });
  }

  /**
   * Bills the range's billable events against the spend ledger, in arrival (id) order, and marks
   * those past a line item's or campaign's budget written off, before the range is rolled up: the
   * rollups then carry billed and written-off spend apart, and billed spend never passes a budget,
   * however late the events or high the click rate. Runs in the batch's transaction (the watermark
   * lock makes it the only writer of the ledger), so a retried batch bills nothing twice. Campaigns
   * whose range fits their remaining budgets whole (nearly all) cost one grouped read; only those
   * that reach a budget in the range have their events read one by one.
   */
  private async capToBudgets(qr: QueryRunner, from: number, upto: number): Promise<void> {
    const spend = await this.rawEvents.rangeSpend(qr, from, upto);
    if (spend.length === 0) return;
    const lineItemIds = [...new Set(spend.map((r) => r.lineItemId))];
    const campaignIds = [...new Set(spend.map((r) => r.campaignId))];
    const accounts = await this.loadAccounts(qr, lineItemIds, campaignIds);

    const byCampaign = new Map<string, Array<{ li: string; spend: bigint; events: number }>>();
    for (const r of spend) byCampaign.set(r.campaignId, [...(byCampaign.get(r.campaignId) ?? []), { li: r.lineItemId, spend: r.spendMilli, events: r.events }]);
    const whole: CapEvent[] = [];
    const crossing: string[] = [];
    for (const [cp, rows] of byCampaign) {
      const total = rows.reduce((sum, r) => sum + r.spend, 0n);
      const fit = fitsWhole([accounts.get(campaignKey(cp))!, ...rows.map((r) => accounts.get(lineItemKey(r.li))!)], [total, ...rows.map((r) => r.spend)]);
      if (!fit) crossing.push(cp);
      // A campaign that fits whole is billed as one event per line item (same sums, no per-event read).
      else for (const r of rows) whole.push({ id: 0, lineItemId: r.li, campaignId: cp, costMilli: r.spend, events: r.events });
    }
    let events: CapEvent[] = whole;
    if (crossing.length > 0) events = [...whole, ...(await this.rawEvents.rangeBillableEvents(qr, from, upto, crossing))];
    const { writtenOff, changes } = capToBudgets(events, accounts);
    await this.rawEvents.markWrittenOff(qr, writtenOff);
    if (writtenOff.length > 0) this.logger.warn(`${writtenOff.length} billable event(s) delivered past a budget written off (raw events (${from}, ${upto}])`);
    await this.ledger.add(
      qr,
      [...changes].map(([key, c]) => ({ kind: key.startsWith('li:') ? 'line_item' : 'campaign', id: key.slice(3), ...c })),
    );
  }

  /**
   * Budgets (as they stand now) and billed spend of the given line items and campaigns. A line item
   * that no longer exists has no budget to bill against: it reads as a budget of 0 (written off).
   */
  private async loadAccounts(qr: QueryRunner, lineItemIds: string[], campaignIds: string[]): Promise<Map<string, CapAccount>> {
    const budgets = await this.ledger.budgets(qr, lineItemIds, campaignIds);
    const billed = await this.ledger.billedOf(qr, lineItemIds, campaignIds);
    const milli = BigInt(MILLI_PER_MICRO);
    const accounts = new Map<string, CapAccount>();
    for (const id of lineItemIds) {
      const budget = budgets.lineItems.get(id);
      accounts.set(lineItemKey(id), { budgetMilli: budget === undefined ? 0n : budget * milli, billedMilli: billed.lineItems.get(id) ?? 0n });
    }
    for (const id of campaignIds) {
      const budget = budgets.campaigns.get(id);
      accounts.set(campaignKey(id), { budgetMilli: budget === undefined ? 0n : budget === null ? null : budget * milli, billedMilli: billed.campaigns.get(id) ?? 0n });
    }
    return accounts;
  }
}
