import type { CatalogCreative, PricingModel } from '@app/campaigns';
import type { CandidateVerdict } from '@app/delivery-ledger';

export const TRACKING_EVENTS = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const;
export type TrackingEvent = (typeof TRACKING_EVENTS)[number];

/** One ad of a decision, with everything the JSON and VAST renderers need. */
export interface ServedAd extends Pick<CatalogCreative, 'format' | 'mediaUrl' | 'mimeType' | 'durationSeconds' | 'clickThroughUrl' | 'companionImageUrl'> {
  decisionId: string;
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  lineItemName: string;
  creativeId: string;
  pricingModel: PricingModel;
  rateMicros: number;
  currency: string;
  /** The click tracking URL (302 to the click-through). */
  clickUrl: string;
  tracking: Record<TrackingEvent, string>;
  /** The signed tracking token every tracking URL of the ad carries (see TrackingUrls). */
  token: string;
}

/** Why a considered line item was or was not served (explain mode): the ledger's verdict once it was reached. */
export type CandidateReason =
  | Exclude<CandidateVerdict, 'not_reached'>
  | 'flight_not_started'
  | 'flight_ended'
  | 'no_creative_for_format'
  | 'targeting_countries'
  | 'targeting_regions'
  | 'targeting_platforms'
  | 'targeting_ageRanges'
  | 'targeting_genders'
  | 'targeting_genres'
  | 'targeting_keywords'
  | 'targeting_dayparts'
  | 'outranked'
  | 'counters_not_restored';

export interface CandidateExplanation {
  lineItemId: string;
  campaignId: string;
  priority: number;
  /** Expected revenue of one impression, micros (fractional); null when not ranked. */
  expectedValueMicros: number | null;
  /** Position in the ranking (1 = best), null when filtered out before ranking. */
  rank: number | null;
  reason: CandidateReason;
}

export interface DecisionOutcome {
  requestId: string;
  ads: ServedAd[];
  /** Only in explain mode: every line item of the catalog and why it won or lost. */
  explanation?: CandidateExplanation[];
}
