import type { SlaState } from './sla-rules';

/** One SLA's value for one subject at the last evaluation. */
export interface SlaReading {
  slaId: string;
  subject: string;
  value: number | null;
  state: SlaState;
  /** Samples behind a windowed value (job SLAs). */
  samples?: number;
  cause?: string;
}

/** What the last evaluation found, kept in Redis for the API (GET /v1/ops/sla, /metrics). */
export interface SlaSnapshot {
  evaluatedAt: string;
  evaluatedBy: string;
  readings: SlaReading[];
}

export const SNAPSHOT_KEY = ['ops', 'sla', 'snapshot'] as const;
