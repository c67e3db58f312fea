import { GroupCommitter, RedisService } from '@app/platform';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { Clock, SystemClock } from './clock';
import { LedgerKeys } from './ledger-keys';
import { ApplyCallArg, CandidateArg, LEDGER_SCRIPTS, ReserveCallArg, scriptArg } from './ledger-scripts';
import {
  AccountState,
  CandidateVerdict,
  CountableEvent,
  CountersRestoreState,
  LineItemCounters,
  ReservationCandidate,
  ReservationRequest,
  ReservationResult,
  RestoreAccounts,
} from './ledger.types';
import { eventCostMilliMicros } from './pricing';

/** UTC quarter hour: the granularity of recent spend (every real timezone offset is a multiple of it). */
export const QUARTER_MS = 900_000;
/** Recent spend kept per account, in quarter hours (26 h: covers "today" in every timezone). */
export const RECENT_QUARTERS = 104;
/**
 * Events per counters script call: a call holds Redis for its whole run (tens of µs per event), so a
 * large batch goes as several calls, and other clients' commands (decisions' reservations) run in between.
 */
const APPLY_CHUNK = 50;
/** Longest frequency-cap period honoured, and how long impressions are kept when the caps are unknown. */
export const MAX_CAP_PERIOD_SECONDS = 31 * 24 * 3600;
/** Longest a rebuild from MySQL may record events apart before the recording stops by itself. */
export const RESTORE_RECORDING_MS = 2 * 60_000;

export interface DeliveryLedgerOptions {
  /** How long a decision's reservation is held if its event never arrives, ms. */
  reservationWindowMs: number;
  /** Granularity of reservation expiry, ms. */
  reservationBucketMs: number;
  /** How long a served decision counts against frequency caps before its impression arrives, ms. */
  capPendingMs: number;
  /** Share of a budget below which CPC/CPCL decisions reserve a full event price instead of its expectation. */
  tailFraction: number;
  /** Window of the per-listener and per-IP outstanding-decision limits, ms. */
  limitWindowMs: number;
}

export const DEFAULT_LEDGER_OPTIONS: DeliveryLedgerOptions = {
  reservationWindowMs: 600_000,
  reservationBucketMs: 10_000,
  capPendingMs: 300_000,
  tailFraction: 0.05,
  limitWindowMs: 600_000,
};

export const DELIVERY_LEDGER_OPTIONS = Symbol('DELIVERY_LEDGER_OPTIONS');

type ScriptClient = {
  dlvReserve(...args: Array<string | number>): Promise<Array<string | string[]>>;
  dlvApply(...args: Array<string | number>): Promise<number>;
  dlvRead(...args: Array<string | number>): Promise<Array<string | null>>;
  dlvRestorePhase(...args: Array<string | number>): Promise<number>;
  dlvRestoreSince(...args: Array<string | number>): Promise<number>;
};

/** ioredis command name of each ledger script. */
const COMMANDS = { reserve: 'dlvReserve', apply: 'dlvApply', read: 'dlvRead', 'restore-phase': 'dlvRestorePhase', 'restore-since': 'dlvRestoreSince' } as const;

/**
 * Reservation calls: up to 8 decisions each, 16 in flight. A call leaves as soon as 8 decisions wait,
 * or at the end of the event-loop turn, so Redis starts on the first decisions of a burst while the
 * API still parses the rest; beyond 5,000 waiting decisions, or after 1 s without a free call, a
 * decision is refused (503) rather than queued without end. Measured against one call per decision
 * (bench:decision:ab, BENCHMARKS.md): 8 per call gave ~8% more decisions/s and 14% less API CPU per
 * decision; 16 or 64 per call, or 2 in flight, made the decisions move through API and Redis in
 * convoys, and fewer decisions/s were served.
 */
const RESERVE_BATCH = { maxItems: 8, maxDelayMs: 0, maxInFlight: 16, maxPendingItems: 5000, maxWaitMs: 1000, what: 'the reservation step' };

const VERDICTS = new Set<CandidateVerdict>([
  'selected',
  'budget_exhausted',
  'daily_budget_exhausted',
  'campaign_budget_exhausted',
  'frequency_capped',
  'paced',
  'listener_limit',
  'ip_limit',
]);

/**
 * The delivery ledger: state shared by every API replica, in Redis: spend (lifetime, per local day,
 * reserved), observed counts, frequency caps, outstanding decisions. The one owner of those keys
 * (ledger-keys.ts) and of the scripts that change them (lua/). Delivery reserves through `reserve`,
 * atomically per decision (the decisions of one event-loop turn share a script call); ingestion feeds
 * measured events through `applyEvents` (and `markLost` when it missed some); the worker rebuilds the
 * ledger from MySQL after Redis lost it (LedgerRebuildService: `needsRestore`, then `beginRestore` /
 * `restore` / `finishRestore`).
 *
 * Budget guard: a decision reserves its expected cost (CPM: the impression's price; CPC/CPCL: rate ×
 * observed click/completion rate, or the full price within the last `tailFraction` of a budget) and is
 * only allowed while measured spend + outstanding reservations + one event's price fits the line item's
 * budget, its daily budget and its campaign's budget. A CPM impression swaps its reservation for
 * measured spend; other reservations lapse after `reservationWindowMs`. Measured spend can therefore
 * only pass a budget through events arriving later than the window (offline listening), which the
 * 1% tolerance absorbs.
 */
@Injectable()
export class DeliveryLedger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryLedger.name);
  readonly keys: LedgerKeys;
  private readonly options: DeliveryLedgerOptions;
  /**
   * A connection of its own (same options and fail-fast behaviour as RedisService.client). Without
   * auto-pipelining: ioredis keeps one auto-pipeline in flight per connection, so every decision
   * waited for the previous batch's round trip (and its objects lived long enough to be promoted);
   * written at once, 6-31% more decisions/s and 7% less CPU per decision (bench:decision:ab).
   */
  private readonly client: Redis;
  private readonly reservations = new GroupCommitter<ReservationRequest, ReservationResult>((requests) => this.reserveBatch(requests), RESERVE_BATCH);

  constructor(
    redis: RedisService,
    @Optional() @Inject(Clock) private readonly clock: Clock = new SystemClock(),
    @Optional() @Inject(DELIVERY_LEDGER_OPTIONS) options?: Partial<DeliveryLedgerOptions>,
  ) {
    this.options = { ...DEFAULT_LEDGER_OPTIONS, ...options };
    this.keys = new LedgerKeys(redis);
    this.client = redis.client.duplicate();
    this.client.on('error', (err: Error) => this.logger.warn(`redis (delivery counters): ${err.message}`));
    for (const [name, command] of Object.entries(COMMANDS)) this.client.defineCommand(command, { lua: LEDGER_SCRIPTS[name as keyof typeof COMMANDS] });
  }

  /** Waits (boundedly) for the connection, so the first decisions after boot do not fail fast. */
  async onModuleInit(): Promise<void> {
    await this.whenReady(2000).catch((err: Error) => this.logger.warn(`delivery counters not connected yet: ${err.message}`));
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }

  whenReady(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms (${this.client.status})`)), timeoutMs);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private get windowBuckets(): number {
    return Math.ceil(this.options.reservationWindowMs / this.options.reservationBucketMs);
  }

  /**
   * Counts newly stored valid events: spend, observed rates, frequency caps, reservation release. One
   * script call per APPLY_CHUNK events (each call atomic), all in one pipeline.
   */
  async applyEvents(events: CountableEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    const call = scriptArg<ApplyCallArg>({
      now,
      bucketMs: this.options.reservationBucketMs,
      quarterMs: QUARTER_MS,
      recentQuarters: RECENT_QUARTERS,
      defaultCapTtlSeconds: MAX_CAP_PERIOD_SECONDS,
      prefix: this.keys.scriptPrefix(),
      limitWindowMs: this.options.limitWindowMs,
    });
    const calls: Array<Array<string | number>> = [];
    for (let start = 0; start < events.length; start += APPLY_CHUNK) {
      const args: Array<string | number> = [0, call];
      for (const { claims, event, occurredAt } of events.slice(start, start + APPLY_CHUNK)) {
        const cost = eventCostMilliMicros(claims.pricingModel, claims.rateMicros, event);
        const release = claims.pricingModel === 'CPM' && event === 'impression' ? cost : 0;
        const arg = { event, cost, release, occurred: Math.round(occurredAt), issued: claims.issuedAt * 1000, decision: claims.decisionId, li: claims.lineItemId, cp: claims.campaignId };
        args.push(scriptArg(arg), claims.userId);
      }
      calls.push(args);
    }
    const client = this.client as unknown as ScriptClient;
    if (calls.length === 1) {
      await client.dlvApply(...calls[0]);
      return;
    }
    const pipeline = this.client.pipeline() as ChainableCommander & ScriptClient;
    for (const args of calls) pipeline.dlvApply(...args);
    await execOrThrow(pipeline);
  }

  /**
   * The atomic decision step: walks `candidates` best first, selects up to `decisionIds.length` of them
   * that fit their budgets, frequency caps and pacing, and reserves for each. The decisions this process
   * starts in one event-loop turn share one script call (see lua/reserve.lua), each still atomic and in order.
   */
  reserve(request: ReservationRequest): Promise<ReservationResult> {
    return this.reservations.submit([request]).then(
      (results) => results[0],
      (err: unknown) => {
        // Budgets and frequency caps live in Redis: without it no ad can be reserved safely (fail closed).
        throw new ServiceUnavailableException(`delivery counters unavailable (Redis), no ad can be served: ${(err as Error).message}`);
      },
    );
  }

  private async reserveBatch(requests: ReservationRequest[]): Promise<ReservationResult[]> {
    const call: ReserveCallArg = {
      now: this.clock.now(),
      bucketMs: this.options.reservationBucketMs,
      windowBuckets: this.windowBuckets,
      pendingMs: this.options.capPendingMs,
      tailFraction: this.options.tailFraction,
      prefix: this.keys.scriptPrefix(),
      limitWindowMs: this.options.limitWindowMs,
    };
    const args: Array<string | number> = [1, this.keys.marker(), scriptArg(call)];
    for (const { candidates, decisionIds, userId, ip, limits } of requests) {
      args.push(scriptArg({ ids: decisionIds, n: candidates.length, listenerLimit: limits?.listener ?? 0, ipLimit: limits?.ip ?? 0 }), userId, ip ?? '');
      for (const c of candidates) args.push(scriptArg(candidateArgument(c)));
    }
    const reply = await (this.client as unknown as ScriptClient).dlvReserve(...args);
    if (reply[0] === 'not_restored') return requests.map(() => ({ restored: false }));
    return requests.map(({ candidates, decisionIds }, r): ReservationResult => {
      const walked = reply[r] as string[];
      const verdicts: CandidateVerdict[] = candidates.map((_, i) => (VERDICTS.has(walked[i] as CandidateVerdict) ? (walked[i] as CandidateVerdict) : 'not_reached'));
      const selected: Array<{ index: number; decisionId: string }> = [];
      verdicts.forEach((v, index) => {
        if (v === 'selected') selected.push({ index, decisionId: decisionIds[selected.length] });
      });
      return { restored: true, verdicts, selected };
    });
  }

  /** Spend, reservations and observed counts of line items (one script call). Missing line items read as zeros. */
  async readLineItems(ids: readonly string[]): Promise<Map<string, LineItemCounters>> {
    const rows = await this.readAccounts(ids.map((id) => this.keys.lineItem(id)), ['spent', 'today', 'res', 'imps', 'clicks', 'completes']);
    const out = new Map<string, LineItemCounters>();
    ids.forEach((id, i) => {
      const [spent, today, res, imps, clicks, completes] = rows[i];
      out.set(id, { spentMilliMicros: spent, spentTodayMilliMicros: today, reservedMilliMicros: res, impressions: imps, clicks, completes });
    });
    return out;
  }

  /** Spend and reservations of campaigns (one script call). */
  async readCampaigns(ids: readonly string[]): Promise<Map<string, AccountState>> {
    const rows = await this.readAccounts(ids.map((id) => this.keys.campaign(id)), ['spent', 'res']);
    const out = new Map<string, AccountState>();
    ids.forEach((id, i) => {
      const [spent, res] = rows[i];
      out.set(id, { spentMilliMicros: spent, reservedMilliMicros: res });
    });
    return out;
  }

  /** The numeric fields of many account hashes, in one round trip; missing values read as 0. */
  private async readAccounts(keys: string[], fields: string[]): Promise<number[][]> {
    if (keys.length === 0) return [];
    const flat = await (this.client as unknown as ScriptClient).dlvRead(keys.length, ...keys, ...fields);
    return keys.map((_, i) => fields.map((_, j) => Number(flat[i * fields.length + j] ?? 0)));
  }

  /** A listener's counted impressions and pending decisions per line item (for explanations and tests). */
  async readFrequency(lineItemIds: readonly string[], userId: string): Promise<Map<string, { impressionTimes: number[]; pending: number }>> {
    const out = new Map<string, { impressionTimes: number[]; pending: number }>();
    if (lineItemIds.length === 0) return out;
    const now = this.clock.now();
    const pipeline = this.client.pipeline();
    for (const id of lineItemIds) {
      pipeline.zrange(this.keys.impressions(id, userId), 0, -1, 'WITHSCORES');
      pipeline.zcount(this.keys.pending(id, userId), now - this.options.capPendingMs, '+inf');
    }
    const rows = await execOrThrow<unknown>(pipeline);
    lineItemIds.forEach((id, i) => {
      const flat = rows[2 * i] as string[];
      const impressionTimes: number[] = [];
      for (let j = 1; j < flat.length; j += 2) impressionTimes.push(Number(flat[j]));
      out.set(id, { impressionTimes, pending: Number(rows[2 * i + 1]) });
    });
    return out;
  }

  /** True when Redis lost the counters (the marker is gone) and they must be rebuilt from MySQL before anything is served. */
  async needsRestore(): Promise<boolean> {
    return (await this.client.exists(this.keys.marker())) === 0;
  }

  /**
   * Declares the ledger incomplete (updates were missed, e.g. applies that failed while Redis was away):
   * nothing is served until the worker rebuilt it from MySQL.
   */
  async markLost(): Promise<void> {
    await this.client.del(this.keys.marker());
  }

  /** Declares the counters complete again; decisions resume. */
  async markRestored(): Promise<void> {
    await this.client.set(this.keys.marker(), new Date(this.clock.now()).toISOString());
  }

  /**
   * Starts a rebuild from MySQL: from now on, events applied to the given accounts are also recorded
   * apart, so that `restore` can add those the MySQL snapshot (taken after this call) does not hold.
   * Without it, an event stored after the snapshot but applied before the rebuild's write was lost from
   * Redis spend. One rebuild at a time: returns a token for `finishRestore`, or null when another
   * rebuild is under way. The recording stops by itself after RESTORE_RECORDING_MS.
   */
  async beginRestore(accounts: RestoreAccounts): Promise<string | null> {
    const token = `${process.pid}:${randomUUID()}`;
    return (await this.restorePhase('begin', token, accounts)) ? token : null;
  }

  /** Ends the rebuild `token` began and declares the counters complete (as `markRestored`); throws if it lost its marker. */
  async finishRestore(token: string, accounts: RestoreAccounts): Promise<void> {
    if (!(await this.restorePhase('finish', token, accounts))) throw new Error('the rebuild of the delivery counters outlived its marker; it will run again');
  }

  /** Gives up the rebuild `token` began (it failed), so that the next one need not wait for the marker to expire. */
  async abortRestore(token: string): Promise<void> {
    await this.restorePhase('abort', token, { lineItemIds: [], campaignIds: [] });
  }

  private async restorePhase(phase: 'begin' | 'finish' | 'abort', token: string, { lineItemIds, campaignIds }: RestoreAccounts): Promise<boolean> {
    const keys = [this.keys.restoring(), this.keys.marker(), ...lineItemIds.map((id) => this.keys.lineItem(id)), ...campaignIds.map((id) => this.keys.campaign(id))];
    const arg = scriptArg({ phase, token, ttlMs: RESTORE_RECORDING_MS, stamp: new Date(this.clock.now()).toISOString() });
    const done = await (this.client as unknown as ScriptClient).dlvRestorePhase(keys.length, ...keys, arg);
    return Number(done) === 1;
  }

  /**
   * Replaces the counters of the given rows with MySQL truth, in one MULTI. Spend rows of one campaign
   * must come in the same call (campaign totals are their sum); frequency and rates rows may be split
   * across calls. While the marker is absent (after a loss), each account is also given a reservation
   * equal to its measured spend of the last reservation window, standing in for the reservations of
   * decisions served before the loss whose events are still to come. Within a rebuild begun with
   * `beginRestore`, each account also gets what was applied to it since then (events the snapshot may
   * not hold).
   */
  async restore(state: CountersRestoreState): Promise<void> {
    const now = this.clock.now();
    const lost = await this.needsRestore();
    const multi = this.client.multi() as ChainableCommander & ScriptClient;
    const windowStart = now - this.options.reservationWindowMs;
    const nowB = Math.floor(now / this.options.reservationBucketMs);
    const oldestB = nowB - this.windowBuckets + 1;
    const recentFrom = Math.floor(now / QUARTER_MS) - RECENT_QUARTERS;
    const quarterTtlMs = (RECENT_QUARTERS + 8) * QUARTER_MS;
    const campaigns = new Map<string, { spent: number; seed: number }>();

    /** `quarters` for line items; campaigns keep no quarter hours (see lua/reserve.lua). */
    const writeAccount = (key: string, spent: number, quarters: Map<number, number> | null, seed: number) => {
      multi.hset(key, 'spent', Math.round(spent));
      multi.hdel(key, 'dayQ', 'today');
      multi.del(`${key}:q`);
      const fields: Array<string | number> = [];
      for (const [q, v] of quarters ?? []) if (q >= recentFrom) fields.push(q, Math.round(v));
      if (fields.length > 0) {
        multi.hset(`${key}:q`, ...fields);
        multi.pexpire(`${key}:q`, quarterTtlMs);
      }
      // Events applied since the rebuild began, which the snapshot may not hold (see beginRestore).
      if (quarters) multi.dlvRestoreSince(2, key, `${key}:q`, scriptArg({ quarterTtlMs, fields: ['spent'] }));
      else multi.dlvRestoreSince(1, key, scriptArg({ quarterTtlMs, fields: ['spent'] }));
      if (lost) {
        multi.del(`${key}:r`);
        multi.hset(key, 'res', Math.ceil(seed), 'resQ', oldestB);
        if (seed > 0) {
          multi.hset(`${key}:r`, nowB, Math.ceil(seed));
          multi.pexpire(`${key}:r`, (2 * this.windowBuckets + 2) * this.options.reservationBucketMs);
        }
      }
    };

    for (const row of state.spend) {
      const quarters = new Map<number, number>();
      let seed = 0;
      for (const b of row.recent) {
        const q = Math.floor(b.quarterStartMs / QUARTER_MS);
        quarters.set(q, (quarters.get(q) ?? 0) + b.spentMilliMicros);
        const end = q * QUARTER_MS + QUARTER_MS;
        if (end > windowStart) seed += b.spentMilliMicros;
      }
      writeAccount(this.keys.lineItem(row.lineItemId), row.spentMilliMicros, quarters, seed);
      const campaign = campaigns.get(row.campaignId) ?? { spent: 0, seed: 0 };
      campaign.spent += row.spentMilliMicros;
      campaign.seed += seed;
      campaigns.set(row.campaignId, campaign);
    }
    for (const [id, c] of campaigns) writeAccount(this.keys.campaign(id), c.spent, null, c.seed);

    // Impressions are members by decision id, as apply.lua adds them: the union of what Redis still
    // holds and what MySQL knows counts each impression once, whichever arrived first.
    for (const row of state.frequency) {
      const impressions = row.impressions.filter((i) => i.at > now - MAX_CAP_PERIOD_SECONDS * 1000);
      if (impressions.length === 0) continue;
      const key = this.keys.impressions(row.lineItemId, row.userId);
      multi.zadd(key, ...impressions.flatMap((i) => [i.at, i.decisionId]));
      multi.pexpire(key, MAX_CAP_PERIOD_SECONDS * 1000);
    }
    for (const row of state.rates) {
      const key = this.keys.lineItem(row.lineItemId);
      multi.hset(key, 'imps', row.impressions, 'clicks', row.clicks, 'completes', row.completes);
      multi.dlvRestoreSince(1, key, scriptArg({ quarterTtlMs, fields: ['imps', 'clicks', 'completes'] }));
    }
    await execOrThrow(multi);
  }
}

async function execOrThrow<T = unknown>(pipeline: ChainableCommander): Promise<T[]> {
  const results = (await pipeline.exec()) ?? [];
  const out: T[] = [];
  for (const [err, value] of results) {
    if (err) throw err;
    out.push(value as T);
  }
  return out;
}

/** One candidate as reserve.lua reads it. */
function candidateArgument(c: ReservationCandidate): CandidateArg {
  const caps = c.frequencyCaps.map((cap): [number, number] => [cap.maxImpressions, Math.min(cap.periodSeconds, MAX_CAP_PERIOD_SECONDS) * 1000]);
  return {
    li: c.lineItemId,
    cp: c.campaignId,
    price: Math.round(c.eventPriceMilliMicros),
    reserve: Math.ceil(c.reserveMilliMicros),
    budget: Math.round(c.budgetMilliMicros),
    daily: c.dailyBudgetMilliMicros === null ? undefined : Math.round(c.dailyBudgetMilliMicros),
    campaignBudget: c.campaignBudgetMilliMicros === null ? undefined : Math.round(c.campaignBudgetMilliMicros),
    dayQ: c.dayStartQuarter,
    basis: c.pacingBasis === 'daily' ? 'd' : c.pacingBasis === 'flight' ? 'f' : 'n',
    target: Math.floor(c.pacingTargetMilliMicros),
    allowance: Math.max(1, Math.ceil(c.pacingAllowanceMilliMicros)),
    random: c.random,
    caps,
    capTtl: caps.reduce((max, [, periodMs]) => Math.max(max, periodMs / 1000), 0),
  };
}
