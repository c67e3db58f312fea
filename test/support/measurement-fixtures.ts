import { TrackingClaims, TrackingTokenCodec } from '@app/delivery';
import { randomUUID } from 'node:crypto';
import { Connection, createConnection } from 'mysql2/promise';
import { HttpResult, http } from './http';
import { waitFor } from './processes';
import { stackEnv } from './stack';

/** Tokens minted with the same secret as the stacks under test (see stackEnv). */
export const codec = new TrackingTokenCodec(stackEnv({ dbName: 'x', queuePrefix: 'x' }, 0).TRACKING_SECRET!, 172800);

/** Sent with every beacon by default: fetch's own User-Agent ("node") is on the bot list. */
export const BROWSER_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
export const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

export type EventName = 'impression' | 'start' | 'firstQuartile' | 'midpoint' | 'thirdQuartile' | 'complete' | 'click';
export const FULL_LISTEN: EventName[] = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'];

export const HOUR_MS = 3_600_000;
export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

export interface Placement {
  advertiserId: string;
  campaignId: string;
  lineItemId: string;
  creativeId: string;
  pricingModel?: TrackingClaims['pricingModel'];
  rateMicros?: number;
}

/** Claims of a fresh decision on a placement; ids need not exist for ingestion. */
export function decision(placement: Placement, over: Partial<TrackingClaims> = {}): TrackingClaims {
  return {
    decisionId: randomUUID(),
    advertiserId: placement.advertiserId,
    campaignId: placement.campaignId,
    lineItemId: placement.lineItemId,
    creativeId: placement.creativeId,
    userId: `listener-${randomUUID().slice(0, 8)}`,
    pricingModel: placement.pricingModel ?? 'CPM',
    rateMicros: placement.rateMicros ?? 2_500_000,
    country: 'US',
    platform: 'ios',
    issuedAt: Math.floor(Date.now() / 1000) - 60,
    ...over,
  };
}

export function randomPlacement(over: Partial<Placement> = {}): Placement {
  return { advertiserId: randomUUID(), campaignId: randomUUID(), lineItemId: randomUUID(), creativeId: randomUUID(), ...over };
}

export function beacon(event: string, token: string, options: { userAgent?: string; baseUrl?: string } = {}): Promise<HttpResult> {
  return http('GET', `/t/${event}?d=${encodeURIComponent(token)}`, { key: null, baseUrl: options.baseUrl, headers: { 'user-agent': options.userAgent ?? BROWSER_UA } });
}

export interface BatchEvent {
  event: string;
  token: string;
  occurredAt?: string | number;
}

export function postEvents(events: BatchEvent[], options: { userAgent?: string; baseUrl?: string; contentType?: string } = {}): Promise<HttpResult> {
  return http('POST', '/v1/events', {
    key: null,
    baseUrl: options.baseUrl,
    body: JSON.stringify({ events }),
    headers: { 'user-agent': options.userAgent ?? BROWSER_UA, 'content-type': options.contentType ?? 'application/json' },
  });
}

export function mysql(database: string = process.env.E2E_DB_NAME!): Promise<Connection> {
  return createConnection({
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? 3306),
    user: process.env.DB_USER ?? 'root',
    password: process.env.DB_PASSWORD ?? '',
    database,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

/** Waits until every stored raw event is rolled up (the watermark reached the newest id). */
export async function waitForAggregation(conn: Connection, timeoutMs = 30_000): Promise<number> {
  return waitFor(
    async () => {
      const [[row]] = (await conn.query("SELECT (SELECT COALESCE(MAX(id), 0) FROM raw_events) AS newest, (SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups') AS wm")) as unknown as [
        Array<{ newest: string; wm: string }>,
      ];
      return Number(row.wm) >= Number(row.newest) ? Number(row.wm) : null;
    },
    timeoutMs,
    'aggregation to catch up',
    100,
  );
}

/** An event as stored, for computing what a report must say. */
export interface StoredEvent {
  claims: TrackingClaims;
  event: EventName;
  occurredAt: number;
  valid: boolean;
  reason?: string;
}

const BILLED: Record<TrackingClaims['pricingModel'], EventName> = { CPM: 'impression', CPC: 'click', CPCL: 'complete' };
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1e6) / 1e6 : 0);

/** The report row the ground truth implies for a set of stored events (the same formulas, computed independently). */
export function expectedRow(events: StoredEvent[]) {
  const count = (name: EventName) => events.filter((e) => e.valid && e.event === name).length;
  const impressions = count('impression');
  const users = new Set(events.filter((e) => e.valid && e.event === 'impression').map((e) => e.claims.userId));
  let spendMilli = 0n;
  for (const e of events) {
    if (!e.valid || BILLED[e.claims.pricingModel] !== e.event) continue;
    spendMilli += BigInt(e.claims.pricingModel === 'CPM' ? e.claims.rateMicros : e.claims.rateMicros * 1000);
  }
  const invalid = events.filter((e) => !e.valid);
  return {
    impressions,
    starts: count('start'),
    firstQuartiles: count('firstQuartile'),
    midpoints: count('midpoint'),
    thirdQuartiles: count('thirdQuartile'),
    completes: count('complete'),
    clicks: count('click'),
    ctr: ratio(count('click'), impressions),
    completionRate: ratio(count('complete'), impressions),
    reach: users.size,
    frequency: ratio(impressions, users.size),
    spendMicros: Number(spendMilli / 1000n),
    // These fixtures' budgets are far beyond what any test delivers: nothing is written off.
    writtenOffMicros: 0,
    invalidImpressions: invalid.filter((e) => e.event === 'impression').length,
    invalidClicks: invalid.filter((e) => e.event === 'click').length,
    invalidEvents: invalid.length,
  };
}

/** Report rows keyed like the API's, from stored events, for a granularity and breakdown. */
export function expectedRows(events: StoredEvent[], granularity: 'hour' | 'day' | 'total', breakdown: Array<'country' | 'platform' | 'creative'> = []) {
  const groups = new Map<string, { key: Record<string, string>; events: StoredEvent[] }>();
  for (const e of events) {
    const key: Record<string, string> = {};
    if (granularity === 'hour') key.period = new Date(floorHour(e.occurredAt)).toISOString();
    if (granularity === 'day') key.period = new Date(e.occurredAt).toISOString().slice(0, 10);
    if (breakdown.includes('country')) key.country = e.claims.country;
    if (breakdown.includes('platform')) key.platform = e.claims.platform;
    if (breakdown.includes('creative')) key.creativeId = e.claims.creativeId;
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, events: [] };
    group.events.push(e);
    groups.set(id, group);
  }
  type Keyed = ReturnType<typeof expectedRow> & { period?: string; country?: string; platform?: string; creativeId?: string };
  return [...groups.values()]
    .map((g): Keyed => ({ ...g.key, ...expectedRow(g.events) }))
    .sort((a, b) => {
      const ka = [a.period ?? '', a.country ?? '', a.platform ?? '', a.creativeId ?? ''].join('|');
      const kb = [b.period ?? '', b.country ?? '', b.platform ?? '', b.creativeId ?? ''].join('|');
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

/** Drops the fields a comparison with expectedRow does not cover (reachMethod is checked on its own). */
export function comparable(rows: Array<Record<string, unknown>>) {
  return rows.map(({ invalidByReason: _ignored, reachMethod: _method, ...rest }) => rest);
}

export async function report(query: Record<string, string>, options: { key?: string | null; baseUrl?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return http('GET', `/v1/reports?${new URLSearchParams(query).toString()}`, options);
}

/** Creates advertiser, campaign, approved creative and a CPM line item through a stack's API. */
export async function createPlacementVia(baseUrl: string, lineItem: Record<string, unknown> = {}): Promise<Placement> {
  const call = async (method: string, path: string, body?: unknown, status = 201) => {
    const res = await http(method, path, { baseUrl, body });
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${res.text}`);
    return res.body as { id: string };
  };
  const advertiser = await call('POST', '/v1/advertisers', { name: 'Fault test advertiser' });
  const campaign = await call('POST', '/v1/campaigns', {
    advertiserId: advertiser.id,
    name: 'Fault test campaign',
    startAt: new Date(Date.now() - 86_400_000).toISOString(),
    endAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  const creative = await call('POST', '/v1/creatives', {
    advertiserId: advertiser.id,
    name: 'Spot',
    format: 'audio',
    mediaUrl: 'https://cdn.example.com/spot.mp3',
    mimeType: 'audio/mpeg',
    durationSeconds: 30,
    clickThroughUrl: 'https://example.com/landing',
  });
  await call('POST', `/v1/creatives/${creative.id}/review`, { decision: 'approved' }, 200);
  const body = {
    campaignId: campaign.id,
    name: 'Fault test line item',
    pricingModel: 'CPM',
    rateMicros: 3_210_987,
    budgetMicros: 1_000_000_000_000,
    pacing: 'ASAP',
    priority: 8,
    frequencyCaps: [{ maxImpressions: 100, periodSeconds: 86_400 }],
    targeting: {},
    creativeIds: [creative.id],
    ...lineItem,
  };
  const li = await call('POST', '/v1/line-items', body);
  return { advertiserId: advertiser.id, campaignId: campaign.id, lineItemId: li.id, creativeId: creative.id, pricingModel: body.pricingModel as Placement['pricingModel'], rateMicros: body.rateMicros };
}

/**
 * Sends full listens (impression .. complete) for `decisions` fresh decisions through POST /v1/events,
 * `concurrency` requests at a time, and records every event the API stored.
 */
export async function streamListens(
  placement: Placement,
  decisions: number,
  stored: StoredEvent[],
  options: { baseUrl?: string; concurrency?: number; users?: number; onError?: (status: number) => void } = {},
): Promise<void> {
  const users = options.users ?? 50;
  let next = 0;
  const run = async () => {
    while (next < decisions) {
      const n = next++;
      const claims = decision(placement, { userId: `stream-${n % users}`, country: n % 3 === 0 ? 'DE' : 'US', platform: n % 2 ? 'ios' : 'web' });
      const token = codec.sign(claims);
      const occurredAt = Date.now() - 1000;
      const events = FULL_LISTEN.map((event, i) => ({ event, token, occurredAt: occurredAt + i * 100 }));
      const res = await postEvents(events, { baseUrl: options.baseUrl });
      if (res.status !== 200) {
        options.onError?.(res.status);
        continue;
      }
      // A fresh, signed, in-order listen from a browser is valid by construction: the expectation is
      // built from that, never from the API's verdict, which must agree.
      res.body.results.forEach((r: { status: string; reason?: string }, i: number) => {
        if (r.status !== 'accepted') throw new Error(`${FULL_LISTEN[i]} of a fresh listen answered ${r.status}${r.reason ? ` (${r.reason})` : ''}, expected accepted`);
        stored.push({ claims, event: FULL_LISTEN[i], occurredAt: occurredAt + i * 100, valid: true });
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, run));
}
