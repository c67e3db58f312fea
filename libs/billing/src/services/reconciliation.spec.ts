import type { LineItemSpend } from '@app/measurement';
import { reconcileMonth } from './reconciliation.service';

const spend = (lineItemId: string, billableEvents: number, spendMilliMicros: bigint): LineItemSpend => ({
  advertiserId: 'a',
  campaignId: 'c',
  lineItemId,
  billableEvents,
  spendMilliMicros,
  writtenOffEvents: 0,
  writtenOffMilliMicros: 0n,
});
const invoiced = (lineItemId: string, units: number, spendMilli: bigint) => ({ advertiserId: 'a', lineItemId, units, spendMilli });
const check = { period: '2026-05', watermark: 42, checkedAt: new Date('2026-06-01T00:00:00Z') };
const all = new Set(['a']);
const stateOf = (rows: ReturnType<typeof reconcileMonth>) => Object.fromEntries(rows.map((r) => [r.lineItemId, r.state]));

describe('reconcileMonth', () => {
  it('is ok where invoices, rollups and raw events agree, pending where usage is not all invoiced yet', () => {
    const rows = reconcileMonth(check, [spend('ok', 10, 5000n), spend('late', 12, 6000n)], [spend('ok', 10, 5000n), spend('late', 12, 6000n)], [invoiced('ok', 10, 5000n), invoiced('late', 10, 5000n)], all);
    expect(stateOf(rows)).toEqual({ ok: 'ok', late: 'pending' });
    expect(rows.find((r) => r.lineItemId === 'late')).toEqual({
      advertiserId: 'a',
      period: '2026-05',
      lineItemId: 'late',
      checkedAt: check.checkedAt,
      watermark: 42,
      invoiced: { units: 10, mmicros: 5000n },
      rollup: { units: 12, mmicros: 6000n },
      raw: { units: 12, mmicros: 6000n },
      state: 'pending',
    });
  });

  it('is a mismatch where a rollup disagrees with its raw events, even when invoiced as rolled up', () => {
    expect(stateOf(reconcileMonth(check, [spend('x', 10, 5000n)], [spend('x', 10, 5001n)], [invoiced('x', 10, 5000n)], all))).toEqual({ x: 'mismatch' });
    expect(stateOf(reconcileMonth(check, [spend('x', 10, 5000n)], [spend('x', 11, 5000n)], [], all))).toEqual({ x: 'mismatch' });
  });

  it('is a mismatch where invoices bill more than measured, or bill what nothing measured', () => {
    expect(stateOf(reconcileMonth(check, [spend('x', 10, 5000n)], [spend('x', 10, 5000n)], [invoiced('x', 10, 5001n)], all))).toEqual({ x: 'mismatch' });
    expect(stateOf(reconcileMonth(check, [spend('x', 10, 5000n)], [spend('x', 10, 5000n)], [invoiced('x', 11, 5000n)], all))).toEqual({ x: 'mismatch' });
    expect(stateOf(reconcileMonth(check, [], [], [invoiced('ghost', 1, 1n)], all))).toEqual({ ghost: 'mismatch' });
  });

  it('is pending for usage measured but not invoiced at all', () => {
    expect(stateOf(reconcileMonth(check, [spend('x', 1, 1n)], [spend('x', 1, 1n)], [], all))).toEqual({ x: 'pending' });
  });

  it('compares only invoices and rollups for an advertiser whose month is partly past raw-event retention (raw null)', () => {
    const rows = reconcileMonth(check, [spend('x', 10, 5000n)], [spend('x', 3, 1000n)], [invoiced('x', 10, 5000n)], new Set());
    expect(rows).toEqual([expect.objectContaining({ lineItemId: 'x', raw: null, state: 'ok' })]);
    expect(stateOf(reconcileMonth(check, [spend('x', 10, 5000n)], [], [invoiced('x', 11, 5000n)], new Set()))).toEqual({ x: 'mismatch' });
  });
});
