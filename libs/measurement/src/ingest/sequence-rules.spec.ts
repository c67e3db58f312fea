import { SequenceCandidate, StoredPrerequisites, decisionsNeedingLookup, sequenceViolations } from './sequence-rules';

const D1 = 'd1';
const D2 = 'd2';
const c = (decisionId: string, event: SequenceCandidate['event'], occurredAt: number, valid = true): SequenceCandidate => ({ decisionId, event, occurredAt, valid });

describe('sequence rules', () => {
  it('accepts a full in-order sequence within one batch', () => {
    const batch = [c(D1, 'impression', 0), c(D1, 'start', 0), c(D1, 'firstQuartile', 5000), c(D1, 'midpoint', 10000), c(D1, 'thirdQuartile', 15000), c(D1, 'complete', 20000), c(D1, 'click', 21000)];
    expect([...sequenceViolations(batch, new Map())]).toEqual([]);
  });

  it('flags quartiles, completes and clicks without a prior impression, but not a start', () => {
    const batch = [c(D1, 'start', 0), c(D1, 'firstQuartile', 1), c(D1, 'click', 2), c(D1, 'complete', 3)];
    expect(Object.fromEntries(sequenceViolations(batch, new Map()))).toEqual({ 1: 'no_prior_impression', 2: 'no_prior_impression', 3: 'no_prior_impression' });
  });

  it('flags a complete before any start, and one timed before the start', () => {
    const noStart = [c(D1, 'impression', 0), c(D1, 'complete', 20000)];
    expect(Object.fromEntries(sequenceViolations(noStart, new Map()))).toEqual({ 1: 'complete_before_start' });
    const stored: StoredPrerequisites = new Map([[D2, { impression: { valid: true, occurredAt: 0 }, start: { valid: true, occurredAt: 30000 } }]]);
    expect(Object.fromEntries(sequenceViolations([c(D2, 'complete', 20000)], stored))).toEqual({ 0: 'complete_before_start' });
  });

  it('uses impressions stored in MySQL, and only valid ones', () => {
    const stored: StoredPrerequisites = new Map([
      [D1, { impression: { valid: true, occurredAt: 0 } }],
      [D2, { impression: { valid: false, occurredAt: 0 } }],
    ]);
    const result = sequenceViolations([c(D1, 'midpoint', 9000), c(D2, 'midpoint', 9000)], stored);
    expect(Object.fromEntries(result)).toEqual({ 1: 'no_prior_impression' });
  });

  it('lets a stored invalid impression win over a batch copy (which will be a duplicate)', () => {
    const stored: StoredPrerequisites = new Map([[D1, { impression: { valid: false, occurredAt: 0 } }]]);
    const result = sequenceViolations([c(D1, 'impression', 0), c(D1, 'click', 100)], stored);
    expect(Object.fromEntries(result)).toEqual({ 1: 'no_prior_impression' });
  });

  it('treats an impression that is invalid for another reason as no impression, and leaves it alone', () => {
    const result = sequenceViolations([c(D1, 'impression', 0, false), c(D1, 'firstQuartile', 5000)], new Map());
    expect(Object.fromEntries(result)).toEqual({ 1: 'no_prior_impression' });
  });

  it('flags an event timed before its impression beyond the tolerance only', () => {
    const batch = [c(D1, 'impression', 10000), c(D1, 'click', 9500), c(D1, 'firstQuartile', 8000)];
    expect(Object.fromEntries(sequenceViolations(batch, new Map(), 1000))).toEqual({ 2: 'no_prior_impression' });
  });

  it('finds prerequisites anywhere in the batch: beacons fired at once arrive in any order', () => {
    const batch = [c(D1, 'complete', 500), c(D1, 'click', 400), c(D1, 'firstQuartile', 300), c(D1, 'start', 200), c(D1, 'impression', 100), c(D2, 'complete', 0), c(D2, 'impression', 5000)];
    expect(Object.fromEntries(sequenceViolations(batch, new Map(), 1000))).toEqual({ 5: 'no_prior_impression' });
  });

  it('looks up only decisions with events that need a prerequisite', () => {
    expect(decisionsNeedingLookup([c(D1, 'impression', 0), c(D1, 'start', 0), c(D2, 'click', 0), c('d3', 'complete', 0, false)])).toEqual([D2]);
  });

  it('takes the first copy of an impression in a batch: a later valid copy is a duplicate and proves nothing', () => {
    const batch = [c(D1, 'impression', 0, false), c(D1, 'impression', 0), c(D1, 'click', 100)];
    expect(Object.fromEntries(sequenceViolations(batch, new Map()))).toEqual({ 2: 'no_prior_impression' });
  });

  it('accepts an event timed exactly at the tolerance before its impression', () => {
    const batch = [c(D1, 'impression', 10000), c(D1, 'click', 9000), c(D1, 'midpoint', 8999)];
    expect(Object.fromEntries(sequenceViolations(batch, new Map(), 1000))).toEqual({ 2: 'no_prior_impression' });
  });

  it('leaves events already invalid for another reason alone (one reason each)', () => {
    expect([...sequenceViolations([c(D1, 'click', 0, false), c(D1, 'complete', 0, false)], new Map())]).toEqual([]);
  });
});
