import type { SlaSpec } from './sla.definitions';

export type SlaState = 'ok' | 'warning' | 'breached' | 'unknown';

/** Where a value stands against its SLA (unknown when there is nothing to judge yet). */
export function stateOf(spec: SlaSpec, value: number | null): SlaState {
  if (value === null || Number.isNaN(value)) return 'unknown';
  const worse = (a: number, b: number) => (spec.direction === 'above' ? a > b : a < b);
  if (worse(value, spec.target)) return 'breached';
  if (spec.warn !== undefined && worse(value, spec.warn)) return 'warning';
  return 'ok';
}

/**
 * Whether a value is good enough to start resolving an open breach: back at the warning level (or,
 * without one, 20% inside the target). With SLA_CLEAR_SECONDS of holding there, a value that hovers at
 * the target opens one breach, not a breach per crossing.
 */
export function isClear(spec: SlaSpec, value: number): boolean {
  const level = spec.warn ?? (spec.direction === 'above' ? spec.target * 0.8 : spec.target + (1 - spec.target) * 0.2);
  return spec.direction === 'above' ? value <= level : value >= level;
}

/** The worse of two values of an SLA. */
export function worseOf(spec: SlaSpec, a: number, b: number): number {
  return spec.direction === 'above' ? Math.max(a, b) : Math.min(a, b);
}
