import { TRACKING_EVENTS, TrackingEvent } from '../services/decision.types';

/**
 * The tracking URLs of an ad, `<PUBLIC_BASE_URL>/t/<event>?d=<token>`: one per event, all carrying the
 * ad's signed token. Also writes them as JSON. A token is URL-safe base64 and a dot, characters JSON
 * never escapes, so only the base URL needs escaping, and that is done once here: JSON.stringify walked
 * all eight ~200-character URLs of every ad it answered (6 µs of a one-ad decision's ~100).
 */
export class TrackingUrls {
  private readonly prefixes: string[];
  /** `"<event>":"<escaped prefix>` per event: a JSON member up to where the token goes. */
  private readonly members: string[];
  private readonly clickUrlMember: string;

  constructor(baseUrl: string) {
    this.prefixes = TRACKING_EVENTS.map((event) => `${baseUrl}/t/${event}?d=`);
    const escaped = this.prefixes.map((prefix) => JSON.stringify(prefix).slice(0, -1));
    this.members = TRACKING_EVENTS.map((event, i) => `${JSON.stringify(event)}:${escaped[i]}`);
    this.clickUrlMember = `"clickUrl":${escaped[TRACKING_EVENTS.indexOf('click')]}`;
  }

  /** Every event's URL for this token. */
  of(token: string): Record<TrackingEvent, string> {
    const urls = {} as Record<TrackingEvent, string>;
    for (let i = 0; i < TRACKING_EVENTS.length; i++) urls[TRACKING_EVENTS[i]] = this.prefixes[i] + token;
    return urls;
  }

  /**
   * The members `"clickUrl":"…","tracking":{"impression":"…",…}` of an ad in a JSON answer, as
   * JSON.stringify writes them for `{ clickUrl: urls.click, tracking: urls }`. `token` must be one
   * TrackingTokenCodec signed (it is written unescaped).
   */
  json(token: string): string {
    let out = `${this.clickUrlMember}${token}","tracking":{`;
    for (let i = 0; i < this.members.length; i++) out += `${i === 0 ? '' : ','}${this.members[i]}${token}"`;
    return `${out}}`;
  }
}
