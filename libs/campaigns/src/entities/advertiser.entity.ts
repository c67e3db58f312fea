import { Column, Entity, PrimaryColumn } from 'typeorm';
import { AuditedEntity } from './audited.entity';

@Entity('advertisers')
export class AdvertiserEntity extends AuditedEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** ISO 4217 code; every money amount of the advertiser is in micros of it. */
  @Column({ type: 'char', length: 3 })
  currency: string;

  /** IANA timezone: dayparts and daily budgets follow the advertiser's clock. */
  @Column({ type: 'varchar', length: 64 })
  timezone: string;
}
