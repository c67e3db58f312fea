import { bigintNumber } from '@app/platform';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CatalogTargeting } from '../catalog/delivery-catalog.types';
import type { CreativeFormat, Pacing, PricingModel } from '../domain/enums';
import type { DeliveryStatus } from '../status/status-machine';
import { AuditedEntity } from './audited.entity';

export interface FrequencyCap {
  maxImpressions: number;
  periodSeconds: number;
}

@Entity('line_items')
export class LineItemEntity extends AuditedEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Column({ name: 'campaign_id', type: 'char', length: 36 })
  campaignId: string;

  /** Copied from the campaign so tenant checks and lists need no join. */
  @Column({ name: 'advertiser_id', type: 'char', length: 36 })
  advertiserId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Only creatives of this format may be assigned. */
  @Column({ type: 'varchar', length: 16, default: 'audio' })
  format: CreativeFormat;

  @Column({ name: 'pricing_model', type: 'varchar', length: 8 })
  pricingModel: PricingModel;

  @Column({ name: 'rate_micros', type: 'bigint', unsigned: true, transformer: bigintNumber })
  rateMicros: number;

  @Column({ name: 'budget_micros', type: 'bigint', unsigned: true, transformer: bigintNumber })
  budgetMicros: number;

  @Column({ name: 'daily_budget_micros', type: 'bigint', unsigned: true, nullable: true, transformer: bigintNumber })
  dailyBudgetMicros: number | null;

  @Column({ type: 'varchar', length: 8 })
  pacing: Pacing;

  @Column({ type: 'tinyint', unsigned: true })
  priority: number;

  /** Null: the campaign's start (followed when the campaign's flight changes). */
  @Column({ name: 'start_at', type: 'datetime', precision: 3, nullable: true })
  startAt: Date | null;

  /** Null: the campaign's end. */
  @Column({ name: 'end_at', type: 'datetime', precision: 3, nullable: true })
  endAt: Date | null;

  @Column({ name: 'frequency_caps', type: 'json' })
  frequencyCaps: FrequencyCap[];

  @Column({ type: 'json' })
  targeting: CatalogTargeting;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;
}
