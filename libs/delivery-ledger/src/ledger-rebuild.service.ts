import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { DeliveryLedger, MAX_CAP_PERIOD_SECONDS } from './delivery-ledger.service';
import { EVENT_SPEND_MMICROS, ROLLUP_WATERMARK } from './ledger.sql';
import { CountersRestoreState, FrequencyRestoreRow, RatesRestoreRow, RestoreAccounts, SpendRestoreRow } from './ledger.types';

/** Recent spend handed to delivery (it needs ~26 h to recompute "today" in any timezone). */
const RECENT_MS = 27 * 3600 * 1000;
const QUARTER_MS = 900_000;
/** Line items whose listeners' impression times are read per query (bounds memory). */
const FREQUENCY_CHUNK = 50;
/** ms since the epoch of a DATETIME(3), independent of the session time zone. */
const EPOCH_MS = (col: string) => `(TIMESTAMPDIFF(SECOND, '1970-01-01', ${col}) * 1000 + MICROSECOND(${col}) DIV 1000)`;

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
 * counted twice. Set-based SQL; impression times are read a chunk of line items at a time.
 * Covers every campaign still able to serve (not completed or archived), with all its line items,
 * since a campaign's total is the sum of its line items'.
 */
@Injectable()
export class LedgerRebuildService {
  private readonly logger = new Logger(LedgerRebuildService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly counters: DeliveryLedger,
  ) {}

  async restoreIfNeeded(now: number = Date.now()): Promise<RestoreRun> {
    if (!(await this.counters.needsRestore())) return { restored: false };
    // Recording of newly applied events starts before the snapshot is taken (see beginRestore): events
    // stored after the snapshot are then added to it, none is lost from the counters.
    const accounts = await this.accounts();
    const token = await this.counters.beginRestore(accounts);
    if (!token) return { restored: false };
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    let lineItems: number;
    let frequencyRows = 0;
    try {
      // One listener's impressions of a line item come as one GROUP_CONCAT (about 50 bytes each).
      await qr.query('SET SESSION group_concat_max_len = 67108864');
      await qr.startTransaction('REPEATABLE READ');
      // The first read fixes the snapshot every later read of this transaction sees.
      const [wm] = (await qr.query('SELECT last_id FROM aggregation_watermarks WHERE name = ?', [ROLLUP_WATERMARK])) as Array<{ last_id: string }>;
      const watermark = Number(wm?.last_id ?? 0);
      // The campaigns read just before the rebuild began (a campaign created since has nothing to restore).
      const { campaignIds } = accounts;
      const { spend, rates } = await this.readSpendAndRates(qr, campaignIds, watermark, now);
      lineItems = spend.length;
      await this.counters.restore({ spend, frequency: [], rates });
      for await (const frequency of this.readFrequency(qr, campaignIds, now)) {
        frequencyRows += frequency.length;
        await this.counters.restore({ spend: [], frequency, rates: [] } satisfies CountersRestoreState);
      }
      await qr.commitTransaction();
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      await this.counters.abortRestore(token).catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
    await this.counters.finishRestore(token, accounts);
    this.logger.log(`delivery counters restored from MySQL: ${lineItems} line item(s), ${frequencyRows} listener/line item pair(s)`);
    return { restored: true, lineItems, frequencyRows };
  }

  /** Line items and campaigns a rebuild covers: those of every campaign still able to serve. */
  private async accounts(): Promise<RestoreAccounts> {
    const rows = (await this.dataSource.query(
      "SELECT c.id AS cp, li.id AS li FROM campaigns c LEFT JOIN line_items li ON li.campaign_id = c.id WHERE c.status NOT IN ('completed', 'archived')",
    )) as Array<{ cp: string; li: string | null }>;
    return { campaignIds: [...new Set(rows.map((r) => r.cp))], lineItemIds: rows.flatMap((r) => (r.li ? [r.li] : [])) };
  }

  private async readSpendAndRates(qr: QueryRunner, campaignIds: string[], watermark: number, now: number): Promise<{ spend: SpendRestoreRow[]; rates: RatesRestoreRow[] }> {
    if (campaignIds.length === 0) return { spend: [], rates: [] };
    const recentFrom = new Date(now - RECENT_MS);
    type Totals = { li: string; cp: string; spend: string; imps: string; clicks: string; completes: string };
    const rolled = (await qr.query(
      `SELECT line_item_id AS li, campaign_id AS cp, SUM(spend_mmicros + written_off_mmicros) AS spend, SUM(impressions) AS imps, SUM(clicks) AS clicks, SUM(completes) AS completes
       FROM event_rollups_hourly WHERE campaign_id IN (?) GROUP BY line_item_id, campaign_id`,
      [campaignIds],
    )) as Totals[];
    const tail = (await qr.query(
      `SELECT line_item_id AS li, campaign_id AS cp, SUM(${EVENT_SPEND_MMICROS}) AS spend, SUM(event_type = 'impression') AS imps, SUM(event_type = 'click') AS clicks, SUM(event_type = 'complete') AS completes
       FROM raw_events WHERE id > ? AND status = 'valid' AND campaign_id IN (?) GROUP BY line_item_id, campaign_id`,
      [watermark, campaignIds],
    )) as Totals[];
    type Recent = { li: string; start_ms: string; spend: string };
    const recentRolled = (await qr.query(
      `SELECT line_item_id AS li, ${EPOCH_MS('hour')} AS start_ms, SUM(spend_mmicros + written_off_mmicros) AS spend
       FROM event_rollups_hourly WHERE campaign_id IN (?) AND hour >= ? AND spend_mmicros + written_off_mmicros > 0 GROUP BY line_item_id, hour`,
      [campaignIds, recentFrom],
    )) as Recent[];
    const recentTail = (await qr.query(
      `SELECT line_item_id AS li, (${EPOCH_MS('occurred_at')} DIV ${QUARTER_MS}) * ${QUARTER_MS} AS start_ms, SUM(${EVENT_SPEND_MMICROS}) AS spend
       FROM raw_events WHERE id > ? AND status = 'valid' AND campaign_id IN (?) AND occurred_at >= ? GROUP BY line_item_id, start_ms`,
      [watermark, campaignIds, recentFrom],
    )) as Recent[];

    const byLineItem = new Map<string, SpendRestoreRow & RatesRestoreRow>();
    for (const r of [...rolled, ...tail]) {
      const row = byLineItem.get(r.li) ?? { lineItemId: r.li, campaignId: r.cp, spentMilliMicros: 0, recent: [], impressions: 0, clicks: 0, completes: 0 };
      row.spentMilliMicros += Number(r.spend ?? 0);
      row.impressions += Number(r.imps ?? 0);
      row.clicks += Number(r.clicks ?? 0);
      row.completes += Number(r.completes ?? 0);
      byLineItem.set(r.li, row);
    }
    for (const r of [...recentRolled, ...recentTail]) {
      const spend = Number(r.spend ?? 0);
      if (spend > 0) byLineItem.get(r.li)?.recent.push({ quarterStartMs: Number(r.start_ms), spentMilliMicros: spend });
    }
    const rows = [...byLineItem.values()];
    return {
      spend: rows.map(({ lineItemId, campaignId, spentMilliMicros, recent }) => ({ lineItemId, campaignId, spentMilliMicros, recent })),
      rates: rows.map(({ lineItemId, impressions, clicks, completes }) => ({ lineItemId, impressions, clicks, completes })),
    };
  }

  /** Impression times per listener of each capped line item, within its longest cap period. */
  private async *readFrequency(qr: QueryRunner, campaignIds: string[], now: number): AsyncGenerator<FrequencyRestoreRow[]> {
    if (campaignIds.length === 0) return;
    const lineItems = (await qr.query('SELECT id, frequency_caps FROM line_items WHERE campaign_id IN (?) AND JSON_LENGTH(frequency_caps) > 0', [campaignIds])) as Array<{
      id: string;
      frequency_caps: string | Array<{ periodSeconds: number }>;
    }>;
    const periods = new Map<string, number>();
    for (const li of lineItems) {
      const caps = (typeof li.frequency_caps === 'string' ? JSON.parse(li.frequency_caps) : li.frequency_caps) as Array<{ periodSeconds?: number }>;
      const longest = Math.min(MAX_CAP_PERIOD_SECONDS, Math.max(0, ...caps.map((c) => Number(c.periodSeconds) || 0)));
      if (longest > 0) periods.set(li.id, longest * 1000);
    }
    const ids = [...periods.keys()];
    for (let i = 0; i < ids.length; i += FREQUENCY_CHUNK) {
      const chunk = ids.slice(i, i + FREQUENCY_CHUNK);
      const since = new Date(now - Math.max(...chunk.map((id) => periods.get(id)!)));
      // received_at >= since is implied by occurred_at >= since (events are never received before they happen) and is indexed.
      const rows = (await qr.query(
        `SELECT line_item_id AS li, user_id AS u, GROUP_CONCAT(CONCAT(${EPOCH_MS('occurred_at')}, ' ', decision_id) ORDER BY occurred_at SEPARATOR ',') AS times
         FROM raw_events WHERE received_at >= ? AND occurred_at >= ? AND line_item_id IN (?) AND event_type = 'impression' AND status = 'valid'
         GROUP BY line_item_id, user_id`,
        [since, since, chunk],
      )) as Array<{ li: string; u: string; times: string }>;
      const out: FrequencyRestoreRow[] = [];
      for (const r of rows) {
        const from = now - periods.get(r.li)!;
        const impressions = r.times
          .split(',')
          .map((pair) => {
            const [at, decisionId] = pair.split(' ');
            return { decisionId, at: Number(at) };
          })
          .filter((i) => i.at >= from);
        if (impressions.length > 0) out.push({ lineItemId: r.li, userId: r.u, impressions });
      }
      if (out.length > 0) yield out;
    }
  }
}
