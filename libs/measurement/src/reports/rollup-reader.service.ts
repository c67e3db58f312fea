import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Measured billable activity of one line item over a range. */
export interface LineItemSpend {
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  /** Valid billable events (CPM impressions, CPC clicks, CPCL completes). */
  billableEvents: number;
  /** Exact spend in milli-micros (1/1000 micro); round once, where the bill is made. */
  spendMilliMicros: bigint;
}

/** Billed and recent delivery of one line item (delivery health). */
export interface LineItemDelivery {
  /** Billed so far (spend ledger), milli-micros. */
  billedMilliMicros: bigint;
  /** Spend rolled up since the requested time (whole hours), milli-micros. */
  recentSpendMilliMicros: bigint;
  recentImpressions: number;
}

/**
 * Read side of the rollups for other libs (billing): measured spend by line item over whole UTC hours
 * [from, to), by event time. Pass an EntityManager to read inside the caller's transaction/snapshot.
 */
@Injectable()
export class RollupReader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async spendByLineItem(range: { from: Date; to: Date; advertiserId?: string }, manager: EntityManager = this.dataSource.manager): Promise<LineItemSpend[]> {
    const params: unknown[] = [range.from, range.to];
    let where = 'hour >= ? AND hour < ?';
    if (range.advertiserId) {
      where = `advertiser_id = ? AND ${where}`;
      params.unshift(range.advertiserId);
    }
    const rows = (await manager.query(
      `SELECT advertiser_id, campaign_id, line_item_id, SUM(billable_events) AS billable, SUM(spend_mmicros) AS spend
       FROM event_rollups_hourly WHERE ${where} GROUP BY advertiser_id, campaign_id, line_item_id ORDER BY advertiser_id, campaign_id, line_item_id`,
      params,
    )) as Array<{ advertiser_id: string; campaign_id: string; line_item_id: string; billable: string; spend: string }>;
    return rows.map((r) => ({
      advertiserId: r.advertiser_id,
      campaignId: r.campaign_id,
      lineItemId: r.line_item_id,
      billableEvents: Number(r.billable),
      spendMilliMicros: BigInt(r.spend.split('.')[0]),
    }));
  }

  /**
   * For delivery health: per line item, what has been billed so far (spend ledger) and what was
   * delivered since `since` (rollups, from the hour containing it). Read by campaign, the rollups' key.
   */
  async lineItemDelivery(items: ReadonlyArray<{ campaignId: string; lineItemId: string }>, since: Date): Promise<Map<string, LineItemDelivery>> {
    const result = new Map<string, LineItemDelivery>();
    if (items.length === 0) return result;
    for (const item of items) result.set(item.lineItemId, { billedMilliMicros: 0n, recentSpendMilliMicros: 0n, recentImpressions: 0 });
    const lineItemIds = items.map((i) => i.lineItemId);
    const campaignIds = [...new Set(items.map((i) => i.campaignId))];
    const billed = (await this.dataSource.query(`SELECT account_id, billed_mmicros FROM spend_ledger WHERE account_kind = 'line_item' AND account_id IN (?)`, [lineItemIds])) as Array<{ account_id: string; billed_mmicros: string }>;
    for (const row of billed) result.get(row.account_id)!.billedMilliMicros = BigInt(row.billed_mmicros);
    const hour = new Date(Math.floor(since.getTime() / 3_600_000) * 3_600_000);
    const recent = (await this.dataSource.query(
      `SELECT line_item_id, SUM(spend_mmicros) AS spend, SUM(impressions) AS impressions FROM event_rollups_hourly
        WHERE campaign_id IN (?) AND hour >= ? GROUP BY line_item_id`,
      [campaignIds, hour],
    )) as Array<{ line_item_id: string; spend: string; impressions: string }>;
    for (const row of recent) {
      const entry = result.get(row.line_item_id);
      if (!entry) continue;
      entry.recentSpendMilliMicros = BigInt(String(row.spend).split('.')[0]);
      entry.recentImpressions = Number(row.impressions);
    }
    return result;
  }

  /** The last raw event id included in the rollups: a stable "as of" for anything computed from them. */
  async watermark(manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [row] = (await manager.query("SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups'")) as Array<{ last_id: string }>;
    return Number(row?.last_id ?? 0);
  }
}
