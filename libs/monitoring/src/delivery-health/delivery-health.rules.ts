import type { SlaSpec } from '../sla/sla.definitions';

export type DeliveryHealthState = 'on_track' | 'behind' | 'critical' | 'stalled' | 'exhausting_early';

export interface LineItemDeliveryInput {
  budgetMicros: number;
  startAt: Date;
  endAt: Date;
  /** Billed spend so far, micros. */
  spentMicros: number;
  /** Spend over the last `windowSeconds` of the SLA, micros. */
  recentSpendMicros: number;
  /** Whether any impression was delivered in that window. */
  deliveredRecently: boolean;
}

export interface DeliveryHealth {
  state: DeliveryHealthState;
  severity: 'ok' | 'warning' | 'critical';
  /** Elapsed share of the flight minus the spent share of the budget, in points (0 when ahead). */
  behindPoints: number;
  elapsedShare: number;
  spendShare: number;
  /** When the budget runs out at the recent spend rate; null when it does not before the flight ends. */
  exhaustsAt: Date | null;
  reason: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * A line item's delivery health: pacing from its spent share of budget against the elapsed share of its
 * flight (spec.warn points behind warns, spec.target is critical), stalled when it delivered nothing
 * for the spec's window, exhausting early when the recent spend rate ends the budget before the flight.
 */
export function deliveryHealth(item: LineItemDeliveryInput, spec: Pick<SlaSpec, 'target' | 'warn' | 'windowSeconds'>, now: Date): DeliveryHealth {
  const flightMs = Math.max(1, item.endAt.getTime() - item.startAt.getTime());
  const elapsedMs = Math.min(flightMs, Math.max(0, now.getTime() - item.startAt.getTime()));
  const elapsedShare = elapsedMs / flightMs;
  const spendShare = item.budgetMicros > 0 ? Math.min(1, item.spentMicros / item.budgetMicros) : 1;
  const behindPoints = Math.max(0, (elapsedShare - spendShare) * 100);
  const windowMs = Math.min(spec.windowSeconds * 1000, Math.max(1, elapsedMs));
  const remaining = Math.max(0, item.budgetMicros - item.spentMicros);
  let exhaustsAt: Date | null = null;
  if (remaining === 0) exhaustsAt = now;
  else if (item.recentSpendMicros > 0) exhaustsAt = new Date(now.getTime() + (remaining / item.recentSpendMicros) * windowMs);
  // Exhausting early: the budget ends before the last 5% of the flight.
  const early = exhaustsAt !== null && exhaustsAt.getTime() < item.endAt.getTime() - flightMs * 0.05;
  const base = { behindPoints, elapsedShare, spendShare, exhaustsAt: early ? exhaustsAt : null };
  const warn = spec.warn ?? spec.target / 2;
  if (elapsedMs >= spec.windowSeconds * 1000 && !item.deliveredRecently) {
    return { ...base, state: 'stalled', severity: 'critical', reason: `active with no delivery for ${(spec.windowSeconds / 3600).toFixed(1)} h` };
  }
  if (behindPoints >= spec.target) {
    return { ...base, state: 'critical', severity: 'critical', reason: `spent ${pct(spendShare)} of budget at ${pct(elapsedShare)} of flight: ${behindPoints.toFixed(1)} points behind (critical at ${spec.target})` };
  }
  if (behindPoints >= warn) {
    return { ...base, state: 'behind', severity: 'warning', reason: `spent ${pct(spendShare)} of budget at ${pct(elapsedShare)} of flight: ${behindPoints.toFixed(1)} points behind (warns at ${warn})` };
  }
  if (early) {
    return { ...base, state: 'exhausting_early', severity: 'warning', reason: `at the recent spend rate the budget runs out at ${exhaustsAt!.toISOString()}, before the flight ends at ${item.endAt.toISOString()}` };
  }
  return { ...base, state: 'on_track', severity: 'ok', reason: `spent ${pct(spendShare)} of budget at ${pct(elapsedShare)} of flight` };
}
