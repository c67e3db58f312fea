import type { LineItemTerms, PricingModel } from '@app/campaigns';

/** What measurement counts for one line item and one service month now. */
export interface MeasuredUsage {
  servicePeriod: string;
  campaignId: string;
  lineItemId: string;
  units: number;
  spendMilli: bigint;
  writtenOffMilli: bigint;
}

/** What other live invoices (draft, issued, paid; never void) already bill of one line item and month. */
export interface BilledUsage {
  units: number;
  spendMilli: bigint;
  amountMicros: bigint;
  writtenOffMilli: bigint;
  writtenOffMicros: bigint;
}

export interface DraftLine {
  kind: 'usage' | 'adjustment';
  servicePeriod: string;
  campaignId: string;
  lineItemId: string;
  pricingModel: PricingModel;
  billableUnits: number;
  rateMicros: number;
  /** Exact spend of the line, milli-micros. */
  spendMilli: bigint;
  /** Billed amount, micros: the running exact total rounded down, less what earlier lines billed. */
  amountMicros: bigint;
  writtenOffMilli: bigint;
  writtenOffMicros: bigint;
  originalInvoiceId: string | null;
  reason: string | null;
}

export interface DraftTotals {
  subtotalMicros: bigint;
  adjustmentsMicros: bigint;
  totalMicros: bigint;
  writtenOffMicros: bigint;
}

const MILLI = 1000n;
/** Micros of a measured amount, rounded down: measured spend is a sum of unsigned rollup counters, never negative. */
const toMicros = (milli: bigint) => milli / MILLI;
export const billedKey = (servicePeriod: string, lineItemId: string) => `${servicePeriod}|${lineItemId}`;

/**
 * The lines of a draft for `period`: for its own month, usage; for earlier months already invoiced
 * (`originals`: month -> the issued invoice), adjustments. Each line is what is measured now less what
 * other invoices already bill of the same line item and month. Amounts round the exact running total
 * down once, so however the usage is split across invoices (late events, voids), the sum billed for a
 * line item and month is exactly floor(spend / 1000): no rounding drift.
 */
export function draftLines(input: {
  period: string;
  measured: MeasuredUsage[];
  billedElsewhere: Map<string, BilledUsage & { campaignId: string }>;
  originals: Map<string, string>;
  terms: Map<string, LineItemTerms>;
}): DraftLine[] {
  const keys = new Map<string, { servicePeriod: string; campaignId: string; lineItemId: string }>();
  const measured = new Map<string, MeasuredUsage>();
  for (const m of input.measured) {
    const key = billedKey(m.servicePeriod, m.lineItemId);
    const prev = measured.get(key);
    measured.set(key, prev ? { ...prev, units: prev.units + m.units, spendMilli: prev.spendMilli + m.spendMilli, writtenOffMilli: prev.writtenOffMilli + m.writtenOffMilli } : m);
    keys.set(key, m);
  }
  for (const [key, b] of input.billedElsewhere) {
    const [servicePeriod, lineItemId] = key.split('|');
    if (!keys.has(key)) keys.set(key, { servicePeriod, campaignId: b.campaignId, lineItemId });
  }
  const lines: DraftLine[] = [];
  for (const [key, k] of keys) {
    const isUsage = k.servicePeriod === input.period;
    if (!isUsage && !input.originals.has(k.servicePeriod)) continue;
    const m = measured.get(key);
    const b = input.billedElsewhere.get(key);
    const spend = m?.spendMilli ?? 0n;
    const off = m?.writtenOffMilli ?? 0n;
    const line = {
      units: (m?.units ?? 0) - (b?.units ?? 0),
      spendMilli: spend - (b?.spendMilli ?? 0n),
      amountMicros: toMicros(spend) - (b?.amountMicros ?? 0n),
      writtenOffMilli: off - (b?.writtenOffMilli ?? 0n),
      writtenOffMicros: toMicros(off) - (b?.writtenOffMicros ?? 0n),
    };
    if (line.units === 0 && line.spendMilli === 0n && line.amountMicros === 0n && line.writtenOffMilli === 0n && line.writtenOffMicros === 0n) continue;
    const terms = input.terms.get(k.lineItemId) ?? { pricingModel: 'CPM' as const, rateMicros: 0 };
    lines.push({
      kind: isUsage ? 'usage' : 'adjustment',
      servicePeriod: k.servicePeriod,
      campaignId: k.campaignId,
      lineItemId: k.lineItemId,
      pricingModel: terms.pricingModel,
      billableUnits: line.units,
      rateMicros: terms.rateMicros,
      spendMilli: line.spendMilli,
      amountMicros: line.amountMicros,
      writtenOffMilli: line.writtenOffMilli,
      writtenOffMicros: line.writtenOffMicros,
      originalInvoiceId: isUsage ? null : input.originals.get(k.servicePeriod)!,
      reason: isUsage ? null : `usage of ${k.servicePeriod} measured after invoice ${input.originals.get(k.servicePeriod)} was issued`,
    });
  }
  const order = (l: DraftLine) => `${l.kind === 'usage' ? 0 : 1}|${l.servicePeriod}|${l.campaignId}|${l.lineItemId}`;
  return lines.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** The invoice's totals: sums of its lines, nothing rounded again. */
export function totalsOf(lines: DraftLine[]): DraftTotals {
  let subtotal = 0n;
  let adjustments = 0n;
  let writtenOff = 0n;
  for (const l of lines) {
    if (l.kind === 'usage') subtotal += l.amountMicros;
    else adjustments += l.amountMicros;
    writtenOff += l.writtenOffMicros;
  }
  return { subtotalMicros: subtotal, adjustmentsMicros: adjustments, totalMicros: subtotal + adjustments, writtenOffMicros: writtenOff };
}
