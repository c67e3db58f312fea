import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { CreativeFormat, CreativeStatus, PricingModel } from '../domain/enums';
import { CreativeEntity } from '../entities/creative.entity';
import { LineItemCreativeEntity } from '../entities/line-item-creative.entity';
import { LineItemEntity } from '../entities/line-item.entity';
import { AuditedRepository } from './audited.repository';

export interface Assignment {
  creativeId: string;
  weight: number;
}

export interface AssignedCreative extends Assignment {
  lineItemId: string;
  status: CreativeStatus;
}

/** A line item being delivered now, with its effective flight (its own, or its campaign's). */
export interface LineItemInFlight {
  id: string;
  advertiserId: string;
  campaignId: string;
  name: string;
  budgetMicros: number;
  startAt: Date;
  endAt: Date;
}

/** What a line item's usage is billed at. */
export interface LineItemTerms {
  pricingModel: PricingModel;
  rateMicros: number;
}

type Audit = Pick<LineItemCreativeEntity, 'version' | 'createdAt' | 'updatedAt' | 'createdBy' | 'updatedBy'>;

/** Line items with their creative assignments (line_item_creatives), one aggregate. */
export class LineItemRepository extends AuditedRepository<LineItemEntity> {
  constructor(manager: EntityManager) {
    super(manager, { entity: LineItemEntity, table: 'line_items', ownerColumn: 'advertiser_id', owner: (li) => li.advertiserId });
  }

  async assignments(lineItemId: string): Promise<Assignment[]> {
    const rows = await this.manager.getRepository(LineItemCreativeEntity).find({ where: { lineItemId } });
    return rows.map((a) => ({ creativeId: a.creativeId, weight: a.weight }));
  }

  async assign(lineItemId: string, assignments: Assignment[], audit: Audit): Promise<void> {
    if (assignments.length > 0) await this.manager.getRepository(LineItemCreativeEntity).insert(assignments.map((a) => ({ lineItemId, ...a, ...audit })));
  }

  /** Replaces the line item's assignments with these (none: no creative assigned). */
  async replaceAssignments(lineItemId: string, assignments: Assignment[], audit: Audit): Promise<void> {
    await this.manager.getRepository(LineItemCreativeEntity).delete({ lineItemId });
    await this.assign(lineItemId, assignments, audit);
  }

  /** Assignments of these line items with each creative's review status, ordered by creative id. */
  async assignedCreatives(lineItemIds: string[]): Promise<AssignedCreative[]> {
    if (lineItemIds.length === 0) return [];
    const rows: Array<{ line_item_id: string; creative_id: string; weight: number; status: CreativeStatus }> = await this.manager
      .createQueryBuilder()
      .select(['lic.line_item_id AS line_item_id', 'lic.creative_id AS creative_id', 'lic.weight AS weight', 'cr.status AS status'])
      .from(LineItemCreativeEntity, 'lic')
      .innerJoin(CreativeEntity, 'cr', 'cr.id = lic.creative_id')
      .where('lic.line_item_id IN (:...ids)', { ids: lineItemIds })
      .orderBy('lic.creative_id', 'ASC')
      .getRawMany();
    return rows.map((r) => ({ lineItemId: r.line_item_id, creativeId: r.creative_id, weight: Number(r.weight), status: r.status }));
  }

  async countApprovedCreatives(lineItemId: string, format: CreativeFormat): Promise<number> {
    const [row] = await this.manager.query<Array<{ n: string | number }>>(
      `SELECT COUNT(*) AS n FROM line_item_creatives lic JOIN creatives cr ON cr.id = lic.creative_id
        WHERE lic.line_item_id = ? AND cr.status = 'approved' AND cr.format = ?`,
      [lineItemId, format],
    );
    return Number(row.n);
  }

  /** Active line items of active campaigns whose effective flight holds `now` (one advertiser's, or all), ordered by id. */
  async inFlight(now: Date, advertiserId?: string): Promise<LineItemInFlight[]> {
    const rows = await this.manager.query<Array<{ id: string; advertiser_id: string; campaign_id: string; name: string; budget_micros: string; start_at: Date; end_at: Date }>>(
      `SELECT li.id, li.advertiser_id, li.campaign_id, li.name, li.budget_micros,
              COALESCE(li.start_at, c.start_at) AS start_at, COALESCE(li.end_at, c.end_at) AS end_at
         FROM line_items li JOIN campaigns c ON c.id = li.campaign_id
        WHERE li.status = 'active' AND c.status = 'active'
          AND COALESCE(li.start_at, c.start_at) <= ? AND COALESCE(li.end_at, c.end_at) > ?${advertiserId ? ' AND li.advertiser_id = ?' : ''}
        ORDER BY li.id`,
      advertiserId ? [now, now, advertiserId] : [now, now],
    );
    return rows.map((r) => ({ id: r.id, advertiserId: r.advertiser_id, campaignId: r.campaign_id, name: r.name, budgetMicros: Number(r.budget_micros), startAt: r.start_at, endAt: r.end_at }));
  }

  /** The pricing terms of these line items, by id (ids of no line item are left out). */
  async termsOf(ids: string[]): Promise<Map<string, LineItemTerms>> {
    if (ids.length === 0) return new Map();
    const rows = await this.orm.find({ select: { id: true, pricingModel: true, rateMicros: true }, where: { id: In(ids) } });
    return new Map(rows.map((r) => [r.id, { pricingModel: r.pricingModel, rateMicros: r.rateMicros }]));
  }
}
