import { DELIVERY_STATUSES, DeliveryStatus, StatusAction, campaignActivationProblems, lineItemActivationProblems, transition } from './status-machine';

const now = new Date('2026-06-01T12:00:00.000Z');
const future = new Date('2026-07-01T00:00:00.000Z');
const past = new Date('2026-05-01T00:00:00.000Z');

describe('status machine', () => {
  it.each<[DeliveryStatus, StatusAction, DeliveryStatus | null, boolean]>([
    ['draft', 'activate', 'active', true],
    ['paused', 'activate', 'active', true],
    ['active', 'activate', 'active', false],
    ['completed', 'activate', null, false],
    ['archived', 'activate', null, false],
    ['active', 'pause', 'paused', true],
    ['paused', 'pause', 'paused', false],
    ['draft', 'pause', null, false],
    ['completed', 'pause', null, false],
    ['archived', 'pause', null, false],
    ['draft', 'archive', 'archived', true],
    ['active', 'archive', 'archived', true],
    ['paused', 'archive', 'archived', true],
    ['completed', 'archive', 'archived', true],
    ['archived', 'archive', 'archived', false],
    ['active', 'complete', 'completed', true],
    ['paused', 'complete', 'completed', true],
    ['draft', 'complete', null, false],
    ['archived', 'complete', null, false],
  ])('%s --%s--> %s (changed: %s)', (from, action, to, changed) => {
    const result = transition(from, action);
    if (to === null) {
      expect(result).toEqual({ ok: false, reason: `cannot ${action} a ${from} item` });
    } else {
      expect(result).toEqual({ ok: true, to, changed });
    }
  });

  it('never leaves archived, and completed is only reachable by `complete`', () => {
    for (const action of ['activate', 'pause', 'complete'] as const) expect(transition('archived', action).ok).toBe(false);
    for (const from of DELIVERY_STATUSES) {
      for (const action of ['activate', 'pause', 'archive'] as const) {
        const r = transition(from, action);
        if (r.ok) expect(r.to).not.toBe('completed');
      }
    }
  });

  describe('campaign activation', () => {
    it('allows a draft or paused campaign whose end is ahead', () => {
      expect(campaignActivationProblems({ status: 'draft', endAt: future }, now)).toEqual([]);
      expect(campaignActivationProblems({ status: 'paused', endAt: future }, now)).toEqual([]);
    });

    it('names every problem', () => {
      expect(campaignActivationProblems({ status: 'archived', endAt: past }, now)).toEqual([
        'campaign is archived',
        'campaign flight ended at 2026-05-01T00:00:00.000Z',
      ]);
      expect(campaignActivationProblems({ status: 'draft', endAt: now }, now)).toEqual(['campaign flight ended at 2026-06-01T12:00:00.000Z']);
    });
  });

  describe('line item activation', () => {
    const ready = { status: 'draft' as const, budgetMicros: 1_000_000, effectiveEndAt: future, approvedCreativeCount: 1, campaign: { status: 'draft' as const } };

    it('allows a ready line item, whatever the campaign status short of completed/archived', () => {
      expect(lineItemActivationProblems(ready, now)).toEqual([]);
      expect(lineItemActivationProblems({ ...ready, campaign: { status: 'paused' } }, now)).toEqual([]);
      expect(lineItemActivationProblems({ ...ready, status: 'paused', campaign: { status: 'active' } }, now)).toEqual([]);
    });

    it('names every missing condition', () => {
      const problems = lineItemActivationProblems(
        { status: 'completed', budgetMicros: 0, effectiveEndAt: past, approvedCreativeCount: 0, campaign: { status: 'archived' } },
        now,
      );
      expect(problems).toEqual([
        'line item is completed',
        'campaign is archived',
        'budgetMicros must be greater than 0',
        'flight ended at 2026-05-01T00:00:00.000Z',
        'no approved creative assigned',
      ]);
    });

    it('refuses a completed campaign and a line item without an approved creative', () => {
      expect(lineItemActivationProblems({ ...ready, campaign: { status: 'completed' } }, now)).toEqual(['campaign is completed']);
      expect(lineItemActivationProblems({ ...ready, approvedCreativeCount: 0 }, now)).toEqual(['no approved creative assigned']);
    });
  });
});
