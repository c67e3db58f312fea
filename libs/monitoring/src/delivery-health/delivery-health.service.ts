import { RollupReader } from '@app/measurement';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SlaSpec } from '../sla/sla.definitions';
import { DeliveryHealth, deliveryHealth } from './delivery-health.rules';

export interface LineItemHealth extends DeliveryHealth {
  lineItemId: string;
  campaignId: string;
  advertiserId: string;
  name: string;
  budgetMicros: number;
  spentMicros: number;
  /** Delivered past the budget, written off (never billed), micros. */
  writtenOffMicros: number;
  startAt: Date;
  endAt: Date;
}

/** Delivery health of every active line item in flight (or one advertiser's): spend from measurement's rollups and ledger. */
@Injectable()
export class DeliveryHealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rollups: RollupReader,
  ) {}

  async evaluate(spec: Pick<SlaSpec, 'target' | 'warn' | 'windowSeconds'>, advertiserId?: string, now = new Date()): Promise<LineItemHealth[]> {
    const rows = (await this.dataSource.query(
      `SELECT li.id, li.advertiser_id, li.campaign_id, li.name, li.budget_micros,
              COALESCE(li.start_at, c.start_at) AS start_at, COALESCE(li.end_at, c.end_at) AS end_at
         FROM line_items li JOIN campaigns c ON c.id = li.campaign_id
        WHERE li.status = 'active' AND c.status = 'active'
          AND COALESCE(li.start_at, c.start_at) <= ? AND COALESCE(li.end_at, c.end_at) > ?${advertiserId ? ' AND li.advertiser_id = ?' : ''}
        ORDER BY li.id`,
      advertiserId ? [now, now, advertiserId] : [now, now],
    )) as Array<{ id: string; advertiser_id: string; campaign_id: string; name: string; budget_micros: string; start_at: Date; end_at: Date }>;
    const delivery = await this.rollups.lineItemDelivery(
      rows.map((r) => ({ campaignId: r.campaign_id, lineItemId: r.id })),
      new Date(now.getTime() - spec.windowSeconds * 1000),
    );
    return rows.map((r) => {
      const d = delivery.get(r.id)!;
      const spentMicros = Number(d.billedMilliMicros / 1000n);
      const health = deliveryHealth(
        {
          budgetMicros: Number(r.budget_micros),
          startAt: r.start_at,
          endAt: r.end_at,
          spentMicros,
          recentSpendMicros: Number(d.recentSpendMilliMicros / 1000n),
          deliveredRecently: d.recentImpressions > 0,
        },
        spec,
        now,
      );
      return { ...health, lineItemId: r.id, campaignId: r.campaign_id, advertiserId: r.advertiser_id, name: r.name, budgetMicros: Number(r.budget_micros), spentMicros, writtenOffMicros: Number(d.writtenOffMilliMicros / 1000n), startAt: r.start_at, endAt: r.end_at };
    });
  }
}
