import { LineItemRepository } from '@app/campaigns';
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
  private readonly lineItems: LineItemRepository;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly rollups: RollupReader,
  ) {
    this.lineItems = new LineItemRepository(dataSource.manager);
  }

  async evaluate(spec: Pick<SlaSpec, 'target' | 'warn' | 'windowSeconds'>, advertiserId?: string, now = new Date()): Promise<LineItemHealth[]> {
    const items = await this.lineItems.inFlight(now, advertiserId);
    const delivery = await this.rollups.lineItemDelivery(
      items.map((li) => ({ campaignId: li.campaignId, lineItemId: li.id })),
      new Date(now.getTime() - spec.windowSeconds * 1000),
    );
    return items.map((li) => {
      const d = delivery.get(li.id)!;
      const spentMicros = Number(d.billedMilliMicros / 1000n);
      const health = deliveryHealth(
        {
          budgetMicros: li.budgetMicros,
          startAt: li.startAt,
          endAt: li.endAt,
          spentMicros,
          recentSpendMicros: Number(d.recentSpendMilliMicros / 1000n),
          deliveredRecently: d.recentImpressions > 0,
        },
        spec,
        now,
      );
      return { ...health, lineItemId: li.id, campaignId: li.campaignId, advertiserId: li.advertiserId, name: li.name, budgetMicros: li.budgetMicros, spentMicros, writtenOffMicros: Number(d.writtenOffMilliMicros / 1000n), startAt: li.startAt, endAt: li.endAt };
    });
  }
}
