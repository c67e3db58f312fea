import type { CountableEventName, PricingModel } from './pricing';

/** What the ledger needs of a served decision's tracking claims (delivery's TrackingClaims has them all). */
export interface LedgerClaims {
  decisionId: string;
  campaignId: string;
  lineItemId: string;
  /** Listener id as sent in the decision request. */
  userId: string;
  pricingModel: PricingModel;
  /** The line item's rate at decision time, in micros (per 1,000 impressions for CPM). */
  rateMicros: number;
  /** Issue time of the decision, Unix seconds. */
  issuedAt: number;
}

/** One newly stored, valid beacon event, as measurement hands it to the ledger. */
export interface CountableEvent {
  claims: LedgerClaims;
  event: CountableEventName;
  /** When the event happened (player clock, validated by measurement), ms since epoch. */
  occurredAt: number;
}

/** Measured spend of one line item, from MySQL, for `restore`. */
export interface SpendRestoreRow {
  lineItemId: string;
  campaignId: string;
  /** Lifetime measured spend in milli-micros (a CPM impression is `rateMicros`, a CPC click or CPCL complete `rateMicros * 1000`). */
  spentMilliMicros: number;
  /**
   * Measured spend of roughly the last 26 hours by UTC quarter hour, so that "today" can be computed in
   * any advertiser timezone. `quarterStartMs` is a multiple of 900,000 (15 min); coarser buckets (e.g. hourly,
   * keyed by their start) are accepted and count in full to the day their start falls in.
   */
  recent: Array<{ quarterStartMs: number; spentMilliMicros: number }>;
}

/** Impression times of one listener on one line item, from MySQL, for `restore`. */
export interface FrequencyRestoreRow {
  lineItemId: string;
  userId: string;
  /** Impressions (decision id, time in ms since epoch) within the longest cap period (at most MAX_CAP_PERIOD_SECONDS back). */
  impressions: Array<{ decisionId: string; at: number }>;
}

/** The accounts a rebuild from MySQL covers (DeliveryLedger.beginRestore / finishRestore). */
export interface RestoreAccounts {
  lineItemIds: string[];
  campaignIds: string[];
}

/** Observed counts of one line item, from MySQL, for `restore` (they drive CTR and completion rate estimates). */
export interface RatesRestoreRow {
  lineItemId: string;
  impressions: number;
  clicks: number;
  completes: number;
}

export interface CountersRestoreState {
  spend: SpendRestoreRow[];
  frequency: FrequencyRestoreRow[];
  rates: RatesRestoreRow[];
}

/** What the decision path knows about one line item (or campaign) account, read from Redis. */
export interface AccountState {
  /** Lifetime measured spend, milli-micros. */
  spentMilliMicros: number;
  /** Outstanding reservations of recent decisions, milli-micros. */
  reservedMilliMicros: number;
}

export interface LineItemCounters extends AccountState {
  /** Measured spend since the start of the local day recorded by the last decision, milli-micros. */
  spentTodayMilliMicros: number;
  impressions: number;
  clicks: number;
  completes: number;
}

/** One line item offered to the atomic reservation step, best first. */
export interface ReservationCandidate {
  lineItemId: string;
  campaignId: string;
  /** Price of one billable event, milli-micros (CPM impression, CPC click, CPCL complete). */
  eventPriceMilliMicros: number;
  /** Expected cost of one decision, milli-micros, held against budgets until the event arrives or the window ends. */
  reserveMilliMicros: number;
  budgetMilliMicros: number;
  dailyBudgetMilliMicros: number | null;
  campaignBudgetMilliMicros: number | null;
  /** Quarter-hour index (ms / 900,000) of the start of the advertiser's current local day. */
  dayStartQuarter: number;
  /** EVEN pacing against the daily budget or the flight budget; 'none' for ASAP. */
  pacingBasis: 'daily' | 'flight' | 'none';
  /** Spend (measured + reserved) the pacing curve allows by now, milli-micros. */
  pacingTargetMilliMicros: number;
  /** How far ahead of the curve serving may run before it stops entirely, milli-micros (> 0). */
  pacingAllowanceMilliMicros: number;
  /** Uniform random number in [0, 1) for the pacing throttle. */
  random: number;
  frequencyCaps: Array<{ maxImpressions: number; periodSeconds: number }>;
}

export interface ReservationRequest {
  /** Listener id (frequency caps, outstanding-decision limit). */
  userId: string;
  /** The listener's IP, for the per-IP outstanding-decision limit (none: not limited by IP). */
  ip?: string;
  /** Most ads a listener / an IP may hold unplayed within a reservation window; 0 or absent: no limit. */
  limits?: { listener: number; ip: number };
  /** One id per slot; the n-th selected line item gets the n-th id. */
  decisionIds: string[];
  candidates: ReservationCandidate[];
}

export type CandidateVerdict =
  | 'selected'
  | 'budget_exhausted'
  | 'daily_budget_exhausted'
  | 'campaign_budget_exhausted'
  | 'frequency_capped'
  | 'paced'
  | 'listener_limit'
  | 'ip_limit'
  /** Its line item's or campaign's shard did not answer (a decision with nothing else to serve is a 503). */
  | 'counters_unavailable'
  | 'not_reached';

export type ReservationResult =
  /** Redis lost its counters and measurement has not restored them yet: nothing may be served. */
  | { restored: false }
  | { restored: true; verdicts: CandidateVerdict[]; selected: Array<{ index: number; decisionId: string }> };
