import { onOneConnection } from '@app/platform';
import type { Queryable } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { EVENT_SPEND_MMICROS, ROLLUP_WATERMARK } from '../ledger.sql';
import { RestoreAccounts } from '../ledger.types';

const QUARTER_MS = 900_000;
/** ms since the epoch of a DATETIME(3), independent of the session time zone. */
const EPOCH_MS = (col: string) => `(TIMESTAMPDIFF(SECOND, '1970-01-01', ${col}) * 1000 + MICROSECOND(${col}) DIV 1000)`;

/** Spend (milli-micros) and observed counts of one line item, summed over rollups or raw events. */
export interface LineItemTotals {
  lineItemId: string;
  campaignId: string;
  spentMilliMicros: number;
  impressions: number;
  clicks: number;
  completes: number;
}

/** Spend (milli-micros) of one line item in the span of time that starts at `startMs`. */
export interface SpanSpend {
  lineItemId: string;
  startMs: number;
  spentMilliMicros: number;
}

/** A line item with frequency caps: the period of each cap, seconds (0 where a cap has none). */
export interface CappedLineItem {
  lineItemId: string;
  capPeriodsSeconds: number[];
}

/** One listener's impressions of one line item, oldest first (`at`: ms since the epoch). */
export interface ListenerImpressions {
  lineItemId: string;
  userId: string;
  impressions: Array<{ decisionId: string; at: number }>;
}

/**
 * The SQL of the ledger's rebuild: the accounts it covers, and its reads of one repeatable-read
 * snapshot of measurement's tables (the rollup watermark, rollups, raw events above the watermark)
 * and of line items' frequency caps. Each read takes the snapshot's QueryRunner (a Queryable) first.
 */
@Injectable()
export class LedgerSnapshotRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Line items and campaigns of every campaign still able to serve (not completed or archived). */
  async servingAccounts(): Promise<RestoreAccounts> {
    const rows = (await this.dataSource.query(
      "SELECT c.id AS cp, li.id AS li FROM campaigns c LEFT JOIN line_items li ON li.campaign_id = c.id WHERE c.status NOT IN ('completed', 'archived')",
    )) as Array<{ cp: string; li: string | null }>;
    return { campaignIds: [...new Set(rows.map((r) => r.cp))], lineItemIds: rows.flatMap((r) => (r.li ? [r.li] : [])) };
  }

  /** Runs `work` in one REPEATABLE READ transaction on one connection, committed when it returns, rolled back when it throws. */
  snapshot<T>(work: (qr: QueryRunner) => Promise<T>): Promise<T> {
    return onOneConnection(this.dataSource, async (qr) => {
      // One listener's impressions of a line item come as one GROUP_CONCAT (about 50 bytes each).
      await qr.query('SET SESSION group_concat_max_len = 67108864');
      await qr.startTransaction('REPEATABLE READ');
      try {
        const result = await work(qr);
        await qr.commitTransaction();
        return result;
      } catch (err) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  }

  /** The last raw event id in the rollups (0 before the first batch). */
  async watermark(qr: Queryable): Promise<number> {
    const [wm] = (await qr.query('SELECT last_id FROM aggregation_watermarks WHERE name = ?', [ROLLUP_WATERMARK])) as Array<{ last_id: string }>;
    return Number(wm?.last_id ?? 0);
  }

  /** Lifetime totals per line item of some campaigns in the hourly rollups. */
  async rolledTotals(qr: Queryable, campaignIds: string[]): Promise<LineItemTotals[]> {
    if (campaignIds.length === 0) return [];
    const rows = (await qr.query(
      `SELECT line_item_id AS li, campaign_id AS cp, SUM(spend_mmicros + written_off_mmicros) AS spend, SUM(impressions) AS imps, SUM(clicks) AS clicks, SUM(completes) AS completes
       FROM event_rollups_hourly WHERE campaign_id IN (?) GROUP BY line_item_id, campaign_id`,
      [campaignIds],
    )) as TotalsRow[];
    return rows.map(toTotals);
  }

  /** Totals per line item of some campaigns in the valid raw events above `watermark` (not yet rolled up). */
  async tailTotals(qr: Queryable, campaignIds: string[], watermark: number): Promise<LineItemTotals[]> {
    if (campaignIds.length === 0) return [];
    const rows = (await qr.query(
      `SELECT line_item_id AS li, campaign_id AS cp, SUM(${EVENT_SPEND_MMICROS}) AS spend, SUM(event_type = 'impression') AS imps, SUM(event_type = 'click') AS clicks, SUM(event_type = 'complete') AS completes
       FROM raw_events WHERE id > ? AND status = 'valid' AND campaign_id IN (?) GROUP BY line_item_id, campaign_id`,
      [watermark, campaignIds],
    )) as TotalsRow[];
    return rows.map(toTotals);
  }

  /** Spend per line item and hour of the rollups from `from` on (hours that spent nothing are left out). */
  async rolledSpendByHour(qr: Queryable, campaignIds: string[], from: Date): Promise<SpanSpend[]> {
    if (campaignIds.length === 0) return [];
    const rows = (await qr.query(
      `SELECT line_item_id AS li, ${EPOCH_MS('hour')} AS start_ms, SUM(spend_mmicros + written_off_mmicros) AS spend
       FROM event_rollups_hourly WHERE campaign_id IN (?) AND hour >= ? AND spend_mmicros + written_off_mmicros > 0 GROUP BY line_item_id, hour`,
      [campaignIds, from],
    )) as SpanRow[];
    return rows.map(toSpanSpend);
  }

  /** Spend per line item and UTC quarter hour of the valid raw events above `watermark` that occurred from `from` on. */
  async tailSpendByQuarter(qr: Queryable, campaignIds: string[], watermark: number, from: Date): Promise<SpanSpend[]> {
    if (campaignIds.length === 0) return [];
    const rows = (await qr.query(
      `SELECT line_item_id AS li, (${EPOCH_MS('occurred_at')} DIV ${QUARTER_MS}) * ${QUARTER_MS} AS start_ms, SUM(${EVENT_SPEND_MMICROS}) AS spend
       FROM raw_events WHERE id > ? AND status = 'valid' AND campaign_id IN (?) AND occurred_at >= ? GROUP BY line_item_id, start_ms`,
      [watermark, campaignIds, from],
    )) as SpanRow[];
    return rows.map(toSpanSpend);
  }

  /** Line items of some campaigns that have at least one frequency cap. */
  async cappedLineItems(qr: Queryable, campaignIds: string[]): Promise<CappedLineItem[]> {
    if (campaignIds.length === 0) return [];
    const rows = (await qr.query('SELECT id, frequency_caps FROM line_items WHERE campaign_id IN (?) AND JSON_LENGTH(frequency_caps) > 0', [campaignIds])) as Array<{
      id: string;
      frequency_caps: string | Array<{ periodSeconds: number }>;
    }>;
    return rows.map((li) => {
      const caps = (typeof li.frequency_caps === 'string' ? JSON.parse(li.frequency_caps) : li.frequency_caps) as Array<{ periodSeconds?: number }>;
      return { lineItemId: li.id, capPeriodsSeconds: caps.map((c) => Number(c.periodSeconds) || 0) };
    });
  }

  /** Each listener's valid impressions of some line items that occurred from `since` on, one row per line item and listener. */
  async impressionTimes(qr: Queryable, lineItemIds: string[], since: Date): Promise<ListenerImpressions[]> {
    if (lineItemIds.length === 0) return [];
    // received_at >= since is implied by occurred_at >= since (events are never received before they happen) and is indexed.
    const rows = (await qr.query(
      `SELECT line_item_id AS li, user_id AS u, GROUP_CONCAT(CONCAT(${EPOCH_MS('occurred_at')}, ' ', decision_id) ORDER BY occurred_at SEPARATOR ',') AS times
       FROM raw_events WHERE received_at >= ? AND occurred_at >= ? AND line_item_id IN (?) AND event_type = 'impression' AND status = 'valid'
       GROUP BY line_item_id, user_id`,
      [since, since, lineItemIds],
    )) as Array<{ li: string; u: string; times: string }>;
    return rows.map((r) => ({
      lineItemId: r.li,
      userId: r.u,
      impressions: r.times.split(',').map((pair) => {
        const [at, decisionId] = pair.split(' ');
        return { decisionId, at: Number(at) };
      }),
    }));
  }
}

type TotalsRow = { li: string; cp: string; spend: string | null; imps: string | null; clicks: string | null; completes: string | null };
type SpanRow = { li: string; start_ms: string; spend: string | null };

function toTotals(r: TotalsRow): LineItemTotals {
  return {
    lineItemId: r.li,
    campaignId: r.cp,
    spentMilliMicros: Number(r.spend ?? 0),
    impressions: Number(r.imps ?? 0),
    clicks: Number(r.clicks ?? 0),
    completes: Number(r.completes ?? 0),
  };
}

function toSpanSpend(r: SpanRow): SpanSpend {
  return { lineItemId: r.li, startMs: Number(r.start_ms), spentMilliMicros: Number(r.spend ?? 0) };
}
