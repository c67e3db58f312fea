import { isCanonicalUuid, uuidFromBytes, uuidToBytes } from '@app/platform';
import { createHash, hash, timingSafeEqual } from 'node:crypto';

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
  /**
   * The approved version of the creative that was served (creative_approved_versions.version): what
   * its click redirects to. Absent in tokens issued before versions were carried (version 1 and 2).
   */
  creativeVersion?: number;
}

export type TokenVerdict =
  | { ok: true; claims: TrackingClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired'; claims?: TrackingClaims };

/** Version 1: base64url(JSON array of the claims). Still verified: tokens live for TRACKING_TOKEN_TTL. */
const V1 = 1;
type WireV1 = [number, string, string, string, string, string, string, TrackingClaims['pricingModel'], number, string, string, number];
/** Version 2 (issued since 2026-11-26): the same claims in binary, half the length (see encodeV2). */
const V2 = 2;
/** Version 3 (issued since 2026-12-06): version 2, then the creative's approved version as a varint (1-5 bytes). */
const V3 = 3;
const PRICING_MODELS: ReadonlyArray<TrackingClaims['pricingModel']> = ['CPM', 'CPC', 'CPCL'];
/** Length marker of an id stored as the 16 bytes of a lowercase canonical UUID. */
const UUID_MARK = 0xffff;

/**
 * Signed, expiring tracking tokens: `base64url(claims) "." base64url(HMAC-SHA256(secret, part 1))`.
 * Any change to either part fails verification (constant-time comparison; the MAC covers the encoded
 * text, so even a change that decodes to the same bytes is caught). Expired tokens still decode, so
 * the event can be stored as invalid traffic with its claims.
 *
 * A decision's token appears in eight tracking URLs of its answer and in every beacon, so its length
 * is paid many times over: version 2 packs the five UUIDs as 16 bytes each instead of 36 characters
 * of JSON, which halves the claims part (about 170 characters instead of 330-370, plus 43 of MAC).
 */
export class TrackingTokenCodec {
  private readonly mac: HmacSha256;

  constructor(
    secret: string,
    /** Lifetime in seconds. */
    private readonly ttlSeconds: number,
  ) {
    this.mac = new HmacSha256(secret);
  }

  sign(claims: TrackingClaims): string {
    const body = encodeBinary(claims).toString('base64url');
    return `${body}.${this.mac.base64url(body)}`;
  }

  verify(token: string, nowSeconds: number = Math.floor(Date.now() / 1000)): TokenVerdict {
    if (typeof token !== 'string' || token.length > 2048) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac.bytes(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || token.slice(dot + 1) !== expected.toString('base64url')) {
      return { ok: false, reason: 'bad_signature' };
    }
    const claims = decode(body);
    if (!claims) return { ok: false, reason: 'malformed' };
    if (claims.issuedAt + this.ttlSeconds < nowSeconds || claims.issuedAt > nowSeconds + 300) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }
}

const BLOCK = 64;
const DIGEST = 32;

/**
 * HMAC-SHA256 (RFC 2104) of UTF-8 text, the same bytes as `createHmac('sha256', secret)` (tested),
 * with the key's inner and outer padded blocks prepared once: a MAC is two one-shot `crypto.hash`
 * calls over buffers reused from call to call. `createHmac` instead builds a native Hmac object and
 * imports the key for every token; signing took 8-18% of the API's busy time in decision profiles that
 * way (BENCHMARKS.md).
 * Not for concurrent use, which JavaScript's single thread rules out.
 */
export class HmacSha256 {
  /** The inner padded key block, then the message. */
  private inner: Buffer;
  /** The outer padded key block, then the inner hash. */
  private readonly outer = Buffer.alloc(BLOCK + DIGEST);

  constructor(secret: string) {
    let key = Buffer.from(secret, 'utf8');
    if (key.length > BLOCK) key = createHash('sha256').update(key).digest();
    this.inner = Buffer.alloc(BLOCK + 1024);
    for (let i = 0; i < BLOCK; i++) {
      const k = i < key.length ? key[i] : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  bytes(message: string): Buffer {
    return hash('sha256', this.outerBlock(message), 'buffer');
  }

  base64url(message: string): string {
    return hash('sha256', this.outerBlock(message), 'base64url');
  }

  private outerBlock(message: string): Buffer {
    // Room for the longest UTF-8 encoding (3 bytes per UTF-16 unit): write() would silently cut it short.
    if (BLOCK + 3 * message.length > this.inner.length) {
      const grown = Buffer.alloc(BLOCK + 3 * message.length);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    const length = this.inner.write(message, BLOCK, 'utf8');
    hash('sha256', this.inner.subarray(0, BLOCK + length), 'buffer').copy(this.outer, BLOCK);
    return this.outer;
  }
}

function decode(body: string): TrackingClaims | null {
  try {
    const bytes = Buffer.from(body, 'base64url');
    return bytes[0] === V2 || bytes[0] === V3 ? decodeBinary(bytes) : decodeV1(bytes);
  } catch {
    return null;
  }
}

function decodeV1(bytes: Buffer): TrackingClaims | null {
  const wire = JSON.parse(bytes.toString('utf8')) as WireV1;
  if (!Array.isArray(wire) || wire[0] !== V1 || wire.length !== 12) return null;
  const [, decisionId, advertiserId, campaignId, lineItemId, creativeId, userId, pricingModel, rateMicros, country, platform, issuedAt] = wire;
  return { decisionId, advertiserId, campaignId, lineItemId, creativeId, userId, pricingModel, rateMicros, country, platform, issuedAt };
}

/** Most bytes of a creative version's varint: 7 bits each, enough for any 32-bit unsigned integer. */
const MAX_VARINT_BYTES = 5;
const MAX_CREATIVE_VERSION = 0xffffffff;

/**
 * Version byte, then decision, advertiser, campaign, line item and creative ids, user id, pricing model
 * (1 byte), rate in micros (8-byte double: exact for integers), country, platform, issue time (uint32
 * seconds). Each string is a 2-byte length and its UTF-8 bytes, or UUID_MARK and the 16 bytes of a
 * lowercase canonical UUID. Version 3 appends the creative's approved version as an unsigned LEB128
 * varint (one byte below 128: tokens grow by 1-2 characters); claims without one are written as version 2.
 */
function encodeBinary(c: TrackingClaims): Buffer {
  const fields = [c.decisionId, c.advertiserId, c.campaignId, c.lineItemId, c.creativeId, c.userId, c.country, c.platform];
  const uuid = fields.map(isCanonicalUuid);
  const creativeVersion = c.creativeVersion;
  if (creativeVersion !== undefined && !(Number.isInteger(creativeVersion) && creativeVersion >= 1 && creativeVersion <= MAX_CREATIVE_VERSION)) {
    throw new RangeError('tracking token creative version out of range');
  }
  let size = 1 + 1 + 8 + 4 + 2 * fields.length + (creativeVersion === undefined ? 0 : varintLength(creativeVersion));
  for (let i = 0; i < fields.length; i++) size += uuid[i] ? 16 : Buffer.byteLength(fields[i]);
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(creativeVersion === undefined ? V2 : V3, 0);
  for (let i = 0; i < fields.length; i++) {
    if (i === 6) {
      at = out.writeUInt8(PRICING_MODELS.indexOf(c.pricingModel), at);
      at = out.writeDoubleBE(c.rateMicros, at);
    }
    if (uuid[i]) {
      at = uuidToBytes(fields[i], out, out.writeUInt16BE(UUID_MARK, at));
    } else {
      const length = Buffer.byteLength(fields[i]);
      if (length >= UUID_MARK) throw new RangeError('tracking token field too long');
      at = out.writeUInt16BE(length, at);
      at += out.write(fields[i], at, 'utf8');
    }
  }
  at = out.writeUInt32BE(c.issuedAt, at);
  if (creativeVersion !== undefined) {
    let rest = creativeVersion;
    while (rest >= 0x80) {
      at = out.writeUInt8((rest % 0x80) | 0x80, at);
      rest = Math.floor(rest / 0x80);
    }
    out.writeUInt8(rest, at);
  }
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}

function decodeBinary(bytes: Buffer): TrackingClaims | null {
  let at = 1;
  const readString = (): string => {
    if (at + 2 > bytes.length) throw new RangeError('truncated');
    const length = bytes.readUInt16BE(at);
    at += 2;
    const end = at + (length === UUID_MARK ? 16 : length);
    if (end > bytes.length) throw new RangeError('truncated');
    const value = length === UUID_MARK ? uuidFromBytes(bytes, at) : bytes.toString('utf8', at, end);
    at = end;
    return value;
  };
  const decisionId = readString();
  const advertiserId = readString();
  const campaignId = readString();
  const lineItemId = readString();
  const creativeId = readString();
  const userId = readString();
  const pricingModel = PRICING_MODELS[bytes.readUInt8(at)];
  const rateMicros = bytes.readDoubleBE(at + 1);
  at += 9;
  const country = readString();
  const platform = readString();
  const issuedAt = bytes.readUInt32BE(at);
  at += 4;
  if (!pricingModel) return null;
  const claims: TrackingClaims = { decisionId, advertiserId, campaignId, lineItemId, creativeId, userId, pricingModel, rateMicros, country, platform, issuedAt };
  if (bytes[0] === V2) return at === bytes.length ? claims : null;
  // Version 3: the varint is the rest of the token, minimal (no trailing zero groups) and at least 1.
  let creativeVersion = 0;
  for (let shift = 1, i = 0; ; shift *= 0x80, i++) {
    if (i >= MAX_VARINT_BYTES || at >= bytes.length) return null;
    const byte = bytes[at++];
    creativeVersion += (byte & 0x7f) * shift;
    if (byte < 0x80) {
      if (byte === 0 && i > 0) return null;
      break;
    }
  }
  if (at !== bytes.length || creativeVersion < 1 || creativeVersion > MAX_CREATIVE_VERSION) return null;
  claims.creativeVersion = creativeVersion;
  return claims;
}
