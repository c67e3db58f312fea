import type { TrackingClaims } from '@app/delivery';
import { uuidv7 } from '@app/platform';
import autocannon from 'autocannon';
import type Redis from 'ioredis';
import { Connection } from 'mysql2/promise';
import { codec, decision, randomPlacement } from '../../test/support/measurement-fixtures';
import { ledgerKeys } from '../../test/support/ledger';

/** What benchmarks send as a player's User-Agent (a browser: not a bot). */
export const UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

export interface Run {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export function cannon(options: autocannon.Options): Promise<Run> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => {
      if (err) return reject(err);
      resolve({
        requests: result.requests.total,
        rps: result.requests.total / (result.duration || 1),
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    });
  });
}

export type Placement = ReturnType<typeof randomPlacement>;

/**
 * A catalog's worth of placements for the tokens: 1,000 line items in 100 campaigns of 20 advertisers,
 * events spread evenly over them (the delivery counters sum events per line item and campaign within a
 * call, which would flatter a benchmark whose events all belong to one line item).
 */
export function catalog(): Placement[] {
  const advertisers = Array.from({ length: 20 }, () => randomPlacement());
  const campaigns = Array.from({ length: 100 }, (_, i) => randomPlacement({ advertiserId: advertisers[i % 20].advertiserId }));
  return Array.from({ length: 1000 }, (_, i) => randomPlacement({ advertiserId: campaigns[i % 100].advertiserId, campaignId: campaigns[i % 100].campaignId }));
}

/**
 * `count` signed tokens, each for a new decision, spread over `placements`; `sign` may be another build's
 * codec (A/B). Decision ids are UUIDv7, as DecisionService issues them, and handed out in the order
 * made: random (v4) ids would scatter the inserts over raw_events' unique key, costing MySQL 3-5 µs
 * more per row than production pays.
 */
export function tokens(count: number, placements: Placement[] = catalog(), sign: (claims: TrackingClaims) => string = (c) => codec.sign(c)): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = encodeURIComponent(sign(decision(placements[i % placements.length], { userId: `bench-${i % 50_000}`, decisionId: uuidv7() })));
  return out;
}

export async function rowCount(db: Connection): Promise<number> {
  const [[row]] = (await db.query('SELECT COUNT(*) AS n FROM raw_events')) as unknown as [Array<{ n: string }>];
  return Number(row.n);
}

/** Tokens handed out in order across runs, so that no two requests of a benchmark carry the same one. */
export class TokenPool {
  private next = 0;
  constructor(private readonly tokens: string[]) {}
  take(): string {
    return this.tokens[this.next++ % this.tokens.length];
  }
}

/** Closed-loop GET /t/impression load (autocannon), one token of the pool per request. */
export async function beaconRun(url: string, pool: TokenPool, seconds: number, connections: number, extra: Partial<autocannon.Options> = {}): Promise<Run> {
  return cannon({
    url,
    connections,
    duration: seconds,
    headers: { 'user-agent': UA },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/t/impression?d=${pool.take()}` }) }],
    ...extra,
  });
}


/**
 * What serving decisions would have left in Redis for the catalog's line items: each one's longest
 * frequency-cap period (`capTtl`), set by reservations. Half the line items have a cap of an hour (as in
 * bench:decision), half none. Without it every impression would keep a listener entry for the longest
 * period allowed (31 days), as for a line item whose caps are unknown: a Redis cost production does not
 * pay for uncapped line items.
 */
export async function primeCapPeriods(redis: Redis, queuePrefix: string, placements: readonly Placement[]): Promise<void> {
  const pipeline = redis.pipeline();
  placements.forEach((p, i) => pipeline.hset(ledgerKeys(queuePrefix).lineItem(p.lineItemId), 'capTtl', i % 2 === 0 ? 3600 : 0));
  await pipeline.exec();
}
