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

  /** The last raw event id included in the rollups: a stable "as of" for anything computed from them. */
  async watermark(manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [row] = (await manager.query("SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups'")) as Array<{ last_id: string }>;
    return Number(row?.last_id ?? 0);
  }
}
