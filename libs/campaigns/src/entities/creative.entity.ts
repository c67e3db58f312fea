import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CreativeFormat, CreativeStatus } from '../domain/enums';
import { AuditedEntity } from './audited.entity';

@Entity('creatives')
export class CreativeEntity extends AuditedEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id: string;

  @Column({ name: 'advertiser_id', type: 'char', length: 36 })
  advertiserId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  format: CreativeFormat;

  @Column({ name: 'media_url', type: 'varchar', length: 2048 })
  mediaUrl: string;

  @Column({ name: 'mime_type', type: 'varchar', length: 100 })
  mimeType: string;

  @Column({ name: 'duration_seconds', type: 'smallint', unsigned: true })
  durationSeconds: number;

  @Column({ name: 'click_through_url', type: 'varchar', length: 2048 })
  clickThroughUrl: string;

  @Column({ name: 'companion_image_url', type: 'varchar', length: 2048, nullable: true })
  companionImageUrl: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: CreativeStatus;

  @Column({ name: 'review_note', type: 'varchar', length: 1000, nullable: true })
  reviewNote: string | null;

  @Column({ name: 'reviewed_at', type: 'datetime', precision: 3, nullable: true })
  reviewedAt: Date | null;

  @Column({ name: 'reviewed_by', type: 'varchar', length: 64, nullable: true })
  reviewedBy: string | null;
}
