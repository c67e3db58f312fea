import { Column, Entity, PrimaryColumn } from 'typeorm';
import { AuditedEntity } from './audited.entity';

/** A creative assigned to a line item, with its relative rotation weight. */
@Entity('line_item_creatives')
export class LineItemCreativeEntity extends AuditedEntity {
  @PrimaryColumn({ name: 'line_item_id', type: 'char', length: 36 })
  lineItemId: string;

  @PrimaryColumn({ name: 'creative_id', type: 'char', length: 36 })
  creativeId: string;

  @Column({ type: 'int', unsigned: true, default: 1 })
  weight: number;
}
