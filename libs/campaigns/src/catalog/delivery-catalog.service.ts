import { RedisService } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { CreativeFormat, Pacing, PricingModel } from '../domain/enums';
import type { CatalogCreative, CatalogLineItem, CatalogTargeting, DeliveryCatalog } from './delivery-catalog.types';

interface LineItemRow {
  id: string;
  name: string;
  campaign_id: string;
  advertiser_id: string;
  timezone: string;
  currency: string;
  pricing_model: PricingModel;
  rate_micros: string | number;
  budget_micros: string | number;
  daily_budget_micros: string | number | null;
  campaign_budget_micros: string | number | null;
  pacing: Pacing;
  priority: number;
  start_at: Date;
  end_at: Date;
  frequency_caps: unknown;
  targeting: unknown;
  li_version: number;
  campaign_version: number;
  advertiser_version: number;
}

interface CreativeRow {
  line_item_id: string;
  id: string;
  format: CreativeFormat;
  media_url: string;
  mime_type: string;
  duration_seconds: number;
  click_through_url: string;
  companion_image_url: string | null;
  weight: number;
  version: number;
  approved_version: number;
}

/** The line items that can serve at `?` (now): both statuses active and the effective end ahead. */
const SERVABLE = `li.status = 'active' AND c.status = 'active' AND COALESCE(li.end_at, c.end_at) > ?`;

/**
 * The read side delivery builds its in-memory index from. `load()` reads the whole servable catalog
 * in two set-based queries (no per-row queries); `version()` is a cheap token that changes whenever
 * anything in the catalog may have changed, to poll between pub/sub messages.
 */
@Injectable()
export class DeliveryCatalogService {
  private readonly logger = new Logger(DeliveryCatalogService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
  ) {}

  /**
   * Every servable line item with its approved creatives of its format (line items without one are
   * left out), joined with the advertiser's timezone and currency. Line items whose flight has not
   * started yet are included (delivery checks startAt). Reads `version()` first, so a change that
   * lands during the load shows up as a newer version on the next check.
   */
  async load(now: Date = new Date()): Promise<DeliveryCatalog> {
    const version = await this.version();
    const lineItems: LineItemRow[] = await this.dataSource.query(
      `SELECT li.id, li.name, li.campaign_id, li.advertiser_id, a.timezone, a.currency,
              li.pricing_model, li.rate_micros, li.budget_micros, li.daily_budget_micros,
              c.budget_micros AS campaign_budget_micros, li.pacing, li.priority,
              COALESCE(li.start_at, c.start_at) AS start_at, COALESCE(li.end_at, c.end_at) AS end_at,
              li.frequency_caps, li.targeting,
              li.version AS li_version, c.version AS campaign_version, a.version AS advertiser_version
         FROM line_items li
         JOIN campaigns c ON c.id = li.campaign_id
         JOIN advertisers a ON a.id = li.advertiser_id
        WHERE ${SERVABLE}`,
      [now],
    );
    // What serves is the creative's latest approved version (equal to its current fields while it is
    // approved), with its number for the tracking token: a click leads where the approved ad said.
    const creatives: CreativeRow[] = await this.dataSource.query(
      `SELECT lic.line_item_id, cr.id, cr.format, av.media_url, av.mime_type, av.duration_seconds,
              av.click_through_url, av.companion_image_url, lic.weight, cr.version, av.version AS approved_version
         FROM line_item_creatives lic
         JOIN line_items li ON li.id = lic.line_item_id
         JOIN campaigns c ON c.id = li.campaign_id
         JOIN creatives cr ON cr.id = lic.creative_id
         JOIN creative_approved_versions av
           ON av.creative_id = cr.id AND av.version = (SELECT MAX(v.version) FROM creative_approved_versions v WHERE v.creative_id = cr.id)
        WHERE ${SERVABLE} AND cr.status = 'approved' AND cr.format = li.format
        ORDER BY lic.line_item_id, cr.id`,
      [now],
    );
    const byLineItem = new Map<string, CreativeRow[]>();
    for (const row of creatives) {
      const list = byLineItem.get(row.line_item_id) ?? [];
      list.push(row);
      byLineItem.set(row.line_item_id, list);
    }
    const items: CatalogLineItem[] = [];
    for (const row of lineItems) {
      const rows = byLineItem.get(row.id);
      if (!rows?.length) continue;
      items.push(toCatalogLineItem(row, rows));
    }
    items.sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : 1));
    return { loadedAt: now.getTime(), version, lineItems: items };
  }

  /**
   * A token that changes whenever the catalog may have changed: the Redis change counter (bumped
   * after every committed change) and the newest `updated_at` in MySQL (moves even when Redis was
   * unreachable at change time or has lost its keys). One indexed MAX() per table, one GET.
   * Compare tokens for equality only.
   */
  async version(): Promise<string> {
    const [row] = await this.dataSource.query<Array<Record<string, Date | null>>>(
      `SELECT (SELECT MAX(updated_at) FROM advertisers) AS a, (SELECT MAX(updated_at) FROM campaigns) AS c,
              (SELECT MAX(updated_at) FROM line_items) AS l, (SELECT MAX(updated_at) FROM creatives) AS r,
              (SELECT MAX(updated_at) FROM line_item_creatives) AS x`,
    );
    const ms = Math.max(0, ...Object.values(row ?? {}).map((d) => (d ? new Date(d).getTime() : 0)));
    let counter = 'none';
    try {
      counter = (await this.redis.client.get(this.redis.key('catalog', 'version'))) ?? '0';
    } catch (err) {
      this.logger.debug(`catalog counter unavailable, using MySQL only: ${(err as Error).message}`);
    }
    return `${counter}.${ms}`;
  }
}

function toCatalogLineItem(row: LineItemRow, creativeRows: CreativeRow[]): CatalogLineItem {
  const creatives: CatalogCreative[] = creativeRows.map((c) => ({
    id: c.id,
    format: c.format,
    mediaUrl: c.media_url,
    mimeType: c.mime_type,
    durationSeconds: Number(c.duration_seconds),
    clickThroughUrl: c.click_through_url,
    companionImageUrl: c.companion_image_url,
    weight: Number(c.weight),
    approvedVersion: Number(c.approved_version),
  }));
  const fingerprint = [row.li_version, row.campaign_version, row.advertiser_version, ...creativeRows.map((c) => `${c.id}:${c.version}:${c.approved_version}:${c.weight}`)].join('|');
  return {
    id: row.id,
    name: row.name,
    campaignId: row.campaign_id,
    advertiserId: row.advertiser_id,
    timezone: row.timezone,
    currency: row.currency,
    pricingModel: row.pricing_model,
    rateMicros: Number(row.rate_micros),
    budgetMicros: Number(row.budget_micros),
    dailyBudgetMicros: row.daily_budget_micros === null ? null : Number(row.daily_budget_micros),
    campaignBudgetMicros: row.campaign_budget_micros === null ? null : Number(row.campaign_budget_micros),
    pacing: row.pacing,
    priority: Number(row.priority),
    startAt: new Date(row.start_at).getTime(),
    endAt: new Date(row.end_at).getTime(),
    frequencyCaps: parseJson<Array<{ maxImpressions: number; periodSeconds: number }>>(row.frequency_caps, []),
    targeting: parseJson<CatalogTargeting>(row.targeting, {}),
    creatives,
    version: fingerprintNumber(fingerprint),
  };
}

/** MariaDB returns JSON columns as text, MySQL as parsed values. */
function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** 48 bits of SHA-1: a number that changes with any of the versions it covers. */
function fingerprintNumber(text: string): number {
  return createHash('sha1').update(text).digest().readUIntBE(0, 6);
}
