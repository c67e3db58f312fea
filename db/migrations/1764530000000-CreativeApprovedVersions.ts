import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an admin approved, kept for ever: one immutable row per approval of a creative's reviewed
 * content (media, click-through and companion URLs). Delivery serves the latest approved version and
 * writes its number into the tracking token; a click redirects to the URL of that version, so editing
 * a creative (back to pending_review) or rejecting it never changes where ads already served lead.
 * Creatives approved before this table existed become their version 1.
 */
export class CreativeApprovedVersions1764530000000 implements MigrationInterface {
  name = 'CreativeApprovedVersions1764530000000';

  async up(q: QueryRunner): Promise<void> {
    // creative_version: the creatives.version row that was approved (audit); version counts approvals.
    await q.query(`CREATE TABLE creative_approved_versions (
      creative_id CHAR(36) NOT NULL,
      version INT UNSIGNED NOT NULL,
      media_url VARCHAR(2048) NOT NULL,
      mime_type VARCHAR(100) NOT NULL,
      duration_seconds SMALLINT UNSIGNED NOT NULL,
      click_through_url VARCHAR(2048) NOT NULL,
      companion_image_url VARCHAR(2048) NULL,
      creative_version INT UNSIGNED NOT NULL,
      approved_at DATETIME(3) NOT NULL,
      approved_by VARCHAR(64) NOT NULL,
      PRIMARY KEY (creative_id, version),
      CONSTRAINT fk_creative_approved_versions_creative FOREIGN KEY (creative_id) REFERENCES creatives (id),
      CONSTRAINT ck_creative_approved_versions_version CHECK (version >= 1)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`INSERT INTO creative_approved_versions
        (creative_id, version, media_url, mime_type, duration_seconds, click_through_url, companion_image_url, creative_version, approved_at, approved_by)
      SELECT id, 1, media_url, mime_type, duration_seconds, click_through_url, companion_image_url, version,
             COALESCE(reviewed_at, updated_at), COALESCE(reviewed_by, updated_by)
        FROM creatives
       WHERE status = 'approved'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE creative_approved_versions');
  }
}
