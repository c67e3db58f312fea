import type { EntityManager } from 'typeorm';
import type { CreativeFormat, Pacing, PricingModel } from '../domain/enums';
import type { CatalogCreative, CatalogLineItem, CatalogTargeting } from '../catalog/delivery-catalog.types';

/** A servable line item, without its creatives, with the versions of the rows it was read from. */
export interface ServableLineItem extends Omit<CatalogLineItem, 'creatives' | 'version'> {
  lineItemVersion: number;
  campaignVersion: number;
  advertiserVersion: number;
}

/** An approved creative of a servable line item, as its latest approved version has it. */
export interface ServableCreative extends CatalogCreative {
  lineItemId: string;
  /** The creative row's version (approvedVersion is the approved copy's). */
  version: number;
}

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

/** The SQL of the delivery catalog: the servable line items and their approved creatives, set-based, and the newest change. */
export class DeliveryCatalogRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Every servable line item, joined with its advertiser's timezone and currency, its flight the effective one (its own, or its campaign's). */
  async servableLineItems(now: Date): Promise<ServableLineItem[]> {
    const rows = await this.manager.query<LineItemRow[]>(
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
    return rows.map(toLineItem);
  }

  /**
   * The approved creatives of the servable line items, of each line item's format, ordered by line
   * item and creative: each as its latest approved version has it (equal to its current fields while
   * it is approved), with that version's number.
   */
  async servableCreatives(now: Date): Promise<ServableCreative[]> {
    const rows = await this.manager.query<CreativeRow[]>(
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
    return rows.map((c) => ({
      lineItemId: c.line_item_id,
      id: c.id,
      format: c.format,
      mediaUrl: c.media_url,
      mimeType: c.mime_type,
      durationSeconds: Number(c.duration_seconds),
      clickThroughUrl: c.click_through_url,
      companionImageUrl: c.companion_image_url,
      weight: Number(c.weight),
      approvedVersion: Number(c.approved_version),
      version: Number(c.version),
    }));
  }

  /** The newest `updated_at` of the catalog's tables, ms (0 when all are empty): one indexed MAX() per table. */
  async newestChangeMs(): Promise<number> {
    const [row] = await this.manager.query<Array<Record<string, Date | null>>>(
      `SELECT (SELECT MAX(updated_at) FROM advertisers) AS a, (SELECT MAX(updated_at) FROM campaigns) AS c,
              (SELECT MAX(updated_at) FROM line_items) AS l, (SELECT MAX(updated_at) FROM creatives) AS r,
              (SELECT MAX(updated_at) FROM line_item_creatives) AS x`,
    );
    return Math.max(0, ...Object.values(row ?? {}).map((d) => (d ? new Date(d).getTime() : 0)));
  }
}

function toLineItem(row: LineItemRow): ServableLineItem {
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
    lineItemVersion: Number(row.li_version),
    campaignVersion: Number(row.campaign_version),
    advertiserVersion: Number(row.advertiser_version),
  };
}

/** MariaDB returns JSON columns as text, MySQL as parsed values. */
function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
