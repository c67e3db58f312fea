import { GroupCommitter, RedisService } from '@app/platform';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional, ServiceUnavailableException } from '@nestjs/common';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Clock, SystemClock } from './clock';
import { Lease, LeaseTerms } from './lease-book';
import { LedgerKeys } from './ledger-keys';
import { ApplyCallArg, ApplyItemArg, DecideArg, LEDGER_SCRIPTS, LeaseArg, scriptArg } from './ledger-scripts';
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
import { clusterSlot } from './stripes';

/** UTC quarter hour: the granularity of recent spend (every real timezone offset is a multiple of it). */
export const QUARTER_MS = 900_000;
/** Recent spend kept per account, in quarter hours (26 h: covers "today" in every timezone). */
export const RECENT_QUARTERS = 104;
/**
 * Items per apply call: a call holds its shard for its whole run, so a large batch goes as several
 * calls, and other clients' commands (decisions, leases) run in between.
 */
const APPLY_CHUNK = 100;
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
  /** Lifetime of a lease in Redis, ms: a dead replica's lease is reclaimed after it. */
  leaseTtlMs: number;
  /** How often a replica looks for leases to renew (halfway through their life) or return (idle), ms (0: only on demand; tests). */
  leaseReportMs: number;
  /** Share of a budget (or daily budget) the leases of all replicas may hold together. */
  leaseFraction: number;
  /** A lease unused for this long is returned, ms. */
  leaseIdleMs: number;
  /** How long decisions skip an account whose lease call failed (its shard did not answer) before one tries again, ms. */
  unreachableRetryMs: number;
}

export const DEFAULT_LEDGER_OPTIONS: DeliveryLedgerOptions = {
  reservationWindowMs: 600_000,
  reservationBucketMs: 10_000,
  capPendingMs: 300_000,
  tailFraction: 0.05,
  limitWindowMs: 600_000,
  leaseTtlMs: 10_000,
  leaseReportMs: 1_000,
  leaseFraction: 0.01,
  leaseIdleMs: 2_000,
  unreachableRetryMs: 1_000,
};

export const DELIVERY_LEDGER_OPTIONS = Symbol('DELIVERY_LEDGER_OPTIONS');

type Args = Array<string | number>;
type ScriptClient = {
  dlvLease(...args: Args): Promise<Array<string | number>>;
  dlvDecide(...args: Args): Promise<string[]>;
  dlvApply(...args: Args): Promise<Array<string | number>>;
  dlvRead(...args: Args): Promise<Array<string | null>>;
  dlvRestorePhase(...args: Args): Promise<number>;
  dlvRestoreSince(...args: Args): Promise<number>;
};

/** How often a replica asks a stripe that lost its data whether it was rebuilt, ms. */
const LOST_RETRY_MS = 100;

/** Renewals a decision waits for at the end of a budget before it is refused. */
const MAX_LEASE_WAITS = 200;

/** ioredis command name of each ledger script. */
const COMMANDS = { lease: 'dlvLease', decide: 'dlvDecide', apply: 'dlvApply', read: 'dlvRead', 'restore-phase': 'dlvRestorePhase', 'restore-since': 'dlvRestoreSince' } as const;

/**
 * Listener steps per call: up to 8 decisions each, 16 calls in flight per shard; a call leaves as soon
 * as 8 wait, or at the end of the event-loop turn. Beyond 5,000 waiting, or after 1 s without a free
 * call, a decision is refused (503) rather than queued without end.
 */
const LISTENER_BATCH = { maxItems: 8, maxDelayMs: 0, maxInFlight: 16, maxPendingItems: 5000, maxWaitMs: 1000, what: 'the listener step of decisions' };

/** One decision's listener step (decide.lua). */
interface ListenerStep {
  stripe: number;
  base: string;
  listenerLimit: number;
  ids: string[];
  cands: Array<{ li: string; caps: Array<[number, number]> }>;
}

/** A candidate that fit its budgets and pacing, with what it holds of its leases (reservation and exposure: lease-book.ts). */
interface Passing {
  index: number;
  li: Lease;
  liAmount: number;
  cp: Lease | null;
  cpAmount: number;
  exposure: number;
  caps: Array<[number, number]>;
}

/**
 * The delivery ledger: budgets, caps and outstanding decisions shared by every API replica, in Redis
 * (one Redis or a Redis Cluster), and the one owner of those keys (ledger-keys.ts) and of the scripts
 * that change them (lua/). Delivery reserves through `reserve`; ingestion feeds measured events through
 * `applyEvents` (and `markLost` when it missed some); the worker rebuilds the ledger from MySQL after
 * Redis lost it (LedgerRebuildService: `needsRestore`, then `beginRestore` / `restore` / `finishRestore`).
 *
 * A decision touches at most one shard. Budgets, daily budgets, campaign budgets and pacing are
 * checked locally against **leases** (lua/lease.lua): slices of each account's remaining budget this
 * replica took in advance, renewed every `leaseReportMs` with a report of what it reserved from them.
 * Frequency caps, pending impressions and the listener's outstanding-decision limit are checked in one
 * call on the listener's stripe (lua/decide.lua), made only when the listener has a limit or a
 * candidate has caps. The per-IP limit is counted by each replica alone (an IP may thus hold up to
 * the limit per replica).
 *
 * Budget guard: a decision reserves its expected cost (CPM: the impression's price; CPC/CPCL: rate ×
 * observed click/completion rate, or the full price within the last `tailFraction` of a budget) out
 * of its leases, and every lease is granted only while measured spend + reservations + leases fits the
 * line item's budget, its daily budget and its campaign's budget. A CPM impression swaps its
 * reservation for measured spend; other reservations lapse after `reservationWindowMs`.
 */
@Injectable()
export class DeliveryLedger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryLedger.name);
  readonly keys: LedgerKeys;
  private readonly options: DeliveryLedgerOptions;
  /**
   * A connection of its own (same options and fail-fast behaviour as RedisService.client). Without
   * auto-pipelining: the listener steps are batched per shard already (LISTENER_BATCH), and ioredis
   * keeps one auto-pipeline in flight per connection, so every decision would wait for the previous
   * batch's round trip.
   */
  private readonly client: Redis | Cluster;
  private readonly scripts: ScriptClient;
  /** This process, as lease holder. */
  private readonly replica = `${process.pid}:${randomUUID()}`;
  private readonly leases = new Map<string, Lease>();
  private readonly deciders = new Map<string, GroupCommitter<ListenerStep, string[]>>();
  /** Per-IP counts of this replica in the current limit window. */
  private ipWindow = { window: -1, counts: new Map<string, number>() };
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Applies of measured events in flight (waited for at shutdown). */
  private readonly applying = new Set<Promise<void>>();

  constructor(
    redis: RedisService,
    @Optional() @Inject(Clock) private readonly clock: Clock = new SystemClock(),
    @Optional() @Inject(DELIVERY_LEDGER_OPTIONS) options?: Partial<DeliveryLedgerOptions>,
  ) {
    this.options = { ...DEFAULT_LEDGER_OPTIONS, ...options };
    this.keys = new LedgerKeys(redis);
    // RedisService.client is a Redis, or a Cluster when the platform runs on one: both have the commands used here.
    this.client = (redis.client as Redis | Cluster).duplicate();
    this.client.on('error', (err: Error) => this.logger.warn(`redis (delivery ledger): ${err.message}`));
    for (const [name, command] of Object.entries(COMMANDS)) this.client.defineCommand(command, { lua: LEDGER_SCRIPTS[name as keyof typeof COMMANDS] });
    this.scripts = this.client as unknown as ScriptClient;
    if (this.options.leaseReportMs > 0) {
      this.timer = setInterval(() => void this.tick().catch((err: Error) => this.logger.warn(`lease renewal failed: ${err.message}`)), this.options.leaseReportMs);
      this.timer.unref();
    }
  }

  /** Waits (boundedly) for the connection, so the first decisions after boot do not fail fast. */
  async onModuleInit(): Promise<void> {
    await this.whenReady(2000).catch((err: Error) => this.logger.warn(`delivery ledger not connected yet: ${err.message}`));
  }

  /**
   * Lets the applies in flight finish (the last beacons' counts: an apply is two calls, accounts then
   * listeners), declares the ledger lost if one of them failed or did not finish, returns the unused
   * leases, then disconnects; each step bounded. Runs after the HTTP server closed (Nest's shutdown
   * hooks come after it), so no apply starts after it.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const drained = await withTimeout(Promise.allSettled([...this.applying]), 2000).catch(() => null);
    if (!drained || drained.some((r) => r.status === 'rejected')) {
      this.logger.warn('measured events not applied at shutdown: the ledger is marked for a rebuild from MySQL');
      await withTimeout(this.markLost(), 1000).catch((err: Error) => this.logger.warn(`could not mark the ledger lost: ${err.message}`));
    }
    await withTimeout(this.releaseAll(), 1000).catch((err: Error) => this.logger.warn(`leases not returned (they expire): ${err.message}`));
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

  // ---------------------------------------------------------------------------------------------
  // Decisions

  /**
   * The decision step: walks `candidates` best first and selects up to `decisionIds.length` of them
   * that fit their budgets (from this replica's leases), pacing, the listener's limits and frequency
   * caps, reserving for each. At most one Redis call on the listener's stripe, plus, now and then, a
   * lease renewal that decisions on the same account share. Budgets and caps live in Redis: when it
   * cannot be reached, the decision fails closed (503).
   */
  async reserve(request: ReservationRequest): Promise<ReservationResult> {
    try {
      return await this.decide(request);
    } catch (err) {
      throw new ServiceUnavailableException(`delivery counters unavailable (Redis), no ad can be served: ${(err as Error).message}`);
    }
  }

  private async decide({ userId, ip, limits, decisionIds, candidates }: ReservationRequest): Promise<ReservationResult> {
    let slots = decisionIds.length;
    const listenerLimit = limits?.listener ?? 0;
    const ipLimit = ip ? (limits?.ip ?? 0) : 0;
    // The IP's places are taken before the first await and the unused ones given back at the end, so
    // that concurrent decisions from one IP cannot all pass the check before any of them counts.
    let ipHeld: { counts: Map<string, number>; taken: number } | null = null;
    if (ipLimit > 0) {
      const counts = this.ipCounts();
      const held = counts.get(ip!) ?? 0;
      if (held + 1 > ipLimit) return { restored: true, verdicts: candidates.map(() => 'ip_limit'), selected: [] };
      slots = Math.min(slots, ipLimit - held);
      counts.set(ip!, held + slots);
      ipHeld = { counts, taken: slots };
    }
    let served = 0;
    try {
      const result = await this.decideSlots(userId, listenerLimit, slots, decisionIds, candidates);
      served = result.restored ? result.selected.length : 0;
      return result;
    } finally {
      if (ipHeld && ipHeld.taken > served) ipHeld.counts.set(ip!, Math.max(0, (ipHeld.counts.get(ip!) ?? 0) - (ipHeld.taken - served)));
    }
  }

  private async decideSlots(userId: string, listenerLimit: number, slots: number, decisionIds: string[], candidates: ReservationCandidate[]): Promise<ReservationResult> {
    const verdicts: CandidateVerdict[] = candidates.map(() => 'not_reached');
    const passing: Passing[] = [];
    let certain = 0;
    let unavailable: Error | null = null;
    try {
      for (let i = 0; i < candidates.length && certain < slots; i++) {
        const c = candidates[i];
        let outcome: Awaited<ReturnType<DeliveryLedger['fits']>>;
        try {
          outcome = await this.fits(c);
        } catch (err) {
          // This account's shard did not answer: the others may still serve (a shard down takes only its own share).
          unavailable = err as Error;
          verdicts[i] = 'counters_unavailable';
          continue;
        }
        if (outcome === 'lost') {
          for (const p of passing) this.giveBack(p);
          return { restored: false };
        }
        if (typeof outcome === 'string') {
          verdicts[i] = outcome;
          continue;
        }
        const caps = c.frequencyCaps.map((cap): [number, number] => [cap.maxImpressions, Math.min(cap.periodSeconds, MAX_CAP_PERIOD_SECONDS) * 1000]);
        passing.push({ index: i, ...outcome, caps });
        if (caps.length === 0) certain++;
      }

      let chosen: Passing[];
      if (passing.length > 0 && (listenerLimit > 0 || passing.some((p) => p.caps.length > 0))) {
        const stripe = this.keys.stripeOf(userId);
        const request: ListenerStep = {
          stripe,
          base: this.keys.listener(userId),
          listenerLimit,
          ids: decisionIds.slice(0, slots),
          cands: passing.map((p) => ({ li: candidates[p.index].lineItemId, caps: p.caps })),
        };
        const [reply] = await this.deciderFor(stripe).submit([request]);
        if (reply[0] === 'not_restored') {
          for (const p of passing) this.giveBack(p);
          return { restored: false };
        }
        if (reply[0] === 'listener_limit') {
          for (const p of passing) this.giveBack(p);
          return { restored: true, verdicts: candidates.map(() => 'listener_limit'), selected: [] };
        }
        chosen = [];
        passing.forEach((p, j) => {
          const v = reply[j] as CandidateVerdict | undefined;
          if (v === 'selected') chosen.push(p);
          else {
            this.giveBack(p);
            if (v === 'frequency_capped') verdicts[p.index] = v;
          }
        });
      } else {
        chosen = passing.slice(0, slots);
        for (const p of passing.slice(slots)) this.giveBack(p);
      }

      // Nothing served, and some candidate's shard did not answer: the dependency is down for this decision.
      if (chosen.length === 0 && unavailable) throw unavailable;
      const bucket = Math.floor(this.clock.now() / this.options.reservationBucketMs);
      const selected: Array<{ index: number; decisionId: string }> = [];
      for (const p of chosen) {
        p.li.confirm(p.liAmount, p.exposure, bucket);
        p.cp?.confirm(p.cpAmount, p.exposure, bucket);
        verdicts[p.index] = 'selected';
        selected.push({ index: p.index, decisionId: decisionIds[selected.length] });
      }
      return { restored: true, verdicts, selected };
    } catch (err) {
      for (const p of passing) if (verdicts[p.index] !== 'selected') this.giveBack(p);
      throw err;
    }
  }

  /** The listener steps of one shard: the decisions started in one event-loop turn share a call. */
  private deciderFor(stripe: number): GroupCommitter<ListenerStep, string[]> {
    const shard = this.shardOf(stripe);
    let committer = this.deciders.get(shard);
    if (!committer) {
      committer = new GroupCommitter<ListenerStep, string[]>((steps) => this.decideBatch(steps), LISTENER_BATCH);
      this.deciders.set(shard, committer);
    }
    return committer;
  }

  private async decideBatch(steps: ListenerStep[]): Promise<string[][]> {
    const stripes = [...new Set(steps.map((s) => s.stripe))];
    const position = new Map(stripes.map((s, i) => [s, i + 1]));
    const arg: DecideArg = {
      now: this.clock.now(),
      pendingMs: this.options.capPendingMs,
      limitWindowMs: this.options.limitWindowMs,
      markers: stripes.map((s) => this.keys.marker(s)),
      decisions: steps.map((s) => ({ m: position.get(s.stripe)!, listenerLimit: s.listenerLimit, ids: s.ids, cands: s.cands })),
    };
    return (await this.scripts.dlvDecide(1, this.keys.marker(stripes[0]), scriptArg(arg), ...steps.map((s) => s.base))) as unknown as string[][];
  }

  private giveBack(p: Passing): void {
    p.li.giveBack(p.liAmount, p.exposure);
    p.cp?.giveBack(p.cpAmount, p.exposure);
  }

  /** Whether a candidate fits its line item's (and campaign's) leases and its pacing; on success, holds its amounts. */
  private async fits(c: ReservationCandidate): Promise<CandidateVerdict | 'lost' | Omit<Passing, 'index' | 'caps'>> {
    const price = Math.round(c.eventPriceMilliMicros);
    const reserve = Math.ceil(c.reserveMilliMicros);
    const daily = c.dailyBudgetMilliMicros === null ? undefined : Math.round(c.dailyBudgetMilliMicros);
    const budget = Math.round(c.budgetMilliMicros);
    const capTtl = c.frequencyCaps.reduce((max, cap) => Math.max(max, Math.min(cap.periodSeconds, MAX_CAP_PERIOD_SECONDS)), 0);
    const liTerms: LeaseTerms = { budget, daily, dayQ: c.dayStartQuarter, cap: this.leaseCap(daily === undefined ? budget : Math.min(budget, daily), price), capTtl };
    const li = await this.take(this.keys.lineItem(c.lineItemId), c.lineItemId, liTerms, reserve, price);
    if (li === 'lost') return 'lost';
    if (typeof li === 'string') {
      const l = this.leases.get(this.keys.lineItem(c.lineItemId))!;
      return daily !== undefined && l.today + l.res + l.leased + price > daily && l.spent + l.res + l.leased + price <= budget ? 'daily_budget_exhausted' : 'budget_exhausted';
    }
    let cp: { lease: Lease; amount: number; exposure: number } | null = null;
    if (c.campaignBudgetMilliMicros !== null) {
      const campaignBudget = Math.round(c.campaignBudgetMilliMicros);
      let taken: Awaited<ReturnType<DeliveryLedger['take']>>;
      try {
        taken = await this.take(this.keys.campaign(c.campaignId), c.campaignId, { budget: campaignBudget, cap: this.leaseCap(campaignBudget, price) }, reserve, price);
      } catch (err) {
        li.lease.giveBack(li.amount, li.exposure);
        throw err;
      }
      if (typeof taken === 'string') {
        li.lease.giveBack(li.amount, li.exposure);
        return taken === 'lost' ? 'lost' : 'campaign_budget_exhausted';
      }
      cp = taken;
    }
    if (c.pacingBasis !== 'none') {
      const l = li.lease;
      // This replica's own reservations count at once (the held amount included); others' from their last report.
      const actual = (c.pacingBasis === 'daily' ? l.today : l.spent) + l.res + l.ownPending() - li.amount;
      if (actual > c.pacingTargetMilliMicros && c.random >= 1 - (actual - c.pacingTargetMilliMicros) / Math.max(1, c.pacingAllowanceMilliMicros)) {
        li.lease.giveBack(li.amount, li.exposure);
        if (cp) cp.lease.giveBack(cp.amount, cp.exposure);
        return 'paced';
      }
    }
    return { li: li.lease, liAmount: li.amount, cp: cp?.lease ?? null, cpAmount: cp?.amount ?? 0, exposure: li.exposure };
  }

  /** Most the leases of all replicas may hold on an account: `leaseFraction` of its budget, at least one event. */
  private leaseCap(budget: number, price: number): number {
    return Math.max(Math.floor(budget * this.options.leaseFraction), price);
  }

  /**
   * Holds one decision on this replica's lease of an account, renewing the lease first when it cannot
   * cover one event's price, expired, or was taken for another local day. The hold is taken in the
   * same turn as the check, so concurrent decisions never count the same lease twice. Decisions needing
   * the same account share one renewal. The decision takes its exposure (the event's whole price) from
   * the lease, so that the decisions served before the next report cannot spend past it however many
   * of them click; its reservation, reported then, is its expected cost, or the whole price within the
   * last part of the budget (the lease's `tail`), so that a run of lucky clicks between reports cannot
   * push delivery past it either.
   */
  private async take(key: string, id: string, terms: LeaseTerms, reserve: number, price: number): Promise<{ lease: Lease; amount: number; exposure: number } | 'lost' | 'exhausted'> {
    let lease = this.leases.get(key);
    if (!lease) {
      lease = new Lease(key, this.keys.stripeOf(id));
      this.leases.set(key, lease);
    }
    lease.terms = terms;
    const need = Math.max(reserve, price);
    lease.unit = need;
    // CPM: reservation = exposure = price. CPC/CPCL: the reservation is an expectation, the exposure a whole price.
    const exposure = need;
    const seen = lease.answers;
    // Decisions racing for the end of a budget take turns on renewals until one finds no room left.
    for (let attempt = 0; attempt < MAX_LEASE_WAITS; attempt++) {
      if (lease.unreachable()) throw new Error(`the shard of ${key} did not answer its last lease call; skipped for up to ${this.options.unreachableRetryMs} ms`);
      // A lost stripe is asked again at most every LOST_RETRY_MS (real time: not a decision's clock).
      const stale = lease.answeredAt === 0 || lease.dayQ !== terms.dayQ || (lease.lost && performance.now() - lease.lostAt >= LOST_RETRY_MS);
      if (!stale) {
        if (lease.lost) return 'lost';
        const now = this.clock.now();
        if (lease.available(now) >= need) {
          const amount = lease.tail && reserve < price ? price : reserve;
          lease.hold(amount, exposure, now);
          return { lease, amount, exposure };
        }
        // No room left for one more decision outside the leases already out: refused.
        if (lease.answers > seen && lease.lastGrant < need && lease.roomLeft < need) return 'exhausted';
      }
      if (lease.inflight) await lease.inflight;
      else {
        // Room, but the leases' cap was reached until their holders report: let this turn's decisions confirm first.
        if (!stale && lease.answers > seen && lease.lastGrant < need) await new Promise((resolve) => setImmediate(resolve));
        if (lease.inflight) await lease.inflight;
        else await this.exchange(lease, { want: lease.wanted(this.clock.now(), this.options.leaseTtlMs, need), unit: need, release: false });
      }
    }
    return 'exhausted';
  }

  /** One lease call: reports the lease's use, then takes more (`want`) or returns what is left. */
  private exchange(lease: Lease, { want, unit, release }: { want: number; unit: number; release: boolean }): Promise<void> {
    if (lease.inflight) return lease.inflight;
    const terms = lease.terms!;
    const report = lease.takeReport();
    const sentAt = this.clock.now();
    const arg: LeaseArg = {
      replica: this.replica,
      now: sentAt,
      bucketMs: this.options.reservationBucketMs,
      windowBuckets: this.windowBuckets,
      ttlMs: this.options.leaseTtlMs,
      used: report.used,
      exposure: report.exposure,
      release,
      want: Math.ceil(want),
      unit: Math.max(1, Math.ceil(unit)),
      budget: terms.budget,
      daily: terms.daily,
      dayQ: terms.dayQ,
      cap: terms.cap,
      tailFraction: this.options.tailFraction,
      capTtl: terms.capTtl,
    };
    const call = this.scripts
      .dlvLease(2, this.keys.marker(lease.stripe), lease.key, scriptArg(arg))
      .then(
        (reply) => {
          if (reply[0] === 'lost') {
            lease.reportFailed(report);
            lease.markLost(sentAt, terms.dayQ);
            return;
          }
          const [, mine, spent, res, today, leased, tail, granted, room] = reply.map(Number);
          // Used locally only while Redis still holds it: 80% of its lifetime, counted from before the call.
          lease.answered({ lease: mine, spent, res, today, leased, tail: tail === 1, granted, room }, sentAt, this.options.leaseTtlMs * 0.8, terms.dayQ);
        },
        (err: unknown) => {
          lease.reportFailed(report);
          lease.markUnreachable(this.options.unreachableRetryMs);
          throw err;
        },
      )
      .finally(() => {
        lease.inflight = null;
      });
    lease.inflight = call;
    return call;
  }

  /** Periodic: reports use and renews busy leases, returns idle ones. */
  private async tick(): Promise<void> {
    const now = this.clock.now();
    const calls: Array<Promise<void>> = [];
    for (const [key, lease] of this.leases) {
      if (lease.inflight || !lease.terms) continue;
      const idle = now - lease.lastUse >= this.options.leaseIdleMs;
      if (idle && lease.tentative === 0) {
        if (lease.lease > 0 || lease.unreportedTotal > 0) calls.push(this.exchange(lease, { want: 0, unit: 1, release: true }));
        else this.leases.delete(key);
      } else if (now >= lease.answeredAt + this.options.leaseTtlMs / 2 || (lease.unreportedTotal > 0 && lease.available(now) < lease.lease / 4)) {
        // Renewed halfway through its life, or early when mostly used: one call per lease every few
        // seconds, whatever the decision rate (the reservations it reports reach Redis with it).
        calls.push(this.exchange(lease, { want: lease.wanted(now, this.options.leaseTtlMs, lease.unit), unit: lease.unit, release: false }));
      }
    }
    await Promise.all(calls);
  }

  /** Reports every lease's use now (tests; a read right after decisions). */
  async flush(): Promise<void> {
    await Promise.all([...this.leases.values()].filter((l) => l.terms && l.unreportedTotal > 0).map((l) => this.exchange(l, { want: 0, unit: 1, release: false })));
  }

  /** Returns every unused lease (a replica stopping). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.leases.values()].map(async (l) => l.inflight));
    await Promise.all([...this.leases.values()].filter((l) => l.terms && (l.lease > 0 || l.unreportedTotal > 0)).map((l) => this.exchange(l, { want: 0, unit: 1, release: true })));
  }

  private ipCounts(): Map<string, number> {
    const window = Math.floor(this.clock.now() / this.options.limitWindowMs);
    if (this.ipWindow.window !== window) this.ipWindow = { window, counts: new Map() };
    return this.ipWindow.counts;
  }

  // ---------------------------------------------------------------------------------------------
  // Measured events

  /**
   * Counts newly stored valid events: spend, observed rates, frequency caps, reservation release,
   * outstanding decisions. Grouped per shard: one call per shard for the accounts, then one per shard
   * for the listeners (each atomic; a large batch in chunks of APPLY_CHUNK items).
   */
  applyEvents(events: CountableEvent[]): Promise<void> {
    const applying = this.applyNow(events);
    this.applying.add(applying);
    const forget = () => this.applying.delete(applying);
    applying.then(forget, forget);
    return applying;
  }

  private async applyNow(events: CountableEvent[]): Promise<void> {
    if (events.length === 0) return;
    const accountItems: Array<{ stripe: number; item: ApplyItemArg; user: string }> = [];
    for (const { claims, event, occurredAt } of events) {
      const cost = eventCostMilliMicros(claims.pricingModel, claims.rateMicros, event);
      const release = claims.pricingModel === 'CPM' && event === 'impression' ? cost : 0;
      const common = { event, cost, release, occurred: Math.round(occurredAt), issued: claims.issuedAt * 1000 };
      accountItems.push({ stripe: this.keys.stripeOf(claims.lineItemId), item: { k: 'li', s: 0, id: claims.lineItemId, ...common }, user: '' });
      if (cost > 0 || release > 0) accountItems.push({ stripe: this.keys.stripeOf(claims.campaignId), item: { k: 'cp', s: 0, id: claims.campaignId, ...common }, user: '' });
    }
    const capTtls = new Map<string, number>();
    for (const reply of await this.applyGrouped(accountItems)) {
      for (let i = 0; i + 1 < reply.length; i += 2) capTtls.set(String(reply[i]), Number(reply[i + 1]));
    }
    const listenerItems = events
      .filter((e) => e.event === 'impression')
      .map(({ claims, occurredAt }) => ({
        stripe: this.keys.stripeOf(claims.userId),
        item: { k: 'u', s: 0, li: claims.lineItemId, decision: claims.decisionId, occurred: Math.round(occurredAt), issued: claims.issuedAt * 1000, ttl: capTtls.get(claims.lineItemId) ?? MAX_CAP_PERIOD_SECONDS } as ApplyItemArg,
        user: claims.userId,
      }));
    await this.applyGrouped(listenerItems);
  }

  private async applyGrouped(items: Array<{ stripe: number; item: ApplyItemArg; user: string }>): Promise<Array<Array<string | number>>> {
    const calls: Array<Promise<Array<string | number>>> = [];
    for (const group of this.byShard(items, (i) => i.stripe).values()) {
      for (let start = 0; start < group.length; start += APPLY_CHUNK) {
        const chunk = group.slice(start, start + APPLY_CHUNK);
        const stripes = [...new Set(chunk.map((i) => i.stripe))];
        const position = new Map(stripes.map((s, i) => [s, i + 1]));
        const call: ApplyCallArg = {
          now: this.clock.now(),
          bucketMs: this.options.reservationBucketMs,
          quarterMs: QUARTER_MS,
          recentQuarters: RECENT_QUARTERS,
          defaultCapTtlSeconds: MAX_CAP_PERIOD_SECONDS,
          limitWindowMs: this.options.limitWindowMs,
          prefixes: stripes.map((s) => this.keys.stripePrefix(s)),
          restoring: stripes.map((s) => this.keys.restoring(s)),
        };
        const args: Args = [1, this.keys.restoring(stripes[0]), scriptArg(call)];
        for (const { stripe, item, user } of chunk) args.push(scriptArg({ ...item, s: position.get(stripe)! }), user);
        calls.push(this.scripts.dlvApply(...args));
      }
    }
    return Promise.all(calls);
  }

  /**
   * Groups work by the shard its stripe lives on (one group on a single Redis). Slots come from the
   * cluster client's slot map; a stripe that moved is refused by Redis before the call runs (its
   * declared keys), and the caller's retry or rebuild takes over.
   */
  private shardOf(stripe: number): string {
    const slots = (this.client as Partial<Cluster>).slots;
    return slots ? (slots[clusterSlot(this.keys.marker(stripe))]?.[0] ?? `stripe-${stripe}`) : 'single';
  }

  private byShard<T>(items: readonly T[], stripeOf: (item: T) => number): Map<string, T[]> {
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const stripe = stripeOf(item);
      const shard = this.shardOf(stripe);
      const group = groups.get(shard);
      if (group) group.push(item);
      else groups.set(shard, [item]);
    }
    return groups;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /** Spend, reservations and observed counts of line items (one call per shard). Missing line items read as zeros. */
  async readLineItems(ids: readonly string[]): Promise<Map<string, LineItemCounters>> {
    const rows = await this.readAccounts(ids, (id) => this.keys.lineItem(id), ['spent', 'today', 'res', 'imps', 'clicks', 'completes']);
    const out = new Map<string, LineItemCounters>();
    ids.forEach((id, i) => {
      const [spent, today, res, imps, clicks, completes] = rows[i];
      out.set(id, { spentMilliMicros: spent, spentTodayMilliMicros: today, reservedMilliMicros: res, impressions: imps, clicks, completes });
    });
    return out;
  }

  /** Spend and reservations of campaigns (one call per shard). */
  async readCampaigns(ids: readonly string[]): Promise<Map<string, AccountState>> {
    const rows = await this.readAccounts(ids, (id) => this.keys.campaign(id), ['spent', 'res']);
    const out = new Map<string, AccountState>();
    ids.forEach((id, i) => {
      const [spent, res] = rows[i];
      out.set(id, { spentMilliMicros: spent, reservedMilliMicros: res });
    });
    return out;
  }

  /** The numeric fields of many account hashes; missing values read as 0. */
  private async readAccounts(ids: readonly string[], keyOf: (id: string) => string, fields: string[]): Promise<number[][]> {
    const out: number[][] = ids.map(() => fields.map(() => 0));
    if (ids.length === 0) return out;
    const indexed = ids.map((id, i) => ({ key: keyOf(id), i, stripe: this.keys.stripeOf(id) }));
    await Promise.all(
      [...this.byShard(indexed, (k) => k.stripe).values()].map(async (group) => {
        const keys = group.map((g) => g.key);
        const flat = await this.scripts.dlvRead(1, keys[0], scriptArg({ keys, fields }));
        group.forEach((g, n) => (out[g.i] = fields.map((_, j) => Number(flat[n * fields.length + j] ?? 0))));
      }),
    );
    return out;
  }

  /** A listener's counted impressions and pending decisions per line item (for explanations and tests). */
  async readFrequency(lineItemIds: readonly string[], userId: string): Promise<Map<string, { impressionTimes: number[]; pending: number }>> {
    const out = new Map<string, { impressionTimes: number[]; pending: number }>();
    const now = this.clock.now();
    await Promise.all(
      lineItemIds.map(async (id) => {
        const [flat, pending] = await Promise.all([
          this.client.zrange(this.keys.impressions(id, userId), 0, -1, 'WITHSCORES'),
          this.client.zcount(this.keys.pending(id, userId), now - this.options.capPendingMs, '+inf'),
        ]);
        const impressionTimes: number[] = [];
        for (let j = 1; j < flat.length; j += 2) impressionTimes.push(Number(flat[j]));
        out.set(id, { impressionTimes, pending: Number(pending) });
      }),
    );
    return new Map(lineItemIds.map((id) => [id, out.get(id)!]));
  }

  // ---------------------------------------------------------------------------------------------
  // Loss and rebuild

  /** The stripes whose shard lost their data (marker gone), to be rebuilt from MySQL. */
  async lostStripes(): Promise<number[]> {
    const exists = await Promise.all(this.keys.stripes().map((s) => this.client.exists(this.keys.marker(s))));
    return this.keys.stripes().filter((s) => exists[s] === 0);
  }

  /** True when Redis lost (part of) the ledger and it must be rebuilt from MySQL before those stripes serve again. */
  async needsRestore(): Promise<boolean> {
    return (await this.lostStripes()).length > 0;
  }

  /**
   * Declares the ledger incomplete (updates were missed, e.g. applies that failed while Redis was away):
   * nothing is served until the worker rebuilt it from MySQL.
   */
  async markLost(): Promise<void> {
    await Promise.all(this.keys.stripes().map((s) => this.client.del(this.keys.marker(s))));
  }

  /** Declares the ledger complete again; decisions resume. */
  async markRestored(): Promise<void> {
    const stamp = new Date(this.clock.now()).toISOString();
    await Promise.all(this.keys.stripes().map((s) => this.client.set(this.keys.marker(s), stamp)));
    this.forgetLost();
  }

  /** This process saw the ledger restored: its leases on lost stripes are asked again at once. */
  private forgetLost(): void {
    for (const [key, lease] of this.leases) if (lease.lost) this.leases.delete(key);
  }

  /**
   * Starts a rebuild from MySQL: from now on, events applied to the given accounts are also recorded
   * apart, so that `restore` can add those the MySQL snapshot (taken after this call) does not hold.
   * One rebuild at a time: returns a token for `finishRestore`, or null when another rebuild is under
   * way. The recording stops by itself after RESTORE_RECORDING_MS.
   */
  async beginRestore(accounts: RestoreAccounts): Promise<string | null> {
    const token = `${process.pid}:${randomUUID()}`;
    const begun = await this.restorePhase('begin', token, accounts);
    if (begun.every(Boolean)) return token;
    await this.restorePhase('abort', token, { lineItemIds: [], campaignIds: [] });
    return null;
  }

  /** Ends the rebuild `token` began and declares the ledger complete (as `markRestored`); throws if it lost its marker. */
  async finishRestore(token: string, accounts: RestoreAccounts): Promise<void> {
    const finished = await this.restorePhase('finish', token, accounts);
    if (!finished.every(Boolean)) throw new Error('the rebuild of the delivery ledger outlived its marker; it will run again');
    this.forgetLost();
  }

  /** Gives up the rebuild `token` began (it failed), so that the next one need not wait for the marker to expire. */
  async abortRestore(token: string): Promise<void> {
    await this.restorePhase('abort', token, { lineItemIds: [], campaignIds: [] });
  }

  /** One call per stripe (each atomic on its shard). */
  private async restorePhase(phase: 'begin' | 'finish' | 'abort', token: string, { lineItemIds, campaignIds }: RestoreAccounts): Promise<boolean[]> {
    const perStripe = new Map<number, string[]>(this.keys.stripes().map((s) => [s, []]));
    for (const id of lineItemIds) perStripe.get(this.keys.stripeOf(id))!.push(this.keys.lineItem(id));
    for (const id of campaignIds) perStripe.get(this.keys.stripeOf(id))!.push(this.keys.campaign(id));
    const arg = scriptArg({ phase, token, ttlMs: RESTORE_RECORDING_MS, stamp: new Date(this.clock.now()).toISOString() });
    return Promise.all(
      [...perStripe].map(async ([stripe, accountKeys]) => {
        const keys = [this.keys.restoring(stripe), this.keys.marker(stripe), ...accountKeys];
        return Number(await this.scripts.dlvRestorePhase(keys.length, ...keys, arg)) === 1;
      }),
    );
  }

  /**
   * Replaces the ledger's values of the given rows with MySQL truth, in one MULTI per stripe. Spend
   * rows of one campaign must come in the same call (campaign totals are their sum); frequency and
   * rates rows may be split across calls. In a stripe whose marker is absent (it lost its data), each
   * account is also given a reservation equal to its measured spend of the last reservation window,
   * standing in for the reservations of decisions served before the loss whose events are still to
   * come (and for the leases lost with it). Within a rebuild begun with `beginRestore`, each account
   * also gets what was applied to it since then (events the snapshot may not hold).
   */
  async restore(state: CountersRestoreState): Promise<void> {
    const now = this.clock.now();
    const lost = new Set(await this.lostStripes());
    const multis = new Map<number, ChainableCommander & ScriptClient>();
    const multi = (stripe: number) => {
      let m = multis.get(stripe);
      if (!m) {
        m = this.client.multi() as ChainableCommander & ScriptClient;
        multis.set(stripe, m);
      }
      return m;
    };
    const windowStart = now - this.options.reservationWindowMs;
    const nowB = Math.floor(now / this.options.reservationBucketMs);
    const oldestB = nowB - this.windowBuckets + 1;
    const recentFrom = Math.floor(now / QUARTER_MS) - RECENT_QUARTERS;
    const quarterTtlMs = (RECENT_QUARTERS + 8) * QUARTER_MS;
    const campaigns = new Map<string, { spent: number; seed: number }>();

    /** `quarters` for line items; campaigns keep no quarter hours (see lua/apply.lua). */
    const writeAccount = (id: string, key: string, spent: number, quarters: Map<number, number> | null, seed: number) => {
      const stripe = this.keys.stripeOf(id);
      const m = multi(stripe);
      m.hset(key, 'spent', Math.round(spent));
      m.hdel(key, 'dayQ', 'today');
      m.del(`${key}:q`);
      const fields: Array<string | number> = [];
      for (const [q, v] of quarters ?? []) if (q >= recentFrom) fields.push(q, Math.round(v));
      if (fields.length > 0) {
        m.hset(`${key}:q`, ...fields);
        m.pexpire(`${key}:q`, quarterTtlMs);
      }
      // Events applied since the rebuild began, which the snapshot may not hold (see beginRestore).
      if (quarters) m.dlvRestoreSince(2, key, `${key}:q`, scriptArg({ quarterTtlMs, fields: ['spent'] }));
      else m.dlvRestoreSince(1, key, scriptArg({ quarterTtlMs, fields: ['spent'] }));
      if (lost.has(stripe)) {
        m.del(`${key}:r`, `${key}:l`);
        m.hset(key, 'res', Math.ceil(seed), 'resQ', oldestB, 'leased', 0);
        if (seed > 0) {
          m.hset(`${key}:r`, nowB, Math.ceil(seed));
          m.pexpire(`${key}:r`, (2 * this.windowBuckets + 2) * this.options.reservationBucketMs);
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
      writeAccount(row.lineItemId, this.keys.lineItem(row.lineItemId), row.spentMilliMicros, quarters, seed);
      const campaign = campaigns.get(row.campaignId) ?? { spent: 0, seed: 0 };
      campaign.spent += row.spentMilliMicros;
      campaign.seed += seed;
      campaigns.set(row.campaignId, campaign);
    }
    for (const [id, c] of campaigns) writeAccount(id, this.keys.campaign(id), c.spent, null, c.seed);

    // Impressions are members by decision id, as apply.lua adds them: the union of what Redis still
    // holds and what MySQL knows counts each impression once, whichever arrived first.
    for (const row of state.frequency) {
      const impressions = row.impressions.filter((i) => i.at > now - MAX_CAP_PERIOD_SECONDS * 1000);
      if (impressions.length === 0) continue;
      const key = this.keys.impressions(row.lineItemId, row.userId);
      const m = multi(this.keys.stripeOf(row.userId));
      m.zadd(key, ...impressions.flatMap((i) => [i.at, i.decisionId]));
      m.pexpire(key, MAX_CAP_PERIOD_SECONDS * 1000);
    }
    for (const row of state.rates) {
      const key = this.keys.lineItem(row.lineItemId);
      const m = multi(this.keys.stripeOf(row.lineItemId));
      m.hset(key, 'imps', row.impressions, 'clicks', row.clicks, 'completes', row.completes);
      m.dlvRestoreSince(1, key, scriptArg({ quarterTtlMs, fields: ['imps', 'clicks', 'completes'] }));
    }
    await Promise.all([...multis.values()].map((m) => execOrThrow(m)));
  }
}

async function execOrThrow<T = unknown>(pipeline: { exec(): Promise<Array<[Error | null, unknown]> | null> }): Promise<T[]> {
  const results = (await pipeline.exec()) ?? [];
  const out: T[] = [];
  for (const [err, value] of results) {
    if (err) throw err;
    out.push(value as T);
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
