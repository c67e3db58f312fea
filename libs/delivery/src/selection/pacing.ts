import type { CatalogLineItem } from '@app/campaigns';
import { eventPriceMilliMicros, MILLI_PER_MICRO } from '@app/delivery-ledger';

/** How far (share of the paced budget) spend may run ahead of the curve before serving stops. */
export const PACING_ALLOWANCE_FRACTION = 0.02;

export interface PacingPlan {
  /** 'daily': the daily budget over the advertiser's local day; 'flight': the total budget over the flight; 'none': ASAP. */
  basis: 'daily' | 'flight' | 'none';
  /** Spend (measured + reserved, milli-micros) the curve allows by now. */
  targetMilliMicros: number;
  /** Lead over the target at which the serve probability reaches 0, milli-micros. */
  allowanceMilliMicros: number;
}

type PacedLineItem = Pick<CatalogLineItem, 'pacing' | 'budgetMicros' | 'dailyBudgetMicros' | 'startAt' | 'endAt' | 'pricingModel' | 'rateMicros'>;

/**
 * EVEN pacing spreads the daily budget (where set) linearly over the advertiser's local day, or else
 * the total budget over the flight; where the flight starts or ends within the day, over the part of
 * the day inside the flight. ASAP has no curve.
 */
export function pacingPlan(li: PacedLineItem, nowMs: number, day: { dayStartMs: number; dayEndMs: number }): PacingPlan {
  if (li.pacing !== 'EVEN') return { basis: 'none', targetMilliMicros: 0, allowanceMilliMicros: 1 };
  const daily = li.dailyBudgetMicros !== null;
  const budgetMilli = (daily ? li.dailyBudgetMicros! : li.budgetMicros) * MILLI_PER_MICRO;
  const from = daily ? Math.max(day.dayStartMs, li.startAt) : li.startAt;
  const to = daily ? Math.min(day.dayEndMs, li.endAt) : li.endAt;
  const fraction = to > from ? Math.min(1, Math.max(0, (nowMs - from) / (to - from))) : 1;
  return {
    basis: daily ? 'daily' : 'flight',
    targetMilliMicros: Math.floor(budgetMilli * fraction),
    allowanceMilliMicros: Math.max(1, Math.ceil(budgetMilli * PACING_ALLOWANCE_FRACTION), 2 * eventPriceMilliMicros(li.pricingModel, li.rateMicros)),
  };
}

/**
 * Probability of serving given spend (measured + reserved) against the curve: 1 on or behind it,
 * falling linearly to 0 as the lead reaches the allowance. The reservation script applies the same
 * rule atomically (counters.lua.ts), with spend read in the same step.
 */
export function serveProbability(actualMilliMicros: number, plan: PacingPlan): number {
  if (plan.basis === 'none' || actualMilliMicros <= plan.targetMilliMicros) return 1;
  return Math.max(0, 1 - (actualMilliMicros - plan.targetMilliMicros) / plan.allowanceMilliMicros);
}
