import type { EntityManager } from 'typeorm';
import { CreativeEntity } from '../entities/creative.entity';
import { AuditedRepository } from './audited.repository';

/** The reviewed content of a creative, as kept in creative_approved_versions. */
export interface ApprovedContent {
  mediaUrl: string;
  mimeType: string;
  durationSeconds: number;
  clickThroughUrl: string;
  companionImageUrl: string | null;
}

export class CreativeRepository extends AuditedRepository<CreativeEntity> {
  constructor(manager: EntityManager) {
    super(manager, { entity: CreativeEntity, table: 'creatives', ownerColumn: 'advertiser_id', owner: (c) => c.advertiserId });
  }

  async latestApprovedVersion(creativeId: string): Promise<(ApprovedContent & { version: number }) | null> {
    const [row] = (await this.manager.query(
      `SELECT version, media_url, mime_type, duration_seconds, click_through_url, companion_image_url
         FROM creative_approved_versions WHERE creative_id = ? ORDER BY version DESC LIMIT 1`,
      [creativeId],
    )) as Array<{ version: number; media_url: string; mime_type: string; duration_seconds: number; click_through_url: string; companion_image_url: string | null }>;
    if (!row) return null;
    return {
      version: Number(row.version),
      mediaUrl: row.media_url,
      mimeType: row.mime_type,
      durationSeconds: Number(row.duration_seconds),
      clickThroughUrl: row.click_through_url,
      companionImageUrl: row.companion_image_url,
    };
  }

  async insertApprovedVersion(creativeId: string, version: number, content: ApprovedContent, creativeVersion: number, approvedAt: Date, approvedBy: string): Promise<void> {
    await this.manager.query(
      `INSERT INTO creative_approved_versions
         (creative_id, version, media_url, mime_type, duration_seconds, click_through_url, companion_image_url, creative_version, approved_at, approved_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [creativeId, version, content.mediaUrl, content.mimeType, content.durationSeconds, content.clickThroughUrl, content.companionImageUrl, creativeVersion, approvedAt, approvedBy],
    );
  }
}
