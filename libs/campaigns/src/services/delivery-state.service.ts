import { DeliveryState, SPEND_STATE, SpendState, SpendStateReader, deliveryStateOf } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CampaignEntity } from '../entities/campaign.entity';
import { LineItemEntity } from '../entities/line-item.entity';

const MILLI = 1000n;

/**
 * `deliveryState` of line items and campaigns from their spend (measurement's SPEND_STATE, resolved at
 * run time: campaigns cannot import measurement, which depends on it). One ledger read and one Redis
 * call per page. Without a provider (tests of this lib alone) only flight and status are considered.
 */
@Injectable()
export class DeliveryStateService {
  private reader?: SpendStateReader | null;

  constructor(private readonly moduleRef: ModuleRef) {}

  async ofLineItems(rows: Array<{ li: LineItemEntity; campaign: CampaignEntity }>, now = Date.now()): Promise<Map<string, DeliveryState>> {
    const reader = this.spendReader();
    const [spend, campaignSpend] = reader
      ? await Promise.all([reader.lineItems(rows.map((r) => r.li.id)), reader.campaigns([...new Set(rows.map((r) => r.campaign.id))])])
      : [new Map<string, SpendState>(), new Map<string, SpendState>()];
    return new Map(
      rows.map(({ li, campaign }) => {
        const unitMilli = li.pricingModel === 'CPM' ? BigInt(li.rateMicros) : BigInt(li.rateMicros) * MILLI;
        const parentSpent = campaign.budgetMicros !== null && (campaignSpend.get(campaign.id)?.billedMilli ?? 0n) + unitMilli > BigInt(campaign.budgetMicros) * MILLI;
        return [
          li.id,
          deliveryStateOf({
            status: li.status,
            active: li.status === 'active' && campaign.status === 'active',
            startAt: li.startAt ?? campaign.startAt,
            endAt: li.endAt ?? campaign.endAt,
            now,
            budgetMilli: BigInt(li.budgetMicros) * MILLI,
            dailyBudgetMilli: li.dailyBudgetMicros === null ? null : BigInt(li.dailyBudgetMicros) * MILLI,
            unitMilli,
            spend: spend.get(li.id),
            parentBudgetSpent: parentSpent,
          }),
        ];
      }),
    );
  }

  async ofCampaigns(rows: CampaignEntity[], now = Date.now()): Promise<Map<string, DeliveryState>> {
    const reader = this.spendReader();
    const spend = reader ? await reader.campaigns(rows.map((c) => c.id)) : new Map<string, SpendState>();
    return new Map(
      rows.map((c) => [
        c.id,
        deliveryStateOf({
          status: c.status,
          active: c.status === 'active',
          startAt: c.startAt,
          endAt: c.endAt,
          now,
          budgetMilli: c.budgetMicros === null ? null : BigInt(c.budgetMicros) * MILLI,
          dailyBudgetMilli: null,
          // A campaign is spent when nothing more can be billed to it (its ledger reached the budget).
          unitMilli: 1n,
          spend: spend.get(c.id),
        }),
      ]),
    );
  }

  private spendReader(): SpendStateReader | null {
    if (this.reader === undefined) {
      try {
        this.reader = this.moduleRef.get<SpendStateReader>(SPEND_STATE, { strict: false });
      } catch {
        this.reader = null;
      }
    }
    return this.reader;
  }
}
