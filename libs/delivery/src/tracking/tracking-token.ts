import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a tracking token vouches for: who was shown what, at what price, when. */
export interface TrackingClaims {
  /** Decision id (UUID); with the event type, the identity of an event. */
  decisionId: string;
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  creativeId: string;
  /** Listener id as sent in the decision request. */
  userId: string;
  pricingModel: 'CPM' | 'CPC' | 'CPCL';
  /** The line item's rate at decision time, in micros (per 1,000 impressions for CPM). */
  rateMicros: number;
  /** ISO 3166-1 alpha-2 country of the request, or 'ZZ' when unknown. */
  country: string;
  /** Device platform of the request (ios, android, desktop, web, speaker, tv, car) or 'unknown'. */
  platform: string;
  /** Issue time, Unix seconds. */
  issuedAt: number;
}

export type TokenVerdict =
  | { ok: true; claims: TrackingClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired'; claims?: TrackingClaims };

const VERSION = 1;
type Wire = [number, string, string, string, string, string, string, TrackingClaims['pricingModel'], number, string, string, number];

/**
 * Signed, expiring tracking tokens: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, part 1))`.
 * Any change to either part fails verification (constant-time comparison). Expired tokens still
 * decode, so the event can be stored as invalid traffic with its claims.
 */
export class TrackingTokenCodec {
  constructor(
    private readonly secret: string,
    /** Lifetime in seconds. */
    private readonly ttlSeconds: number,
  ) {}

  sign(claims: TrackingClaims): string {
    const wire: Wire = [
      VERSION, claims.decisionId, claims.advertiserId, claims.campaignId, claims.lineItemId, claims.creativeId, claims.userId,
      claims.pricingModel, claims.rateMicros, claims.country, claims.platform, claims.issuedAt,
    ];
    const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return `${body}.${createHmac('sha256', this.secret).update(body).digest('base64url')}`;
  }

  verify(token: string, nowSeconds: number = Math.floor(Date.now() / 1000)): TokenVerdict {
    if (typeof token !== 'string' || token.length > 2048) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || token.slice(dot + 1) !== expected.toString('base64url')) {
      return { ok: false, reason: 'bad_signature' };
    }
    const claims = decode(body);
    if (!claims) return { ok: false, reason: 'malformed' };
    if (claims.issuedAt + this.ttlSeconds < nowSeconds || claims.issuedAt > nowSeconds + 300) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(body).digest();
  }
}

function decode(body: string): TrackingClaims | null {
  try {
    const wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Wire;
    if (!Array.isArray(wire) || wire[0] !== VERSION || wire.length !== 12) return null;
    const [, decisionId, advertiserId, campaignId, lineItemId, creativeId, userId, pricingModel, rateMicros, country, platform, issuedAt] = wire;
    return { decisionId, advertiserId, campaignId, lineItemId, creativeId, userId, pricingModel, rateMicros, country, platform, issuedAt };
  } catch {
    return null;
  }
}
