import { TRACKING_EVENTS, TrackingEvent } from '../services/decision.types';

/**
 * The tracking URLs of an ad, `<PUBLIC_BASE_URL>/t/<event>?d=<token>`: one per event, all carrying the
 * ad's signed token. None holds a character JSON escapes (the decision answer writes them as they are).
 */
export class TrackingUrls {
  private readonly prefixes: string[];

  constructor(baseUrl: string) {
    if (JSON.stringify(baseUrl) !== `"${baseUrl}"`) throw new Error(`PUBLIC_BASE_URL must not contain quotes, backslashes or control characters: ${JSON.stringify(baseUrl)}`);
    this.prefixes = TRACKING_EVENTS.map((event) => `${baseUrl}/t/${event}?d=`);
  }

  /** Every event's URL for this token. */
  of(token: string): Record<TrackingEvent, string> {
    const urls = {} as Record<TrackingEvent, string>;
    for (let i = 0; i < TRACKING_EVENTS.length; i++) urls[TRACKING_EVENTS[i]] = this.prefixes[i] + token;
    return urls;
  }
}
