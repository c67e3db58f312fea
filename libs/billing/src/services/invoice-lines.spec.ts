import { CapAccount, CapEvent, campaignKey, capToBudgets, lineItemKey } from '@app/measurement';
import fc from 'fast-check';
import { BilledUsage, DraftLine, MeasuredUsage, billedKey, draftLines, totalsOf } from './invoice-lines';

const LI = ['li-a', 'li-b', 'li-c'];
const terms = new Map(LI.map((id) => [id, { pricingModel: 'CPM' as const, rateMicros: 3_210_987 }]));

/** Sums what a sequence of invoices billed per month and line item, as the repository does for "billed elsewhere". */
function billed(lines: DraftLine[]): Map<string, BilledUsage & { campaignId: string }> {
  const out = new Map<string, BilledUsage & { campaignId: string }>();
  for (const l of lines) {
    const key = billedKey(l.servicePeriod, l.lineItemId);
    const b = out.get(key) ?? { campaignId: l.campaignId, units: 0, spendMilli: 0n, amountMicros: 0n, writtenOffMilli: 0n, writtenOffMicros: 0n };
    out.set(key, {
      ...b,
      units: b.units + l.billableUnits,
      spendMilli: b.spendMilli + l.spendMilli,
      amountMicros: b.amountMicros + l.amountMicros,
      writtenOffMilli: b.writtenOffMilli + l.writtenOffMilli,
      writtenOffMicros: b.writtenOffMicros + l.writtenOffMicros,
    });
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
          ...now.map((m) => ({ servicePeriod: '2026-11', campaignId: 'cp', lineItemId: m.li, units: m.units, spendMilli: m.spend, writtenOffMilli: m.off })),
          ...before.map((m) => ({ servicePeriod: '2026-10', campaignId: 'cp', lineItemId: m.li, units: m.units, spendMilli: m.spend, writtenOffMilli: m.off })),
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
          const measured: MeasuredUsage[] = [{ servicePeriod: '2026-10', campaignId: 'cp', lineItemId: 'li-a', units: upto, spendMilli: spend, writtenOffMilli: 0n }];
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
          const measured: MeasuredUsage[] = events.map((e, i) => ({
            servicePeriod: e.month,
            campaignId: 'cp',
            lineItemId: e.li,
            units: off.has(i + 1) ? 0 : 1,
            spendMilli: off.has(i + 1) ? 0n : e.cost,
            writtenOffMilli: off.has(i + 1) ? e.cost : 0n,
          }));
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
