import { MILLI_PER_MICRO, ROLLUP_WATERMARK } from '@app/delivery-ledger';
import { WorkerConfig, sqlBigInt } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import { DataSource, QueryRunner } from 'typeorm';
import { CellListener, addToReachSketches } from '../reach/reach-sketch.store';
import { DAILY_ROLLUP_UPSERT, QUARTER_ROLLUP_UPSERT, RANGE_BILLABLE_EVENTS, RANGE_SPEND, REACH_SKETCH_LISTENERS, REACH_UPSERT, ROLLUP_UPSERT } from './aggregation.sql';
import { CapAccount, CapEvent, campaignKey, capToBudgets, fitsWhole, lineItemKey } from './budget-cap';

/** How long one job keeps rolling batches before handing over to the next run, ms. */
const RUN_BUDGET_MS = 10_000;
/** Ids per UPDATE that marks events written off. */
const WRITE_OFF_CHUNK = 1000;
/** "Lock wait timeout" (MariaDB, and MySQL without NOWAIT) and "NOWAIT lock not available" (MySQL 8). */
const LOCK_BUSY_ERRNOS = new Set([1205, 3572]);

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

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: WorkerConfig,
  ) {}

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
    return this.withConnection(async (qr) => {
      // First the read, then the lock (autocommit: held only while the statement runs). The other way
      // round, a transaction that took its ids after the lock could commit a higher id before the read
      // while holding a lower one still uncommitted.
      const [row] = (await qr.query('SELECT COALESCE(MAX(id), 0) AS max_id FROM raw_events')) as Array<{ max_id: string }>;
      await qr.query('SELECT id FROM ingest_fence WHERE id = 1 FOR UPDATE');
      return Number(row.max_id);
    });
  }

  private async aggregateBatch(settledId: number): Promise<{ state: AggregationRun['state']; watermark: number }> {
    return this.inTransaction(async (qr) => {
      let rows: Array<{ last_id: string }>;
      try {
        rows = (await qr.query('SELECT last_id FROM aggregation_watermarks WHERE name = ? FOR UPDATE NOWAIT', [ROLLUP_WATERMARK])) as Array<{ last_id: string }>;
      } catch (err) {
        if (LOCK_BUSY_ERRNOS.has((err as { errno?: number; driverError?: { errno?: number } }).driverError?.errno ?? (err as { errno?: number }).errno ?? 0)) {
          return { state: 'busy' as const, watermark: -1 };
        }
        throw err;
      }
      if (rows.length === 0) throw new Error(`aggregation watermark '${ROLLUP_WATERMARK}' is missing (migrations not applied?)`);
      const watermark = Number(rows[0].last_id);
      if (watermark >= settledId) return { state: 'idle' as const, watermark };
      const upto = Math.min(settledId, watermark + this.config.AGGREGATION_BATCH_SIZE);
      await this.capToBudgets(qr, watermark, upto);
      await qr.query(ROLLUP_UPSERT, [watermark, upto]);
      await qr.query(DAILY_ROLLUP_UPSERT, [watermark, upto]);
      await qr.query(QUARTER_ROLLUP_UPSERT, [watermark, upto]);
      await qr.query(REACH_UPSERT, [watermark, upto]);
      await addToReachSketches(qr, (await qr.query(REACH_SKETCH_LISTENERS, [watermark, upto])) as CellListener[]);
      await qr.query('UPDATE aggregation_watermarks SET last_id = ?, batches = batches + 1, updated_at = ?, updated_by = ? WHERE name = ?', [
        upto,
        new Date(),
        this.who,
        ROLLUP_WATERMARK,
      ]);
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
    const spend = (await qr.query(RANGE_SPEND, [from, upto])) as Array<{ li: string; cp: string; spend: string; events: string }>;
    if (spend.length === 0) return;
    const lineItemIds = [...new Set(spend.map((r) => r.li))];
    const campaignIds = [...new Set(spend.map((r) => r.cp))];
    const accounts = await this.loadAccounts(qr, lineItemIds, campaignIds);

    const byCampaign = new Map<string, Array<{ li: string; spend: bigint; events: number }>>();
    for (const r of spend) byCampaign.set(r.cp, [...(byCampaign.get(r.cp) ?? []), { li: r.li, spend: toBigInt(r.spend), events: Number(r.events) }]);
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
    if (crossing.length > 0) {
      const rows = (await qr.query(RANGE_BILLABLE_EVENTS, [from, upto, crossing])) as Array<{ id: string; li: string; cp: string; cost: string }>;
      events = [...whole, ...rows.map((r) => ({ id: Number(r.id), lineItemId: r.li, campaignId: r.cp, costMilli: toBigInt(r.cost) }))];
    }
    const { writtenOff, changes } = capToBudgets(events, accounts);
    for (let i = 0; i < writtenOff.length; i += WRITE_OFF_CHUNK) {
      await qr.query('UPDATE raw_events SET written_off = 1 WHERE id IN (?)', [writtenOff.slice(i, i + WRITE_OFF_CHUNK)]);
    }
    if (writtenOff.length > 0) this.logger.warn(`${writtenOff.length} billable event(s) delivered past a budget written off (raw events (${from}, ${upto}])`);
    const values = [...changes].map(([key, c]) => [
      key.startsWith('li:') ? 'line_item' : 'campaign',
      key.slice(3),
      c.billedEvents,
      c.billedMilli.toString(),
      c.writtenOffEvents,
      c.writtenOffMilli.toString(),
      new Date(),
    ]);
    await qr.query(
      `INSERT INTO spend_ledger (account_kind, account_id, billed_events, billed_mmicros, written_off_events, written_off_mmicros, updated_at) VALUES ?
       ON DUPLICATE KEY UPDATE billed_events = billed_events + VALUES(billed_events), billed_mmicros = billed_mmicros + VALUES(billed_mmicros),
         written_off_events = written_off_events + VALUES(written_off_events), written_off_mmicros = written_off_mmicros + VALUES(written_off_mmicros), updated_at = VALUES(updated_at)`,
      [values],
    );
  }

  /**
   * Budgets (as they stand now) and billed spend of the given line items and campaigns. A line item
   * that no longer exists has no budget to bill against: it reads as a budget of 0 (written off).
   */
  private async loadAccounts(qr: QueryRunner, lineItemIds: string[], campaignIds: string[]): Promise<Map<string, CapAccount>> {
    const budgets = (await qr.query('SELECT id, budget_micros AS budget FROM line_items WHERE id IN (?)', [lineItemIds])) as Array<{ id: string; budget: string }>;
    const campaignBudgets = (await qr.query('SELECT id, budget_micros AS budget FROM campaigns WHERE id IN (?)', [campaignIds])) as Array<{ id: string; budget: string | null }>;
    const billed = (await qr.query(
      `SELECT account_kind AS kind, account_id AS id, billed_mmicros AS billed FROM spend_ledger
       WHERE (account_kind = 'line_item' AND account_id IN (?)) OR (account_kind = 'campaign' AND account_id IN (?))`,
      [lineItemIds, campaignIds],
    )) as Array<{ kind: string; id: string; billed: string }>;
    const billedOf = new Map(billed.map((r) => [`${r.kind === 'line_item' ? 'li' : 'cp'}:${r.id}`, toBigInt(r.billed)]));
    const milli = BigInt(MILLI_PER_MICRO);
    const accounts = new Map<string, CapAccount>();
    for (const id of lineItemIds) accounts.set(lineItemKey(id), { budgetMilli: 0n, billedMilli: billedOf.get(lineItemKey(id)) ?? 0n });
    for (const r of budgets) accounts.get(lineItemKey(r.id))!.budgetMilli = toBigInt(r.budget) * milli;
    for (const id of campaignIds) accounts.set(campaignKey(id), { budgetMilli: 0n, billedMilli: billedOf.get(campaignKey(id)) ?? 0n });
    for (const r of campaignBudgets) accounts.get(campaignKey(r.id))!.budgetMilli = r.budget === null ? null : toBigInt(r.budget) * milli;
    return accounts;
  }

  /** READ COMMITTED: the rollup's INSERT ... SELECT then reads raw_events without locking it. */
  private inTransaction<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    return this.withConnection(async (qr) => {
      await qr.startTransaction('READ COMMITTED');
      try {
        const result = await work(qr);
        if (qr.isTransactionActive) await qr.commitTransaction();
        return result;
      } catch (err) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  }

  /** A connection of the pool with a 10 s lock wait (not MySQL's 50), released whatever happens. */
  private async withConnection<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.query('SET SESSION innodb_lock_wait_timeout = 10');
      return await work(qr);
    } finally {
      await qr.release();
    }
  }
}

/** A MySQL integer or integral DECIMAL (as mysql2 returns sums) as a bigint. */
function toBigInt(value: string | number): bigint {
  return sqlBigInt(value);
}
