import type { TokenVerdict, TrackingClaims } from '@app/delivery';
import { UUID_PATTERN, isCanonicalUuid } from '@app/platform';
import { createHash, hash } from 'node:crypto';
import { createIsbotFromList, list as isbotList } from 'isbot';
import type { EventType, InvalidReason } from '../events/event-types';

/**
 * isbot's catch-alls that flag every plain HTTP library ("name/1.2", a URL in the UA, Node.js). Audio
 * players and server-side ad insertion fire beacons with exactly such clients (ExoPlayer's okhttp,
 * Node and Go services), so they are left out; crawlers, spiders, headless browsers, monitors and
 * scripting tools (curl, wget, python) stay bots.
 */
export const GENERIC_CLIENT_PATTERNS = new Set([
  String.raw`^[\w \.\-\(?:\):%]+(?:/v?\d+(?:\.\d+)?(?:\.\d{1,10})*?)?(?:,|$)`,
  '(?<!lib)http',
  'node\\b',
  String.raw`^[\w\-]+/[\w]+$`,
  String.raw`^\w+/[\w\(\)]*$`,
]);
/**
 * Crawling and API-testing tools that only those catch-alls caught (a black-box probe found Scrapy's
 * default User-Agent counted as a listener): named here, so that they stay bots.
 */
export const TOOL_PATTERNS = ['scrapy', 'httpie', 'insomnia', 'puppeteer'];
const isKnownBot = createIsbotFromList([...isbotList.filter((pattern) => !GENERIC_CLIENT_PATTERNS.has(pattern)), ...TOOL_PATTERNS]);

/** A beacon after the checks that need nothing but the request itself. */
export interface ClassifiedEvent {
  event: EventType;
  /** Server receive time, ms since epoch. */
  receivedAt: number;
  /** Event time (the player's, or the receive time), clamped to [token issue time, receive time], ms. */
  occurredAt: number;
  /** Present when the token's signature holds (even if expired); absent for rejected beacons. */
  claims?: TrackingClaims;
  /** Invalid-traffic reason found so far; batch checks (sequence, rate) may add one later. */
  reason?: InvalidReason;
  /** Unsigned 64-bit hashes as decimal strings (BIGINT UNSIGNED parameters). */
  userHash: string | null;
  ipHash: string | null;
  uaHash: string | null;
  /** For rejected beacons only: SHA-256 of the token, to recognise replays without keeping the token. */
  tokenSha256?: string;
}

export interface BeaconInput {
  event: EventType;
  token: string;
  /** Player-reported event time, ms since epoch. */
  occurredAt?: number;
  userAgent?: string;
  ip?: string;
}

const COUNTRY = /^[A-Z]{2}$/;
const PLATFORM = /^[a-z]{1,16}$/;
const PRICING = new Set(['CPM', 'CPC', 'CPCL']);

/** Any UUID; the lowercase canonical ones every token of this platform carries are told without a regular expression. */
const isUuid = (v: unknown) => typeof v === 'string' && (isCanonicalUuid(v) || UUID_PATTERN.test(v));

/**
 * Signed claims are ours, but one out-of-shape value would fail a whole multi-row insert, so their shape
 * is checked before they reach the batch.
 */
export function claimsAreWellFormed(c: TrackingClaims): boolean {
  return (
    isUuid(c.decisionId) &&
    isUuid(c.advertiserId) &&
    isUuid(c.campaignId) &&
    isUuid(c.lineItemId) &&
    isUuid(c.creativeId) &&
    typeof c.userId === 'string' &&
    c.userId.length > 0 &&
    c.userId.length <= 128 &&
    PRICING.has(c.pricingModel) &&
    Number.isSafeInteger(c.rateMicros) &&
    c.rateMicros >= 0 &&
    typeof c.country === 'string' &&
    COUNTRY.test(c.country) &&
    typeof c.platform === 'string' &&
    PLATFORM.test(c.platform) &&
    Number.isSafeInteger(c.issuedAt)
  );
}

/** First 64 bits of SHA-256(salt + value), as a decimal string. */
export function hash64(salt: string, value: string): string {
  return BigInt(`0x${hash('sha256', salt + value, 'hex').slice(0, 16)}`).toString();
}

/**
 * Players send a limited set of User-Agents: each one's hash and bot verdict are kept rather than
 * recomputed. isbot's list is one large regular expression, and a player's UA, which matches none of
 * it, is scanned against all of it: keeping the verdict took a beacon's API CPU from 128 to 94 µs
 * (bench:ingest:ab).
 */
const userAgents = new Map<string, { hash: string; bot: boolean }>();
const MAX_CACHED_UAS = 10_000;
/** Longer User-Agents (no real one comes close) are classified every time, never kept: bounded memory. */
const MAX_CACHED_UA_LENGTH = 512;

function userAgentFacts(salt: string, userAgent: string): { hash: string; bot: boolean } {
  const cacheable = userAgent.length <= MAX_CACHED_UA_LENGTH;
  const key = `${salt}\u0000${userAgent}`;
  let facts = cacheable ? userAgents.get(key) : undefined;
  if (facts === undefined) {
    facts = { hash: hash64(salt, `ua:${userAgent}`), bot: isKnownBot(userAgent) };
    if (cacheable) {
      // Oldest first out: a long tail of rare User-Agents cannot flush the common ones all at once.
      if (userAgents.size >= MAX_CACHED_UAS) userAgents.delete(userAgents.keys().next().value!);
      userAgents.set(key, facts);
    }
  }
  return facts;
}

/** The reach key of a listener: stable for ever (unsalted by secrets that may rotate). */
export function userHashOf(userId: string): string {
  return hash64('user:', userId);
}

/**
 * The per-beacon part of invalid-traffic filtering: token (malformed, bad signature, expired), known
 * bots by User-Agent (isbot's maintained list), and the event time. Pure apart from hashing; the
 * verdict of the token codec is passed in.
 */
export function classifyBeacon(input: BeaconInput, verdict: TokenVerdict, receivedAt: number, hashSalt: string): ClassifiedEvent {
  const ipHash = input.ip ? hash64(hashSalt, `ip:${input.ip}`) : null;
  const ua = input.userAgent ? userAgentFacts(hashSalt, input.userAgent) : null;
  const uaHash = ua ? ua.hash : null;
  const claims = verdict.claims;
  if (!claims || (verdict.ok === false && verdict.reason !== 'expired') || !claimsAreWellFormed(claims)) {
    const reason: InvalidReason = !verdict.ok && verdict.reason !== 'expired' ? verdict.reason : 'malformed';
    return {
      event: input.event,
      receivedAt,
      occurredAt: receivedAt,
      reason,
      userHash: null,
      ipHash,
      uaHash,
      tokenSha256: createHash('sha256').update(String(input.token)).digest('hex'),
    };
  }
  const issuedAtMs = claims.issuedAt * 1000;
  const reported = input.occurredAt ?? receivedAt;
  const occurredAt = Math.min(Math.max(reported, issuedAtMs), receivedAt);
  let reason: InvalidReason | undefined;
  if (!verdict.ok) reason = 'expired';
  else if (ua?.bot) reason = 'bot';
  return { event: input.event, receivedAt, occurredAt, claims, reason, userHash: userHashOf(claims.userId), ipHash, uaHash };
}
