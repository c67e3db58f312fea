import type { EntityManager } from 'typeorm';
import { CampaignEntity } from '../entities/campaign.entity';
import { LineItemEntity } from '../entities/line-item.entity';
import { AuditedRepository } from './audited.repository';

/** A campaign's line items (not archived) that a new flight or budget would no longer hold, one of each kind. */
export interface LineItemsOutside {
  startingBefore?: string;
  endingAfter?: string;
  /** Without a flight of its own on one side, it would end before it starts. */
  inverted?: string;
  overBudget?: string;
}

export class CampaignRepository extends AuditedRepository<CampaignEntity> {
  constructor(manager: EntityManager) {
    super(manager, { entity: CampaignEntity, table: 'campaigns', ownerColumn: 'advertiser_id', owner: (c) => c.advertiserId });
  }

  /**
   * Completes what is active or paused and whose flight has ended at `now`, in two set-based
   * statements: line items first, on their effective end (own or campaign's), before their campaign changes.
   */
  async completeEnded(now: Date, actor: string): Promise<{ campaigns: number; lineItems: number }> {
    const li: { affectedRows: number } = await this.manager.query(
      `UPDATE line_items li JOIN campaigns c ON c.id = li.campaign_id
          SET li.status = 'completed', li.version = li.version + 1, li.updated_at = ?, li.updated_by = ?
        WHERE li.status IN ('active', 'paused') AND COALESCE(li.end_at, c.end_at) <= ?`,
      [now, actor, now],
    );
    const c: { affectedRows: number } = await this.manager.query(
      `UPDATE campaigns SET status = 'completed', version = version + 1, updated_at = ?, updated_by = ?
        WHERE status IN ('active', 'paused') AND end_at <= ?`,
      [now, actor, now],
    );
    return { campaigns: c.affectedRows, lineItems: li.affectedRows };
  }

  async lineItemsOutside(campaignId: string, startAt: Date, endAt: Date, budgetMicros: number | null): Promise<LineItemsOutside> {
    const qb = this.manager
      .getRepository(LineItemEntity)
      .createQueryBuilder('li')
      .select('li.id', 'id')
      .where('li.campaign_id = :campaignId', { campaignId })
      .andWhere("li.status <> 'archived'");
    const first = async (condition: string, params: Record<string, unknown>) => (await qb.clone().andWhere(condition, params).limit(1).getRawOne<{ id: string }>())?.id;
    return {
      startingBefore: await first('li.start_at < :startAt', { startAt }),
      endingAfter: await first('li.end_at > :endAt', { endAt }),
      inverted: await first('COALESCE(li.end_at, :endAt) <= COALESCE(li.start_at, :startAt)', { startAt, endAt }),
      overBudget: budgetMicros === null ? undefined : await first('li.budget_micros > :budgetMicros', { budgetMicros }),
    };
  }
}
