import type { CreativeFormat, Pacing, Platform, PricingModel } from '../domain/enums';

/**
 * The read model that delivery builds its in-memory eligibility index from: every line item that can
 * serve (line item and campaign active, flight not over), with its approved creatives. Produced by
 * the campaigns lib (DeliveryCatalogService) in a few set-based queries, never per decision.
 */
export interface DeliveryCatalog {
  /** When the snapshot was read (ms since epoch). */
  loadedAt: number;
  /** DeliveryCatalogService.version() as read just before the load; a different version() later means reload. */
  version?: string;
  lineItems: CatalogLineItem[];
}


export interface CatalogTargeting {
  countries?: string[];
  regions?: string[];
  platforms?: Platform[];
  ageRanges?: string[];
  genders?: string[];
  genres?: string[];
  keywords?: { any?: string[]; all?: string[]; none?: string[] };
  /** Days 0 (Sunday) .. 6; hours [startHour, endHour) in the advertiser's timezone, 0..24. */
  dayparts?: Array<{ days: number[]; startHour: number; endHour: number }>;
}

export interface CatalogCreative {
  id: string;
  format: CreativeFormat;
  mediaUrl: string;
  mimeType: string;
  durationSeconds: number;
  clickThroughUrl: string;
  companionImageUrl: string | null;
  /** Relative weight of this creative within its line item (>= 1). */
  weight: number;
  /**
   * The approved version these fields come from (creative_approved_versions.version), carried in the
   * tracking token so that a click leads to the URL approved for the ad that was served.
   */
  approvedVersion: number;
}

export interface CatalogLineItem {
  id: string;
  name: string;
  campaignId: string;
  advertiserId: string;
  /** IANA timezone of the advertiser, for dayparts and daily budgets. */
  timezone: string;
  currency: string;
  pricingModel: PricingModel;
  rateMicros: number;
  budgetMicros: number;
  dailyBudgetMicros: number | null;
  /** The campaign's total budget, if it has one. */
  campaignBudgetMicros: number | null;
  pacing: Pacing;
  priority: number;
  /** Effective flight (line item's own or the campaign's), ms since epoch. */
  startAt: number;
  endAt: number;
  frequencyCaps: Array<{ maxImpressions: number; periodSeconds: number }>;
  targeting: CatalogTargeting;
  /** Approved creatives only; a line item without any is not in the catalog. */
  creatives: CatalogCreative[];
  /** Changes whenever the line item, its campaign or its creatives change. */
  version: number;
}

/** Redis pub/sub channel (prefixed by RedisService) on which every delivery-affecting change is announced. */
export const CATALOG_CHANGED_CHANNEL = 'catalog.changed';
