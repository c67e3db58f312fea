import { PLATFORMS } from '@app/campaigns';
import type { CreativeFormat } from '@app/campaigns';
import type { FromSchema } from 'json-schema-to-ts';

/**
 * The decision endpoints' contract as JSON Schema: Fastify validates requests and writes answers with
 * it, and the OpenAPI document is generated from it (see PlayerRoute). OpenAPI 3.0's subset only.
 */

export const MAX_SLOTS = 10;
export const DECISION_FORMATS: readonly CreativeFormat[] = ['audio', 'video', 'display'];
/** VAST carries linear ads only. */
const VAST_FORMATS = ['audio', 'video'] as const;

const placement = { type: 'string', minLength: 1, maxLength: 128, description: 'Where the ad plays (publisher-defined); unknown placements simply match nothing they target', example: 'between-songs' } as const;
const slots = { type: 'integer', minimum: 1, maximum: MAX_SLOTS, default: 1, description: 'Ads wanted (an ad pod when > 1); never two of the same line item', example: 1 } as const;
const userId = { type: 'string', minLength: 1, maxLength: 128, description: 'Stable listener id (pseudonymous); frequency caps count per id', example: 'listener-8f3a2c' } as const;
const age = { type: 'integer', minimum: 0, maximum: 130, description: 'Age in years, matched against ageRanges targeting', example: 29 } as const;
const gender = { type: 'string', maxLength: 32, description: 'Declared gender, matched against genders targeting', example: 'female' } as const;
const platform = { type: 'string', enum: PLATFORMS, example: 'ios' } as const;
const userAgent = { type: 'string', maxLength: 512, description: 'User agent of the listening device', example: 'Spotify/8.9.10 iOS/17.2 (iPhone15,2)' } as const;
const ip = {
  type: 'string',
  maxLength: 64,
  format: 'ip',
  description:
    "IP address (IPv4 or IPv6) of the listening device, for the per-IP limit of served ads; taken only from callers allowed to name it (TRUST_DEVICE_IP: server-side ad insertion), anyone else's ads count against the caller's own address",
  example: '203.0.113.7',
} as const;
const country = { type: 'string', pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country code', example: 'US' } as const;
const region = { type: 'string', maxLength: 64, description: 'Region code (e.g. CA or US-CA)', example: 'CA' } as const;
const genre = { type: 'string', maxLength: 64, description: 'Genre of the content around the ad', example: 'rock' } as const;
const keywords = {
  type: 'array',
  maxItems: 50,
  items: { type: 'string', maxLength: 64 },
  description: 'Keywords of the content, matched by keywords any/all/none targeting; one comma-separated string is also taken',
  example: ['running', 'summer'],
} as const;

export const decisionRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['placement', 'user', 'device', 'geo'],
  properties: {
    placement,
    slots,
    user: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: userId, age, gender } },
    device: { type: 'object', additionalProperties: false, required: ['platform'], properties: { platform, userAgent, ip } },
    geo: { type: 'object', additionalProperties: false, required: ['country'], properties: { country, region } },
    context: { type: 'object', additionalProperties: false, properties: { genre, keywords } },
    format: { type: 'string', enum: DECISION_FORMATS, description: 'Only creatives of this format', example: 'audio' },
  },
} as const;
export type DecisionRequest = FromSchema<typeof decisionRequestSchema>;

/** Unknown parameters (cache busters) are allowed: players append their own. */
export const decideQuerySchema = {
  type: 'object',
  properties: {
    explain: { type: 'string', enum: ['true', 'false', '1', '0', ''], description: 'Admin only: add `explanation`, why each line item won or lost' },
  },
} as const;
export type DecideQuery = FromSchema<typeof decideQuerySchema>;

/** GET /v1/vast: the decision request as flat query parameters, as players send them; unknown ones (cache busters) are ignored. */
export const vastQuerySchema = {
  type: 'object',
  required: ['placement', 'userId', 'platform', 'country'],
  properties: {
    placement,
    slots,
    userId,
    age,
    gender,
    platform,
    userAgent: { ...userAgent, description: 'Defaults to the request\'s User-Agent' },
    ip: { ...ip, description: `${ip.description}; defaults to the request's address` },
    country,
    region,
    genre,
    keywords: { ...keywords, description: 'Comma-separated', example: ['running', 'summer'] },
    format: { type: 'string', enum: VAST_FORMATS, description: 'VAST carries linear ads only; without it, audio or video', example: 'audio' },
  },
} as const;
export type VastQuery = FromSchema<typeof vastQuerySchema>;

const TOKEN = 'Av__AZLxxI0ufBqaVT8bLD1OX___AZLxxAAAcACAAAAAAAAAAf__AZLxxAAAcACAAAAAAAAAAv__AZLxxAAAcACAAAAAAAAAA___AZLxxAAAcACAAAAAAAAABAAPbGlzdGVuZXItOGYzYTJjAEFDEtAAAAAAAAJVUwADaW9zaweY4A.3oL-omg9wtA9TmA7GNGCLn3_Ga5SCx9PSVQWCaoxLrE';
/**
 * A tracking URL is written without escaping (fast-json-stringify's `unsafe` format; left out of the
 * OpenAPI document): TrackingUrls refuses a base URL JSON would escape, and a token is URL-safe base64.
 * Escaping checked all eight ~250-character URLs of every ad, about 6 µs of a one-ad decision.
 */
const trackingUrl = (event: string, description?: string) => ({ type: 'string', format: 'unsafe', ...(description ? { description } : {}), example: `https://ads.example.com/t/${event}?d=${TOKEN}` }) as const;

const decisionSchema = {
  type: 'object',
  required: ['decisionId', 'campaignId', 'lineItemId', 'creativeId', 'format', 'mediaUrl', 'mimeType', 'durationSeconds', 'clickUrl', 'tracking'],
  properties: {
    decisionId: { type: 'string', description: 'Id of this ad decision (also in the tracking token and VAST AdServingId)', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f' },
    campaignId: { type: 'string', example: '0192f1c4-0000-7000-8000-00000000c001' },
    lineItemId: { type: 'string', example: '0192f1c4-0000-7000-8000-00000000l001' },
    creativeId: { type: 'string', example: '0192f1c4-0000-7000-8000-00000000c0de' },
    format: { type: 'string', enum: DECISION_FORMATS, example: 'audio' },
    mediaUrl: { type: 'string', example: 'https://cdn.example.com/ads/summer-30s.mp3' },
    mimeType: { type: 'string', example: 'audio/mpeg' },
    durationSeconds: { type: 'number', example: 30 },
    clickUrl: trackingUrl('click', 'Click tracking URL; redirects (302) to the advertiser click-through'),
    tracking: {
      type: 'object',
      description: 'Beacon URLs of the ad; each carries the same signed, expiring token',
      required: ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click'],
      properties: {
        impression: trackingUrl('impression'),
        start: trackingUrl('start'),
        firstQuartile: trackingUrl('firstQuartile'),
        midpoint: trackingUrl('midpoint'),
        thirdQuartile: trackingUrl('thirdQuartile'),
        complete: trackingUrl('complete'),
        click: trackingUrl('click', 'Answers 302 to the click-through URL'),
      },
    },
  },
} as const;

const candidateSchema = {
  type: 'object',
  required: ['lineItemId', 'campaignId', 'priority', 'expectedValueMicros', 'rank', 'reason'],
  properties: {
    lineItemId: { type: 'string', example: '0192f1c4-0000-7000-8000-00000000l002' },
    campaignId: { type: 'string', example: '0192f1c4-0000-7000-8000-00000000c001' },
    priority: { type: 'integer', description: 'Lower serves first', example: 8 },
    expectedValueMicros: { type: 'number', nullable: true, description: 'Expected revenue of one impression in micros; null when filtered out before ranking', example: 2500 },
    rank: { type: 'integer', nullable: true, description: 'Position in the ranking (1 = best); null when filtered out before ranking', example: 2 },
    reason: {
      type: 'string',
      description:
        'selected, or why not: flight_not_started, flight_ended, no_creative_for_format, targeting_<field>, budget_exhausted, daily_budget_exhausted, campaign_budget_exhausted, frequency_capped, paced, listener_limit, ip_limit, counters_unavailable (its shard of the ledger did not answer), outranked, counters_not_restored',
      example: 'frequency_capped',
    },
  },
} as const;

/** The answer: the served ads are written as they are (ServedAd), only the fields listed here. */
export const decisionResponseSchema = {
  type: 'object',
  required: ['requestId', 'decisions'],
  properties: {
    requestId: { type: 'string', description: 'Id of the HTTP request (X-Request-Id)', example: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e00' },
    decisions: { type: 'array', items: decisionSchema, description: 'Empty when nothing is eligible (no fill)' },
    explanation: { type: 'array', items: candidateSchema, description: 'With ?explain=true (admin only): every line item of the catalog and why it won or lost' },
  },
} as const;
