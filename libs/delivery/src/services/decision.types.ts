import type { CreativeFormat, PricingModel } from '@app/campaigns';
import type { CandidateVerdict } from '@app/delivery-ledger';

export const TRACKING_EVENTS = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const;
export type TrackingEvent = (typeof TRACKING_EVENTS)[number];

/** One ad of a decision, with everything the JSON and VAST renderers need. */
export interface ServedAd {
  decisionId: string;
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  lineItemName: string;
  creativeId: string;
  format: CreativeFormat;
  mediaUrl: string;
  mimeType: string;
  durationSeconds: number;
  clickThroughUrl: string;
  companionImageUrl: string | null;
  pricingModel: PricingModel;
  rateMicros: number;
  currency: string;
  /** The click tracking URL (302 to the click-through). */
  clickUrl: string;
  tracking: Record<TrackingEvent, string>;
  /** The signed tracking token every tracking URL of the ad carries (see TrackingUrls). */
  token: string;
}

/** Why a considered line item was or was not served (explain mode): the catalog's reasons, then the ledger's verdicts. */
export type CandidateReason =
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
  | Exclude<CandidateVerdict, 'not_reached'>
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
