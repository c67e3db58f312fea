import { bigintNumber } from '@app/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DeliveryStatus } from '../status/status-machine';
import { AuditedEntity } from './audited.entity';

@Entity('campaigns')
export class CampaignEntity extends AuditedEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Column({ name: 'advertiser_id', type: 'char', length: 36 })
  advertiserId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'start_at', type: 'datetime', precision: 3 })
  startAt: Date;

  @Column({ name: 'end_at', type: 'datetime', precision: 3 })
  endAt: Date;

  /** Total budget across its line items, in micros; null means only line item budgets apply. */
  @Column({ name: 'budget_micros', type: 'bigint', unsigned: true, nullable: true, transformer: bigintNumber })
  budgetMicros: number | null;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;
}
