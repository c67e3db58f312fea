import type { EntityManager } from 'typeorm';
import type { CreativeFormat, CreativeStatus } from '../domain/enums';
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
}
