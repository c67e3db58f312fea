import { csvField } from '@app/measurement';
import { InvoiceDto, ReconciliationDto } from '../dto/invoice.dto';
import type { ReconciliationRow } from '../services/reconciliation.service';
import type { InvoiceWithLines } from '../services/invoices.service';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** bigint micros as a JSON number (amounts stay far below 2^53 micros: 9 billion units of currency). */
const num = (v: bigint) => Number(v);

export function toInvoiceDto(i: InvoiceWithLines): InvoiceDto {
  return {
    id: i.id,
    number: i.number,
    advertiserId: i.advertiserId,
    period: i.period,
    currency: i.currency,
    timezone: i.timezone,
    periodStart: i.periodStart.toISOString(),
    periodEnd: i.periodEnd.toISOString(),
    status: i.status,
    cutoffAt: i.cutoffAt.toISOString(),
    cutoffEventId: i.cutoffEventId,
    issuedAt: iso(i.issuedAt),
    dueAt: iso(i.dueAt),
    paidAt: iso(i.paidAt),
    voidedAt: iso(i.voidedAt),
    voidReason: i.voidReason,
    replacementInvoiceId: i.replacedBy,
    subtotalMicros: num(i.subtotalMicros),
    adjustmentsMicros: num(i.adjustmentsMicros),
    totalMicros: num(i.totalMicros),
    writtenOffMicros: num(i.writtenOffMicros),
    lines: i.lines.map((l) => ({
      kind: l.kind,
      campaignId: l.campaignId,
      lineItemId: l.lineItemId,
      pricingModel: l.pricingModel,
      billableUnits: l.billableUnits,
      rateMicros: l.rateMicros,
      amountMicros: num(l.amountMicros),
      writtenOffMicros: num(l.writtenOffMicros),
      servicePeriod: l.servicePeriod,
      originalInvoiceId: l.originalInvoiceId,
      reason: l.reason,
    })),
  };
}

const HEADER = ['id', 'number', 'advertiserId', 'period', 'currency', 'timezone', 'periodStart', 'periodEnd', 'status', 'cutoffAt', 'issuedAt', 'dueAt', 'paidAt', 'subtotalMicros', 'adjustmentsMicros', 'totalMicros', 'writtenOffMicros'] as const;
const LINE = ['kind', 'campaignId', 'lineItemId', 'pricingModel', 'servicePeriod', 'billableUnits', 'rateMicros', 'amountMicros', 'writtenOffMicros', 'originalInvoiceId', 'reason'] as const;

/** One or more invoices as CSV: per invoice its header row, a blank line, its lines; invoices separated by a blank line. */
export function invoicesToCsv(invoices: InvoiceDto[]): string {
  const row = (values: Array<string | number | null | undefined>) => values.map(csvField).join(',');
  const blocks = invoices.map((i) =>
    [row([...HEADER]), row(HEADER.map((k) => i[k])), '', row([...LINE]), ...i.lines.map((l) => row(LINE.map((k) => l[k])))].join('\r\n'),
  );
  return `${blocks.join('\r\n\r\n')}\r\n`;
}

export function toReconciliationDto(invoiceId: string, period: string, rows: ReconciliationRow[]): ReconciliationDto {
  const figure = (f: { units: number; mmicros: bigint }) => ({ units: f.units, micros: Number(f.mmicros / 1000n), milliMicros: f.mmicros.toString() });
  const state = rows.length === 0 ? 'unchecked' : rows.some((r) => r.state === 'mismatch') ? 'mismatch' : rows.some((r) => r.state === 'pending') ? 'pending' : 'ok';
  const checkedAt = rows.reduce<Date | null>((latest, r) => (latest && latest > r.checkedAt ? latest : r.checkedAt), null);
  return {
    invoiceId,
    period,
    state,
    checkedAt: iso(checkedAt),
    watermark: rows.length ? Math.max(...rows.map((r) => r.watermark)) : null,
    lines: rows.map((r) => ({ lineItemId: r.lineItemId, state: r.state, invoiced: figure(r.invoiced), rollup: figure(r.rollup), raw: r.raw ? figure(r.raw) : null })),
  };
}
