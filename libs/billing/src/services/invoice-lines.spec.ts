import { CapAccount, CapEvent, campaignKey, capToBudgets, lineItemKey } from '@app/measurement';
import fc from 'fast-check';
import { BilledUsage, DraftLine, MeasuredUsage, billedKey, draftLines, totalsOf } from './invoice-lines';

const LI = ['li-a', 'li-b', 'li-c'];
const terms = new Map(LI.map((id) => [id, { pricingModel: 'CPM' as const, rateMicros: 3_210_987 }]));

/** Builders of the inputs and outputs of draftLines, by their numbers. */
const usage = (servicePeriod: string, campaignId: string, lineItemId: string, units: number, spendMilli: bigint, writtenOffMilli = 0n): MeasuredUsage => ({ servicePeriod, campaignId, lineItemId, units, spendMilli, writtenOffMilli });
const billedOf = (campaignId: string, units: number, spendMilli: bigint, amountMicros: bigint, writtenOffMilli = 0n, writtenOffMicros = 0n): BilledUsage & { campaignId: string } => ({ campaignId, units, spendMilli, amountMicros, writtenOffMilli, writtenOffMicros });
/** A usage line of 2026-11 with nothing written off, but for what `fields` says. */
const line = (fields: Pick<DraftLine, 'campaignId' | 'lineItemId' | 'pricingModel' | 'billableUnits' | 'rateMicros' | 'spendMilli' | 'amountMicros'> & Partial<DraftLine>): DraftLine => ({
  kind: 'usage',
  servicePeriod: '2026-11',
  writtenOffMilli: 0n,
  writtenOffMicros: 0n,
  originalInvoiceId: null,
  reason: null,
  ...fields,
});

/** Sums what a sequence of invoices billed per month and line item, as the repository does for "billed elsewhere". */
function billed(lines: DraftLine[]): Map<string, BilledUsage & { campaignId: string }> {
  const out = new Map<string, BilledUsage & { campaignId: string }>();
  for (const l of lines) {
    const key = billedKey(l.servicePeriod, l.lineItemId);
    const b = out.get(key) ?? billedOf(l.campaignId, 0, 0n, 0n);
    out.set(key, billedOf(b.campaignId, b.units + l.billableUnits, b.spendMilli + l.spendMilli, b.amountMicros + l.amountMicros, b.writtenOffMilli + l.writtenOffMilli, b.writtenOffMicros + l.writtenOffMicros));
  }
  return out;
}

const measuredArb = fc.array(
  fc.record({ li: fc.constantFrom(...LI), units: fc.integer({ min: 0, max: 10_000 }), spend: fc.bigInt({ min: 0n, max: 10n ** 15n }), off: fc.bigInt({ min: 0n, max: 10n ** 9n }) }),
  { maxLength: 12 },
);

describe('invoice lines', () => {
  it('sum to the total, usage to the subtotal and adjustments to the adjustments', () => {
    fc.assert(
      fc.property(measuredArb, measuredArb, (now, before) => {
        const measured: MeasuredUsage[] = [
          ...now.map((m) => usage('2026-11', 'cp', m.li, m.units, m.spend, m.off)),
          ...before.map((m) => usage('2026-10', 'cp', m.li, m.units, m.spend, m.off)),
        ];
        const lines = draftLines({ period: '2026-11', measured, billedElsewhere: new Map(), originals: new Map([['2026-10', 'inv-oct']]), terms });
        const t = totalsOf(lines);
        expect(t.totalMicros).toBe(lines.reduce((s, l) => s + l.amountMicros, 0n));
        expect(t.subtotalMicros + t.adjustmentsMicros).toBe(t.totalMicros);
        expect(t.subtotalMicros).toBe(lines.filter((l) => l.kind === 'usage').reduce((s, l) => s + l.amountMicros, 0n));
        for (const l of lines.filter((x) => x.kind === 'adjustment')) expect(l).toMatchObject({ servicePeriod: '2026-10', originalInvoiceId: 'inv-oct' });
      }),
    );
  });

  it('bill a month exactly floor(spend / 1000) in all, however its usage is split between the invoice and later adjustments (no rounding drift)', () => {
    // Hourly exact spends of one line item; measured at successive cutoffs (late events arrive in between).
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 5_000_000_000n }), { minLength: 1, maxLength: 200 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (hours, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (hours.length + 1)))].sort((a, b) => a - b).concat(hours.length);
        let issued: DraftLine[] = [];
        for (const [i, upto] of points.entries()) {
          const spend = hours.slice(0, upto).reduce((s, h) => s + h, 0n);
          const measured = [usage('2026-10', 'cp', 'li-a', upto, spend)];
          // The first invoice is October's own; each later one is a later month's draft with an adjustment.
          const lines = draftLines({ period: i === 0 ? '2026-10' : `2027-0${Math.min(i, 9)}`, measured, billedElsewhere: billed(issued), originals: new Map([['2026-10', 'inv-oct']]), terms });
          issued = [...issued, ...lines];
        }
        const total = hours.reduce((s, h) => s + h, 0n);
        expect(issued.reduce((s, l) => s + l.amountMicros, 0n)).toBe(total / 1000n);
        expect(issued.reduce((s, l) => s + l.spendMilli, 0n)).toBe(total);
        expect(issued.reduce((s, l) => s + l.billableUnits, 0)).toBe(hours.length);
        // Summing hours into days, then days into the month, gives the same exact spend: only the line rounds.
        const days = Array.from({ length: Math.ceil(hours.length / 24) }, (_, d) => hours.slice(d * 24, d * 24 + 24).reduce((s, h) => s + h, 0n));
        expect(days.reduce((s, d) => s + d, 0n) / 1000n).toBe(total / 1000n);
      }),
    );
  });

  it('never bill a line item or campaign past its budget, whatever the arrival order and the months the events fall in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ li: fc.constantFrom(...LI), cost: fc.bigInt({ min: 1n, max: 50_000_000n }), month: fc.constantFrom('2026-09', '2026-10', '2026-11') }), { maxLength: 300 }),
        fc.bigInt({ min: 0n, max: 2_000_000_000n }),
        fc.option(fc.bigInt({ min: 0n, max: 3_000_000_000n }), { nil: null }),
        (events, liBudget, cpBudget) => {
          const accounts = new Map<string, CapAccount>([[campaignKey('cp'), { budgetMilli: cpBudget, billedMilli: 0n }], ...LI.map((id) => [lineItemKey(id), { budgetMilli: liBudget, billedMilli: 0n }] as const)]);
          const capEvents: CapEvent[] = events.map((e, i) => ({ id: i + 1, lineItemId: e.li, campaignId: 'cp', costMilli: e.cost }));
          const { writtenOff } = capToBudgets(capEvents, accounts);
          const off = new Set(writtenOff);
          const measured = events.map((e, i) => (off.has(i + 1) ? usage(e.month, 'cp', e.li, 0, 0n, e.cost) : usage(e.month, 'cp', e.li, 1, e.cost)));
          let all: DraftLine[] = [];
          for (const month of ['2026-09', '2026-10', '2026-11']) {
            all = [...all, ...draftLines({ period: month, measured: measured.filter((m) => m.servicePeriod === month), billedElsewhere: billed(all), originals: new Map(), terms })];
          }
          const micros = (m: bigint) => m / 1000n;
          for (const id of LI) expect(all.filter((l) => l.lineItemId === id).reduce((s, l) => s + l.amountMicros, 0n)).toBeLessThanOrEqual(micros(liBudget));
          if (cpBudget !== null) expect(all.reduce((s, l) => s + l.amountMicros, 0n)).toBeLessThanOrEqual(micros(cpBudget));
        },
      ),
    );
  });
});

/** Worked examples: every expected number below is computed by hand from the inputs, not by the code. */
describe('invoice lines, worked examples', () => {
  const none = new Map<string, BilledUsage & { campaignId: string }>();
  const mixedTerms = new Map([
    ['li-a', { pricingModel: 'CPC' as const, rateMicros: 250_000 }],
    ['li-b', { pricingModel: 'CPCL' as const, rateMicros: 40_000 }],
  ]);
  /** November's draft lines on the mixed terms. */
  const november = (measured: MeasuredUsage[], billedElsewhere: Map<string, BilledUsage & { campaignId: string }>, originals = new Map<string, string>()) =>
    draftLines({ period: '2026-11', measured, billedElsewhere, originals, terms: mixedTerms });

  it("adds up a line item's rows of one month, subtracts what other invoices billed, and carries the line item's terms", () => {
    const lines = november(
      [usage('2026-11', 'cp-1', 'li-b', 3, 1_500_700n, 999n), usage('2026-11', 'cp-2', 'li-a', 10, 2_500_000n), usage('2026-11', 'cp-1', 'li-b', 4, 2_000_600n, 1_001n)],
      new Map([[billedKey('2026-11', 'li-a'), billedOf('cp-2', 4, 1_000_000n, 1_000n)]]),
    );
    expect(lines).toEqual([
      // li-b: 3 + 4 units, 1,500,700 + 2,000,600 = 3,501,300 milli -> 3,501 micros; 999 + 1,001 = 2,000 milli written off -> 2 micros.
      line({ campaignId: 'cp-1', lineItemId: 'li-b', pricingModel: 'CPCL', billableUnits: 7, rateMicros: 40_000, spendMilli: 3_501_300n, amountMicros: 3_501n, writtenOffMilli: 2_000n, writtenOffMicros: 2n }),
      // li-a: 10 - 4 units, 2,500,000 - 1,000,000 milli, floor(2,500,000 / 1000) - 1,000 = 1,500 micros.
      line({ campaignId: 'cp-2', lineItemId: 'li-a', pricingModel: 'CPC', billableUnits: 6, rateMicros: 250_000, spendMilli: 1_500_000n, amountMicros: 1_500n }),
    ]);
    expect(totalsOf(lines)).toEqual({ subtotalMicros: 5_001n, adjustmentsMicros: 0n, totalMicros: 5_001n, writtenOffMicros: 2n });
  });

  it('bills earlier months only as adjustments to their issued invoice, including usage billed before and no longer measured', () => {
    const lines = november(
      // September was never invoiced: its usage belongs to September's own invoice, not to this one.
      [usage('2026-10', 'cp-1', 'li-a', 2, 500_000n, 3_000n), usage('2026-09', 'cp-1', 'li-a', 9, 9_000_000n)],
      new Map([
        [billedKey('2026-10', 'li-a'), billedOf('cp-1', 1, 200_000n, 200n, 1_000n, 1n)],
        // Billed in October, nothing measured now (e.g. a voided and corrected count): a negative adjustment.
        [billedKey('2026-10', 'li-b'), billedOf('cp-1', 5, 7_000n, 7n)],
      ]),
      new Map([['2026-10', 'inv-oct']]),
    );
    const adjustment = { kind: 'adjustment', servicePeriod: '2026-10', campaignId: 'cp-1', originalInvoiceId: 'inv-oct', reason: 'usage of 2026-10 measured after invoice inv-oct was issued' } as const;
    expect(lines).toEqual([
      line({ ...adjustment, lineItemId: 'li-a', pricingModel: 'CPC', billableUnits: 1, rateMicros: 250_000, spendMilli: 300_000n, amountMicros: 300n, writtenOffMilli: 2_000n, writtenOffMicros: 2n }),
      line({ ...adjustment, lineItemId: 'li-b', pricingModel: 'CPCL', billableUnits: -5, rateMicros: 40_000, spendMilli: -7_000n, amountMicros: -7n }),
    ]);
    expect(totalsOf(lines)).toEqual({ subtotalMicros: 0n, adjustmentsMicros: 293n, totalMicros: 293n, writtenOffMicros: 2n });
  });

  it('leaves out a line only when every one of its numbers is zero', () => {
    const one = (m: MeasuredUsage, b: BilledUsage) => november([m], new Map([[billedKey('2026-11', 'li-a'), { ...b, campaignId: 'cp' }]]));
    const same = { units: 2, spendMilli: 4_000n, amountMicros: 4n, writtenOffMilli: 1_000n, writtenOffMicros: 1n };
    const m = usage('2026-11', 'cp', 'li-a', 2, 4_000n, 1_000n);
    expect(one(m, same)).toEqual([]);
    // Each field differing alone keeps the line.
    expect(one(m, { ...same, units: 1 }).map((l) => l.billableUnits)).toEqual([1]);
    expect(one({ ...m, spendMilli: 4_400n }, same).map((l) => [l.spendMilli, l.amountMicros])).toEqual([[400n, 0n]]);
    expect(one(m, { ...same, amountMicros: 3n }).map((l) => l.amountMicros)).toEqual([1n]);
    expect(one({ ...m, writtenOffMilli: 1_500n }, same).map((l) => [l.writtenOffMilli, l.writtenOffMicros])).toEqual([[500n, 0n]]);
    expect(one(m, { ...same, writtenOffMicros: 0n }).map((l) => l.writtenOffMicros)).toEqual([1n]);
  });

  it('orders usage before adjustments, then by month, campaign and line item, whatever the input order', () => {
    const measured = [
      usage('2026-10', 'cp-2', 'li-c', 1, 1_000n),
      usage('2026-11', 'cp-2', 'li-c', 1, 1_000n),
      usage('2026-09', 'cp-1', 'li-b', 1, 1_000n),
      usage('2026-11', 'cp-1', 'li-b', 1, 1_000n),
      usage('2026-10', 'cp-1', 'li-b', 1, 1_000n),
      usage('2026-11', 'cp-1', 'li-a', 1, 1_000n),
    ];
    const expected = ['usage 2026-11 cp-1 li-a', 'usage 2026-11 cp-1 li-b', 'usage 2026-11 cp-2 li-c', 'adjustment 2026-09 cp-1 li-b', 'adjustment 2026-10 cp-1 li-b', 'adjustment 2026-10 cp-2 li-c'];
    const originals = new Map([['2026-09', 'inv-sep'], ['2026-10', 'inv-oct']]);
    for (const input of [measured, [...measured].reverse()]) {
      const lines = november(input, none, originals);
      expect(lines.map((l) => `${l.kind} ${l.servicePeriod} ${l.campaignId} ${l.lineItemId}`)).toEqual(expected);
    }
  });
});
