import type { EventType, InvalidReason } from '../events/event-types';

/** What MySQL already holds for a decision's prerequisite events (impression, start). */
export interface StoredPrerequisite {
  valid: boolean;
  /** ms since epoch */
  occurredAt: number;
}

export type StoredPrerequisites = Map<string, { impression?: StoredPrerequisite; start?: StoredPrerequisite }>;

export interface SequenceCandidate {
  decisionId: string;
  event: EventType;
  occurredAt: number;
  /** False when the event is already invalid for another reason (it then proves nothing for later events). */
  valid: boolean;
}

/** Clock skew tolerated between two events of one decision (API replicas' clocks, player clocks), ms. */
export const SEQUENCE_TOLERANCE_MS = 1000;

/** Events that need a prior impression (complete also a prior start). */
export const NEEDS_IMPRESSION: ReadonlySet<EventType> = new Set<EventType>(['firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click']);

/** Decisions whose stored impression/start must be looked up for this batch (one query for all). */
export function decisionsNeedingLookup(candidates: SequenceCandidate[]): string[] {
  const ids = new Set<string>();
  for (const c of candidates) if (c.valid && NEEDS_IMPRESSION.has(c.event)) ids.add(c.decisionId);
  return [...ids];
}

/**
 * Impossible sequences: a quartile, complete or click with no valid impression before it, and a
 * complete with no valid start before it. "Before" is by event time (within the tolerance), not by
 * position: prerequisites come from MySQL or from anywhere in the same batch, since players that queued
 * offline send a decision's events together and beacons fired at once arrive in any order. A stored
 * prerequisite wins over one in the batch, since the batch copy will then be a duplicate.
 * `start` needs no impression: players fire both at once, and they may race.
 * Returns the reason per candidate index; absent means the sequence is fine.
 */
export function sequenceViolations(candidates: SequenceCandidate[], stored: StoredPrerequisites, toleranceMs = SEQUENCE_TOLERANCE_MS): Map<number, InvalidReason> {
  const violations = new Map<number, InvalidReason>();
  const inBatch = new Map<string, { impression?: StoredPrerequisite; start?: StoredPrerequisite }>();
  for (const c of candidates) {
    if (c.event !== 'impression' && c.event !== 'start') continue;
    const entry = inBatch.get(c.decisionId) ?? {};
    // Only the first copy counts: later copies in the batch are duplicates.
    if (!entry[c.event]) entry[c.event] = { valid: c.valid, occurredAt: c.occurredAt };
    inBatch.set(c.decisionId, entry);
  }
  const prerequisite = (decisionId: string, kind: 'impression' | 'start'): StoredPrerequisite | undefined =>
    stored.get(decisionId)?.[kind] ?? inBatch.get(decisionId)?.[kind];
  const satisfied = (p: StoredPrerequisite | undefined, occurredAt: number) => !!p && p.valid && p.occurredAt <= occurredAt + toleranceMs;

  candidates.forEach((c, index) => {
    if (!c.valid) return;
    if (NEEDS_IMPRESSION.has(c.event) && !satisfied(prerequisite(c.decisionId, 'impression'), c.occurredAt)) {
      violations.set(index, 'no_prior_impression');
    } else if (c.event === 'complete' && !satisfied(prerequisite(c.decisionId, 'start'), c.occurredAt)) {
      violations.set(index, 'complete_before_start');
    }
  });
  return violations;
}
