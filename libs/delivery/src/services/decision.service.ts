import { ApiConfig, MetricsService, uuidv7 } from '@app/platform';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CandidateVerdict, Clock, DeliveryLedger, QUARTER_MS, ReservationCandidate } from '@app/delivery-ledger';
import type { Counter, Histogram } from 'prom-client';
import { EligibilityIndexService } from '../eligibility/eligibility-index.service';
import { IndexedLineItem, creativesFor, weightFor } from '../eligibility/indexed-line-item';
import { ObservedStateService } from '../eligibility/observed-state.service';
import type { DecisionContext } from '../selection/decision-context';
import { pacingPlan } from '../selection/pacing';
import { billedEventRateUpper, pickWeighted, rankedEligible } from '../selection/ranking';
import { matchTargeting } from '../selection/targeting';
import { LocalTimeCache } from '../time/local-time';
import { TrackingTokenCodec } from '../tracking/tracking-token';
import { TrackingUrls } from '../tracking/tracking-urls';
import { CandidateExplanation, CandidateReason, DecisionOutcome, ServedAd } from './decision.types';

/** Source of uniform random numbers in [0, 1) for tie-breaks, creative choice and pacing; tests inject a seeded one. */
export const DECISION_RANDOM = Symbol('DECISION_RANDOM');

/**
 * Candidates offered to a reservation round beyond the slots still open, round by round: few at first,
 * since the best candidate almost always passes and every candidate offered is ~120 bytes the API
 * formats and sends and Redis parses; more in later rounds, where the first ones were capped, paced or
 * out of budget (up to 43 candidates over six rounds for one slot).
 */
const OFFER_EXTRA = [1, 4, 8, 8, 8, 8];
const MAX_RESERVATION_ROUNDS = OFFER_EXTRA.length;
const NO_COUNTS = { impressions: 0, clicks: 0, completes: 0 };

interface Ranked {
  item: IndexedLineItem;
  priority: number;
  expectedValue: number;
  weight: number;
}

/**
 * Picks the ads of a decision: candidates from the in-memory index, filtered by flight, format and
 * targeting, ranked (priority, expected value, weighted random), then offered best first to the
 * atomic reservation step in Redis, which applies budgets, frequency caps and pacing across
 * replicas. Signs a tracking token per ad. No MySQL access.
 */
@Injectable()
export class DecisionService {
  private readonly logger = new Logger(DecisionService.name);
  private readonly localTimes = new LocalTimeCache();
  private readonly decisions: Counter<'outcome'>;
  private readonly latency: Histogram<'outcome'>;
  private readonly limited: Counter<'limit'>;
  private readonly limits: { listener: number; ip: number };
  /** The tracking URLs of this deployment (PUBLIC_BASE_URL). */
  private readonly urls: TrackingUrls;

  constructor(
    private readonly index: EligibilityIndexService,
    private readonly observed: ObservedStateService,
    private readonly counters: DeliveryLedger,
    private readonly codec: TrackingTokenCodec,
    private readonly clock: Clock,
    metrics: MetricsService,
    config: ApiConfig,
    @Optional() @Inject(DECISION_RANDOM) private readonly random: () => number = Math.random,
  ) {
    this.urls = new TrackingUrls(config.PUBLIC_BASE_URL);
    this.limits = { listener: config.DECISION_LISTENER_LIMIT, ip: config.DECISION_IP_LIMIT };
    this.limited = metrics.counter(
      'delivery_decisions_limited_total',
      'Decisions answered with no fill because the listener or IP holds too many unplayed ads (suspected invalid traffic)',
      ['limit'],
    );
    this.decisions = metrics.counter('delivery_decisions_total', 'Ad decisions by outcome (filled: at least one ad)', ['outcome']);
    this.latency = metrics.histogram('delivery_decision_duration_seconds', 'Time to decide (index, ranking, reservation, signing)', ['outcome'], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]);
  }

  async decide(ctx: DecisionContext, options: { requestId: string; explain?: boolean }): Promise<DecisionOutcome> {
    const started = process.hrtime.bigint();
    const outcome = await this.run(ctx, options);
    const label = outcome.ads.length > 0 ? 'filled' : 'no_fill';
    this.decisions.inc({ outcome: label });
    this.latency.observe({ outcome: label }, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }

  private async run(ctx: DecisionContext, { requestId, explain = false }: { requestId: string; explain?: boolean }): Promise<DecisionOutcome> {
    const snapshot = this.index.snapshot;
    if (!snapshot) return { requestId, ads: [], explanation: explain ? [] : undefined };
    const now = this.clock.now();
    const reasons = new Map<string, CandidateReason>();

    // Candidates come best first; only as many are filtered as the reservation rounds pull.
    const pool = explain ? snapshot.ranked : snapshot.candidates(ctx.formats, ctx.country, ctx.platform);
    const accept = (item: IndexedLineItem): Ranked | null => {
      const reason = this.filter(item, ctx, now);
      if (reason) {
        if (explain) reasons.set(item.lineItem.id, reason);
        return null;
      }
      return { item, priority: item.priority, expectedValue: item.expectedValue, weight: weightFor(item, ctx.formats) };
    };
    const stream = rankedEligible(pool, accept, this.random);
    const ranked: Ranked[] = [];
    const pull = (n: number): Ranked[] => {
      const batch: Ranked[] = [];
      while (batch.length < n) {
        const next = stream.next();
        if (next.done) break;
        batch.push(next.value);
      }
      ranked.push(...batch);
      return batch;
    };
    if (explain) pull(Infinity);

    const chosen: Array<{ ranked: Ranked; decisionId: string }> = [];
    let offset = 0;
    let restored = true;
    for (let round = 0; round < MAX_RESERVATION_ROUNDS && chosen.length < ctx.slots; round++) {
      const need = ctx.slots - chosen.length;
      const offer = explain ? ranked.slice(offset, offset + need + OFFER_EXTRA[round]) : pull(need + OFFER_EXTRA[round]);
      if (offer.length === 0) break;
      const decisionIds = Array.from({ length: need }, () => uuidv7());
      const result = await this.counters.reserve({
        userId: ctx.userId,
        ip: ctx.ip,
        limits: this.limits,
        decisionIds,
        candidates: offer.map((r) => this.reservationCandidate(r, now)),
      });
      if (!result.restored) {
        restored = false;
        this.logger.warn('delivery counters are not restored yet (Redis lost them): serving nothing until measurement rebuilds them');
        break;
      }
      const limit = result.verdicts[0];
      if (limit === 'listener_limit' || limit === 'ip_limit') {
        this.limited.inc({ limit });
        if (explain) offer.forEach((r) => reasons.set(r.item.lineItem.id, limit));
        break;
      }
      for (const s of result.selected) chosen.push({ ranked: offer[s.index], decisionId: s.decisionId });
      if (explain) offer.forEach((r, i) => reasons.set(r.item.lineItem.id, verdictReason(result.verdicts[i])));
      offset += offer.length;
    }

    const ads = chosen.map(({ ranked: r, decisionId }) => this.render(r.item, ctx, decisionId, now));
    if (!explain) return { requestId, ads };
    const rankOf = new Map(ranked.map((r, i) => [r.item.lineItem.id, { rank: i + 1, ev: r.expectedValue }]));
    const explanation: CandidateExplanation[] = snapshot.items.map((item) => {
      const id = item.lineItem.id;
      const ranking = rankOf.get(id);
      return {
        lineItemId: id,
        campaignId: item.lineItem.campaignId,
        priority: item.lineItem.priority,
        expectedValueMicros: ranking ? ranking.ev / 1000 : null,
        rank: ranking?.rank ?? null,
        reason: reasons.get(id) ?? (restored ? 'outranked' : 'counters_not_restored'),
      };
    });
    explanation.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
    return { requestId, ads, explanation };
  }

  /** The first reason a line item cannot serve this request, before ranking; null when it can. */
  private filter(item: IndexedLineItem, ctx: DecisionContext, now: number): CandidateReason | null {
    const li = item.lineItem;
    if (now < li.startAt) return 'flight_not_started';
    if (now >= li.endAt) return 'flight_ended';
    if (creativesFor(item, ctx.formats).length === 0) return 'no_creative_for_format';
    const miss = matchTargeting(item.targeting, ctx, () => this.localTimes.get(li.timezone, now));
    if (miss) return `targeting_${miss}` as CandidateReason;
    // Known to be out of budget a moment ago: not worth a place in the reservation call. For campaigns
    // it matters most: a spent campaign with many line items ranked first would otherwise fill every
    // reservation round with candidates Redis can only refuse, and the decision would go unfilled.
    const counts = this.observed.lineItem(li.id);
    if (counts && counts.spentMilliMicros + item.eventPriceMilliMicros > item.budgetMilliMicros) return 'budget_exhausted';
    const campaignBudget = item.campaignBudgetMilliMicros;
    if (campaignBudget !== null) {
      const campaign = this.observed.campaign(li.campaignId);
      if (campaign && campaign.spentMilliMicros + item.eventPriceMilliMicros > campaignBudget) return 'campaign_budget_exhausted';
    }
    return null;
  }

  private reservationCandidate(r: Ranked, now: number): ReservationCandidate {
    const { item } = r;
    const li = item.lineItem;
    const local = this.localTimes.get(li.timezone, now);
    const plan = pacingPlan(li, now, local);
    const counts = this.observed.lineItem(li.id) ?? NO_COUNTS;
    return {
      lineItemId: li.id,
      campaignId: li.campaignId,
      eventPriceMilliMicros: item.eventPriceMilliMicros,
      reserveMilliMicros: item.eventPriceMilliMicros * billedEventRateUpper(li.pricingModel, counts),
      budgetMilliMicros: item.budgetMilliMicros,
      dailyBudgetMilliMicros: item.dailyBudgetMilliMicros,
      campaignBudgetMilliMicros: item.campaignBudgetMilliMicros,
      dayStartQuarter: Math.floor(local.dayStartMs / QUARTER_MS),
      pacingBasis: plan.basis,
      pacingTargetMilliMicros: plan.targetMilliMicros,
      pacingAllowanceMilliMicros: plan.allowanceMilliMicros,
      random: this.random(),
      frequencyCaps: li.frequencyCaps,
    };
  }

  private render(item: IndexedLineItem, ctx: DecisionContext, decisionId: string, now: number): ServedAd {
    const li = item.lineItem;
    const creative = pickWeighted(creativesFor(item, ctx.formats), this.random);
    const token = this.codec.sign({
      decisionId,
      advertiserId: li.advertiserId,
      campaignId: li.campaignId,
      lineItemId: li.id,
      creativeId: creative.id,
      userId: ctx.userId,
      pricingModel: li.pricingModel,
      rateMicros: li.rateMicros,
      country: ctx.country || 'ZZ',
      platform: ctx.platform || 'unknown',
      issuedAt: Math.floor(now / 1000),
      creativeVersion: creative.approvedVersion,
    });
    const tracking = this.urls.of(token);
    return {
      decisionId,
      advertiserId: li.advertiserId,
      campaignId: li.campaignId,
      lineItemId: li.id,
      lineItemName: li.name,
      creativeId: creative.id,
      format: creative.format,
      mediaUrl: creative.mediaUrl,
      mimeType: creative.mimeType,
      durationSeconds: creative.durationSeconds,
      clickThroughUrl: creative.clickThroughUrl,
      companionImageUrl: creative.companionImageUrl,
      pricingModel: li.pricingModel,
      rateMicros: li.rateMicros,
      currency: li.currency,
      clickUrl: tracking.click,
      tracking,
      token,
    };
  }
}

function verdictReason(verdict: CandidateVerdict): CandidateReason {
  return verdict === 'not_reached' ? 'outranked' : verdict;
}
