/** The beacons a player fires, in the order they can happen for one decision. */
export const EVENT_TYPES = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const EVENT_TYPE_SET = new Set<string>(EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && EVENT_TYPE_SET.has(value);
}

/**
 * Why an event is invalid traffic. Stored in raw_events.invalid_reason (or rejected_events.reason for
 * the first three, whose claims cannot be trusted).
 */
export type InvalidReason =
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'bot'
  | 'no_prior_impression'
  | 'complete_before_start'
  /** More impressions or clicks in a minute than one listener id can produce. */
  | 'rate_limit'
  /** More impressions or clicks in a minute from one IP, or one IP and User-Agent, than allowed (listener ids rotated). */
  | 'ip_rate_limit';

/** Outcome of one beacon, as answered by POST /v1/events. */
export type EventOutcome = { status: 'accepted' } | { status: 'duplicate' } | { status: 'invalid'; reason: InvalidReason };
