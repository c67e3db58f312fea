import { TrackingClaims, TrackingTokenCodec } from '@app/delivery';
import { CountableEvent } from '@app/delivery-ledger';
import { ApiConfig, BoundedTtlSet, GroupCommitOverloadedError, GroupCommitter } from '@app/platform';
import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { EventOutcome, InvalidReason } from '../events/event-types';
import { AggregationTrigger } from './aggregation-trigger.service';
import { CountersFeed } from './counters-feed.service';
import { EventStore, STORE_DEADLINE_MS, StorableEvent, StoreOutcome } from './event-store.service';
import { BeaconInput, ClassifiedEvent, classifyBeacon } from './ivt-classifier';
import { MeasurementMetrics } from './measurement-metrics.service';
import { RateLimiterService } from './rate-limiter.service';
import { NEEDS_IMPRESSION, decisionsNeedingLookup, sequenceViolations } from './sequence-rules';

const noop = () => undefined;

/**
 * Group-commit tuning: a few ms of waiting buys batches of dozens to hundreds under load. Three
 * batches in flight rather than eight: batches grow, and API CPU per event fell by 8-20% and durable
 * events/s rose by 5-10% (bench:ingest:ab, BENCHMARKS.md); one or two in flight gave no more. A beacon
 * waits at most STORE_DEADLINE_MS for a slot, then for its batch's commit: a hung MySQL answers 503
 * within seconds instead of after the whole queue.
 */
const GROUP_COMMIT = { maxItems: 1000, maxDelayMs: 2, maxInFlight: 3, maxPendingItems: 50_000, maxWaitMs: STORE_DEADLINE_MS, what: 'event ingestion' };

/**
 * Events already counted in the rates by this process (decision and event), for two rate windows: a
 * replayed beacon is a duplicate, not traffic, and replaying one token must not push the rates of its
 * IP (shared by other listeners behind a NAT or server-side ad insertion) or its listener past a limit.
 * Bounded: past the bound, the oldest are forgotten and their replays count again.
 */
const RATED_TTL_MS = 120_000;
const RATED_MAX_ENTRIES = 200_000;

export interface IngestResult {
  outcome: EventOutcome;
  /** The verified claims (also for invalid events whose signature held), e.g. for the click redirect. */
  claims?: TrackingClaims;
}

/**
 * The beacon pipeline: verify and classify each beacon, batch concurrent ones (group commit), apply
 * the batch checks (per-user rates in Redis, impossible sequences against MySQL), store everything in
 * one transaction and answer each caller only after COMMIT.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly hashSalt: string;
  private readonly committer: GroupCommitter<ClassifiedEvent, EventOutcome>;
  /** Per decision: the submissions of this process still writing its impression or start. */
  private readonly prerequisitesInFlight = new Map<string, Promise<unknown>>();
  private readonly rated = new BoundedTtlSet(RATED_TTL_MS, RATED_MAX_ENTRIES);

  constructor(
    config: ApiConfig,
    private readonly codec: TrackingTokenCodec,
    private readonly store: EventStore,
    private readonly rates: RateLimiterService,
    private readonly metrics: MeasurementMetrics,
    private readonly trigger: AggregationTrigger,
    private readonly counters: CountersFeed,
  ) {
    this.hashSalt = `${config.TRACKING_SECRET}:measurement`;
    this.committer = new GroupCommitter((items) => this.flush(items), GROUP_COMMIT, (size) => this.metrics.batchSize.observe(size));
  }

  /** Stores the beacons (one transaction) and answers per beacon, in order; 503 if MySQL cannot commit. */
  async ingest(inputs: BeaconInput[], receivedAt: number = Date.now()): Promise<IngestResult[]> {
    // Every token is verified again: caching verified tokens cost more in GC than it saved (BENCHMARKS.md).
    const nowSeconds = Math.floor(receivedAt / 1000);
    const classified = inputs.map((input) => classifyBeacon(input, this.codec.verify(input.token, nowSeconds), receivedAt, this.hashSalt));
    await this.prerequisitesCommitted(classified);
    const submitted = this.committer.submit(classified);
    this.holdPrerequisites(classified, submitted);
    let outcomes: EventOutcome[];
    try {
      outcomes = await submitted;
    } catch (err) {
      const why = err instanceof GroupCommitOverloadedError ? err.message : (err as Error).message;
      throw new ServiceUnavailableException(`events not stored, retry later: ${why}`);
    }
    return outcomes.map((outcome, i) => ({ outcome, claims: classified[i].claims }));
  }

  /**
   * Beacons a player fires at once (impression, quartiles, click) reach this process in separate
   * requests that may land in different, concurrently written batches; a quartile's sequence check
   * would then miss its impression. So an event that needs a prerequisite first waits for the
   * submissions of this process still writing that decision's impression or start. Waits point only at
   * submissions registered earlier, so they cannot form a cycle.
   */
  private async prerequisitesCommitted(events: ClassifiedEvent[]): Promise<void> {
    const waits = new Set<Promise<unknown>>();
    for (const e of events) {
      const pending = e.claims && NEEDS_IMPRESSION.has(e.event) ? this.prerequisitesInFlight.get(e.claims.decisionId) : undefined;
      if (pending) waits.add(pending);
    }
    if (waits.size > 0) await Promise.all(waits);
  }

  private holdPrerequisites(events: ClassifiedEvent[], submitted: Promise<unknown>): void {
    const settled = submitted.then(noop, noop);
    for (const e of events) {
      if (!e.claims || (e.event !== 'impression' && e.event !== 'start')) continue;
      const id = e.claims.decisionId;
      const previous = this.prerequisitesInFlight.get(id);
      const entry = previous ? Promise.all([previous, settled]) : settled;
      this.prerequisitesInFlight.set(id, entry);
      void entry.then(() => {
        if (this.prerequisitesInFlight.get(id) === entry) this.prerequisitesInFlight.delete(id);
      });
    }
  }

  private async flush(items: ClassifiedEvent[]): Promise<EventOutcome[]> {
    const started = process.hrtime.bigint();
    const events: StorableEvent[] = items.map((e) => ({ ...e }));
    // Redis (rates) and MySQL (transaction start, prerequisites) are asked at the same time.
    const rateLimits = this.rateLimitFlags(events);
    rateLimits.catch(() => undefined);
    let stored: StoreOutcome[];
    try {
      stored = await this.store.writeBatch(events, {
        decisionsToLookUp: (batch) => decisionsNeedingLookup(batch.map(toCandidate)),
        classify: async (batch, prerequisites) => {
          for (const [index, reason] of await rateLimits) batch[index].finalReason = reason;
          for (const [index, reason] of sequenceViolations(batch.map(toCandidate), prerequisites)) batch[index].finalReason = reason;
        },
      });
    } catch (err) {
      this.metrics.commitSeconds.observe({ result: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.logger.warn(`ingest batch of ${items.length} failed: ${(err as Error).message}`);
      throw err;
    }
    this.metrics.commitSeconds.observe({ result: 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);

    const newlyValid: CountableEvent[] = [];
    const tally = new Map<string, number>();
    const outcomes = events.map((e, i): EventOutcome => {
      const reason = e.finalReason ?? e.reason;
      let outcome: EventOutcome;
      if (stored[i] === 'duplicate') outcome = { status: 'duplicate' };
      else if (reason) outcome = { status: 'invalid', reason };
      else {
        outcome = { status: 'accepted' };
        newlyValid.push({ claims: e.claims!, event: e.event, occurredAt: e.occurredAt });
      }
      const label = `${e.event}|${outcome.status}|${outcome.status === 'invalid' ? outcome.reason : ''}`;
      tally.set(label, (tally.get(label) ?? 0) + 1);
      return outcome;
    });
    for (const [label, n] of tally) {
      const [event, status, reason] = label.split('|');
      this.metrics.events.inc({ event, status, reason }, n);
    }
    this.trigger.afterCommit();
    if (newlyValid.length > 0) this.counters.apply(newlyValid);
    return outcomes;
  }

  /**
   * Rates (impressions, clicks) of the events still valid per listener, per IP and per IP and
   * User-Agent, one Redis script call per batch. The IP and User-Agent are the beacon request's own
   * (the token does not carry the decision's): where the player fires from.
   */
  private async rateLimitFlags(events: StorableEvent[]): Promise<Map<number, InvalidReason>> {
    const flagged = new Map<number, InvalidReason>();
    const indexes: number[] = [];
    events.forEach((e, i) => {
      if (!e.claims || e.reason || (e.event !== 'impression' && e.event !== 'click')) return;
      // A replay (same decision and event) is stored as a duplicate: it is not counted again.
      const key = `${e.claims.decisionId}:${e.event}`;
      if (this.rated.has(key)) return;
      this.rated.add(key);
      indexes.push(i);
    });
    if (indexes.length === 0) return flagged;
    const verdicts = await this.rates.check(
      indexes.map((i) => ({ userId: events[i].claims!.userId, event: events[i].event, occurredAt: events[i].occurredAt, ipHash: events[i].ipHash, uaHash: events[i].uaHash })),
    );
    verdicts.forEach((reason, j) => {
      if (reason) flagged.set(indexes[j], reason);
    });
    return flagged;
  }
}

function toCandidate(e: StorableEvent) {
  return { decisionId: e.claims?.decisionId ?? '', event: e.event, occurredAt: e.occurredAt, valid: !!e.claims && !e.reason && !e.finalReason };
}
