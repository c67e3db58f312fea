/**
 * The platform's core vocabularies, each a value list (for validation and OpenAPI) and the type it
 * defines. Every lib takes them from here (`@app/campaigns`).
 */

/** Devices a line item can target; a decision request's `device.platform` uses the same words. */
export const PLATFORMS = ['ios', 'android', 'desktop', 'web', 'speaker', 'tv', 'car'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** What a creative is and a line item serves: audio spots, video, display (companion-less images). */
export const CREATIVE_FORMATS = ['audio', 'video', 'display'] as const;
export type CreativeFormat = (typeof CREATIVE_FORMATS)[number];

/** CPM per 1,000 impressions, CPC per click, CPCL per completed listen. */
export const PRICING_MODELS = ['CPM', 'CPC', 'CPCL'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

/** EVEN spreads a budget over the flight (or the day); ASAP spends it as fast as demand allows. */
export const PACINGS = ['EVEN', 'ASAP'] as const;
export type Pacing = (typeof PACINGS)[number];

/** A creative's review state; only approved creatives serve. */
export const CREATIVE_STATUSES = ['pending_review', 'approved', 'rejected'] as const;
export type CreativeStatus = (typeof CREATIVE_STATUSES)[number];
