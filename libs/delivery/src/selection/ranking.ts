import type { PricingModel } from '@app/campaigns';
import { MILLI_PER_MICRO } from '@app/delivery-ledger';

/** Beta prior of the click rate: mean 1%, worth 200 impressions of evidence. */
export const CLICK_RATE_PRIOR = { alpha: 2, beta: 198 };
/** Beta prior of the completion rate: mean 70%, worth 20 impressions of evidence. */
export const COMPLETION_RATE_PRIOR = { alpha: 14, beta: 6 };

/** Posterior mean of a rate under a Beta prior: (successes + α) / (trials + α + β), clamped to [0, 1]. */
export function observedRate(successes: number, trials: number, prior: { alpha: number; beta: number }): number {
  const rate = (Math.max(0, successes) + prior.alpha) / (Math.max(0, trials) + prior.alpha + prior.beta);
  return Math.min(1, Math.max(0, rate));
}

export interface ObservedCounts {
  impressions: number;
  clicks: number;
  completes: number;
}

/** The probability that one impression produces the billed event (1 for CPM). */
export function billedEventRate(model: PricingModel, counts: ObservedCounts): number {
  if (model === 'CPM') return 1;
  if (model === 'CPC') return observedRate(counts.clicks, counts.impressions, CLICK_RATE_PRIOR);
  return observedRate(counts.completes, counts.impressions, COMPLETION_RATE_PRIOR);
}

/** Standard deviations above the posterior mean at which budget reservations take a rate (~99.9% one-sided). */
export const RESERVATION_RATE_Z = 3;

/**
 * An upper confidence bound of the probability that one impression produces the billed event: the
 * Beta posterior's mean plus RESERVATION_RATE_Z standard deviations (1 for CPM). Reservations use it
 * rather than the mean, so that traffic that clicks or completes more than observed so far (an
 * attacker clicking every ad) is held against the budget at a rate that is rarely exceeded, and the
 * bound rises with every such event.
 */
export function billedEventRateUpper(model: PricingModel, counts: ObservedCounts): number {
  if (model === 'CPM') return 1;
  const prior = model === 'CPC' ? CLICK_RATE_PRIOR : COMPLETION_RATE_PRIOR;
  const successes = model === 'CPC' ? counts.clicks : counts.completes;
  const trials = Math.max(0, counts.impressions);
  const a = Math.max(0, Math.min(successes, trials)) + prior.alpha;
  const b = trials - Math.max(0, Math.min(successes, trials)) + prior.beta;
  const mean = a / (a + b);
  const sd = Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)));
  return Math.min(1, mean + RESERVATION_RATE_Z * sd);
}

/**
 * Expected revenue of one impression in milli-micros: CPM rate/1000 micros; CPC rate × click rate;
 * CPCL rate × completion rate (rates observed, with a prior).
 */
export function expectedValueMilliMicros(model: PricingModel, rateMicros: number, counts: ObservedCounts): number {
  if (model === 'CPM') return rateMicros;
  return rateMicros * MILLI_PER_MICRO * billedEventRate(model, counts);
}

export interface Rankable {
  priority: number;
  expectedValue: number;
  /** Relative weight for breaking ties at random (>= 1). */
  weight: number;
}

/**
 * Orders candidates: lower priority number first, then higher expected value; candidates equal on
 * both are ordered at random with probability proportional to weight (Efraimidis–Spirakis keys
 * u^(1/w), so the first of a tie is picked with probability w / Σw).
 */
export function rankCandidates<T extends Rankable>(items: readonly T[], random: () => number): T[] {
  const keyed = items.map((item) => ({ item, key: Math.pow(random(), 1 / Math.max(item.weight, 1e-9)) }));
  keyed.sort((a, b) => a.item.priority - b.item.priority || b.item.expectedValue - a.item.expectedValue || b.key - a.key);
  return keyed.map((k) => k.item);
}

/** One item picked at random with probability proportional to its weight. */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  let total = 0;
  for (const item of items) total += Math.max(item.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= Math.max(item.weight, 0);
    if (r < 0) return item;
  }
  return items[items.length - 1];
}

/**
 * Yields the acceptable items of a list already sorted by (priority, expected value desc), in final
 * rank order: each run of items equal on both is shuffled by weight (as rankCandidates), and items are
 * only examined as the caller pulls, so a decision that needs a few ads stops after the first few
 * eligible line items instead of filtering the whole candidate list.
 */
export function* rankedEligible<T extends { priority: number; expectedValue: number }, R extends Rankable>(
  sorted: readonly T[],
  accept: (item: T) => R | null,
  random: () => number,
): Generator<R> {
  let i = 0;
  while (i < sorted.length) {
    const head = sorted[i];
    let j = i + 1;
    while (j < sorted.length && sorted[j].priority === head.priority && sorted[j].expectedValue === head.expectedValue) j++;
    if (j - i === 1) {
      const one = accept(head);
      if (one) yield one;
    } else {
      const group: R[] = [];
      for (let k = i; k < j; k++) {
        const r = accept(sorted[k]);
        if (r) group.push(r);
      }
      yield* rankCandidates(group, random);
    }
    i = j;
  }
}
