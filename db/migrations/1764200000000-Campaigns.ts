import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * Campaign management: advertisers, campaigns, line items, creatives and their assignment. Every
 * table carries audit columns and an integer `version` for optimistic concurrency. Times are UTC,
 * written by the application (never NOW(), whose zone depends on the server).
 */
export class Campaigns1764200000000 implements MigrationInterface {
  name = 'Campaigns1764200000000';

  async up(q: QueryRunner): Promise<void> {
    const audit = `
      version INT UNSIGNED NOT NULL DEFAULT 1,
      created_at DATETIME(3) NOT NULL,
      updated_at DATETIME(3) NOT NULL,
      created_by VARCHAR(64) NOT NULL,
      updated_by VARCHAR(64) NOT NULL`;

    await q.query(`CREATE TABLE advertisers (
      id CHAR(36) NOT NULL,
      name VARCHAR(200) NOT NULL,
      currency CHAR(3) NOT NULL,
      timezone VARCHAR(64) NOT NULL,${audit},
      PRIMARY KEY (id),
      KEY ix_advertisers_updated (updated_at)
    ) ${TABLE_OPTIONS}`);

    await q.query(`CREATE TABLE campaigns (
      id CHAR(36) NOT NULL,
      advertiser_id CHAR(36) NOT NULL,
      name VARCHAR(200) NOT NULL,
      start_at DATETIME(3) NOT NULL,
      end_at DATETIME(3) NOT NULL,
      budget_micros BIGINT UNSIGNED NULL,
      status VARCHAR(16) NOT NULL,${audit},
      PRIMARY KEY (id),
      KEY ix_campaigns_advertiser (advertiser_id, id),
      KEY ix_campaigns_status_end (status, end_at),
      KEY ix_campaigns_updated (updated_at),
      CONSTRAINT fk_campaigns_advertiser FOREIGN KEY (advertiser_id) REFERENCES advertisers (id),
      CONSTRAINT ck_campaigns_flight CHECK (end_at > start_at),
      CONSTRAINT ck_campaigns_status CHECK (status IN ('draft','active','paused','completed','archived'))
    ) ${TABLE_OPTIONS}`);

    await q.query(`CREATE TABLE line_items (
      id CHAR(36) NOT NULL,
      campaign_id CHAR(36) NOT NULL,
      advertiser_id CHAR(36) NOT NULL,
      name VARCHAR(200) NOT NULL,
      format VARCHAR(16) NOT NULL DEFAULT 'audio',
      pricing_model VARCHAR(8) NOT NULL,
      rate_micros BIGINT UNSIGNED NOT NULL,
      budget_micros BIGINT UNSIGNED NOT NULL,
      daily_budget_micros BIGINT UNSIGNED NULL,
      pacing VARCHAR(8) NOT NULL,
      priority TINYINT UNSIGNED NOT NULL,
      start_at DATETIME(3) NULL,
      end_at DATETIME(3) NULL,
      frequency_caps JSON NOT NULL,
      targeting JSON NOT NULL,
      status VARCHAR(16) NOT NULL,${audit},
      PRIMARY KEY (id),
      KEY ix_line_items_campaign (campaign_id, id),
      KEY ix_line_items_advertiser (advertiser_id, id),
      KEY ix_line_items_status (status),
      KEY ix_line_items_updated (updated_at),
      CONSTRAINT fk_line_items_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id),
      CONSTRAINT fk_line_items_advertiser FOREIGN KEY (advertiser_id) REFERENCES advertisers (id),
      CONSTRAINT ck_line_items_priority CHECK (priority BETWEEN 1 AND 16),
      CONSTRAINT ck_line_items_status CHECK (status IN ('draft','active','paused','completed','archived'))
    ) ${TABLE_OPTIONS}`);

    await q.query(`CREATE TABLE creatives (
      id CHAR(36) NOT NULL,
      advertiser_id CHAR(36) NOT NULL,
      name VARCHAR(200) NOT NULL,
      format VARCHAR(16) NOT NULL,
      media_url VARCHAR(2048) NOT NULL,
      mime_type VARCHAR(100) NOT NULL,
      duration_seconds SMALLINT UNSIGNED NOT NULL,
      click_through_url VARCHAR(2048) NOT NULL,
      companion_image_url VARCHAR(2048) NULL,
      status VARCHAR(16) NOT NULL,
      review_note VARCHAR(1000) NULL,
      reviewed_at DATETIME(3) NULL,
      reviewed_by VARCHAR(64) NULL,${audit},
      PRIMARY KEY (id),
      KEY ix_creatives_advertiser (advertiser_id, id),
      KEY ix_creatives_updated (updated_at),
      CONSTRAINT fk_creatives_advertiser FOREIGN KEY (advertiser_id) REFERENCES advertisers (id),
      CONSTRAINT ck_creatives_status CHECK (status IN ('pending_review','approved','rejected'))
    ) ${TABLE_OPTIONS}`);

    await q.query(`CREATE TABLE line_item_creatives (
      line_item_id CHAR(36) NOT NULL,
      creative_id CHAR(36) NOT NULL,
      weight INT UNSIGNED NOT NULL DEFAULT 1,${audit},
      PRIMARY KEY (line_item_id, creative_id),
      KEY ix_line_item_creatives_creative (creative_id),
      KEY ix_line_item_creatives_updated (updated_at),
      CONSTRAINT fk_lic_line_item FOREIGN KEY (line_item_id) REFERENCES line_items (id) ON DELETE CASCADE,
      CONSTRAINT fk_lic_creative FOREIGN KEY (creative_id) REFERENCES creatives (id),
      CONSTRAINT ck_lic_weight CHECK (weight >= 1)
    ) ${TABLE_OPTIONS}`);

    await q.query('ALTER TABLE api_keys ADD CONSTRAINT fk_api_keys_advertiser FOREIGN KEY (advertiser_id) REFERENCES advertisers (id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE api_keys DROP FOREIGN KEY fk_api_keys_advertiser');
    await q.query('DROP TABLE line_item_creatives');
    await q.query('DROP TABLE creatives');
    await q.query('DROP TABLE line_items');
    await q.query('DROP TABLE campaigns');
    await q.query('DROP TABLE advertisers');
  }
}
