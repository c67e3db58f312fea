import { sqlBigInt, sqlWhere } from '@app/platform';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { PricingModel } from '@app/campaigns';
import { BilledUsage, DraftLine, DraftTotals, billedKey } from '../services/invoice-lines';

export type InvoiceStatus = 'draft' | 'issued' | 'paid' | 'void';

export interface InvoiceRow {
  id: string;
  number: string | null;
  advertiserId: string;
  period: string;
  currency: string;
  timezone: string;
  periodStart: Date;
  periodEnd: Date;
  status: InvoiceStatus;
  cutoffAt: Date;
  cutoffEventId: number;
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  voidReason: string | null;
  replacedBy: string | null;
  subtotalMicros: bigint;
  adjustmentsMicros: bigint;
  totalMicros: bigint;
  writtenOffMicros: bigint;
  createdAt: Date;
  updatedAt: Date;
}

export interface InvoiceLineRow {
  kind: 'usage' | 'adjustment';
  campaignId: string;
  lineItemId: string;
  pricingModel: PricingModel;
  servicePeriod: string;
  billableUnits: number;
  rateMicros: number;
  amountMicros: bigint;
  writtenOffMicros: bigint;
  originalInvoiceId: string | null;
  reason: string | null;
}

/** A new empty draft: who, which month, on what terms, measured up to which cutoff. */
export type NewDraft = Pick<InvoiceRow, 'id' | 'advertiserId' | 'period' | 'currency' | 'timezone' | 'periodStart' | 'periodEnd' | 'cutoffAt' | 'cutoffEventId'>;

/** What other invoices bill of one line item and month. */
export interface BilledLineItem extends BilledUsage {
  campaignId: string;
  lineItemId: string;
}

export interface InvoiceFilter {
  advertiserId?: string;
  period?: string;
  status?: InvoiceStatus;
  /** (createdAt, id) of the last row of the previous page. */
  before?: { createdAt: Date; id: string };
  limit: number;
  /** Rows skipped (`?page=`). */
  offset?: number;
}

/** Billed per advertiser, month and line item by invoices that are not void, for reconciliation. */
export interface InvoicedUsage {
  advertiserId: string;
  servicePeriod: string;
  lineItemId: string;
  units: number;
  spendMilli: bigint;
}

type Raw = Record<string, unknown>;
const big = sqlBigInt;

function toInvoice(r: Raw): InvoiceRow {
  return {
    id: r.id as string,
    number: (r.number as string | null) ?? null,
    advertiserId: r.advertiser_id as string,
    period: r.period as string,
    currency: r.currency as string,
    timezone: r.timezone as string,
    periodStart: r.period_start as Date,
    periodEnd: r.period_end as Date,
    status: r.status as InvoiceStatus,
    cutoffAt: r.cutoff_at as Date,
    cutoffEventId: Number(r.cutoff_event_id),
    issuedAt: (r.issued_at as Date | null) ?? null,
    dueAt: (r.due_at as Date | null) ?? null,
    paidAt: (r.paid_at as Date | null) ?? null,
    voidedAt: (r.voided_at as Date | null) ?? null,
    voidReason: (r.void_reason as string | null) ?? null,
    replacedBy: (r.replaced_by as string | null) ?? null,
    subtotalMicros: big(r.subtotal_micros),
    adjustmentsMicros: big(r.adjustments_micros),
    totalMicros: big(r.total_micros),
    writtenOffMicros: big(r.written_off_micros),
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

/** The SQL of invoices, their lines and numbers. Callers pass the transaction's manager. */
@Injectable()
export class InvoiceRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async find(m: EntityManager, id: string, lock = false): Promise<InvoiceRow | null> {
    const [row] = (await m.query(`SELECT * FROM invoices WHERE id = ?${lock ? ' FOR UPDATE' : ''}`, [id])) as Raw[];
    return row ? toInvoice(row) : null;
  }

  async findDraft(m: EntityManager, advertiserId: string, period: string, lock = false): Promise<InvoiceRow | null> {
    const [row] = (await m.query(`SELECT * FROM invoices WHERE advertiser_id = ? AND period = ? AND open_draft = 1${lock ? ' FOR UPDATE' : ''}`, [advertiserId, period])) as Raw[];
    return row ? toInvoice(row) : null;
  }

  async findLive(m: EntityManager, advertiserId: string, period: string): Promise<InvoiceRow | null> {
    const [row] = (await m.query('SELECT * FROM invoices WHERE advertiser_id = ? AND period = ? AND live = 1', [advertiserId, period])) as Raw[];
    return row ? toInvoice(row) : null;
  }

  /** Issued or paid invoices of an advertiser for months in [fromPeriod, beforePeriod). */
  async liveBetween(m: EntityManager, advertiserId: string, fromPeriod: string, beforePeriod: string): Promise<InvoiceRow[]> {
    const rows = (await m.query('SELECT * FROM invoices WHERE advertiser_id = ? AND live = 1 AND period >= ? AND period < ? ORDER BY period', [advertiserId, fromPeriod, beforePeriod])) as Raw[];
    return rows.map(toInvoice);
  }

  /** Inserts an empty draft unless the advertiser already has one for the period (the unique key decides, whoever races). */
  async insertDraftIfAbsent(m: EntityManager, draft: NewDraft): Promise<void> {
    await m.query(
      `INSERT IGNORE INTO invoices (id, advertiser_id, period, currency, timezone, period_start, period_end, status, cutoff_at, cutoff_event_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, NOW(3), NOW(3))`,
      [draft.id, draft.advertiserId, draft.period, draft.currency, draft.timezone, draft.periodStart, draft.periodEnd, draft.cutoffAt, draft.cutoffEventId],
    );
  }

  /** What invoices other than `exceptId` bill of an advertiser's months, per month and line item (void ones excluded). */
  async billedElsewhere(m: EntityManager, advertiserId: string, periods: string[], exceptId: string): Promise<Map<string, BilledLineItem>> {
    if (periods.length === 0) return new Map();
    const rows = (await m.query(
      `SELECT l.service_period, l.line_item_id, MIN(l.campaign_id) AS campaign_id, SUM(l.billable_units) AS units, SUM(l.spend_mmicros) AS spend,
         SUM(l.amount_micros) AS amount, SUM(l.written_off_mmicros) AS off_spend, SUM(l.written_off_micros) AS off_amount
       FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
       WHERE l.advertiser_id = ? AND l.service_period IN (?) AND i.status <> 'void' AND i.id <> ?
       GROUP BY l.service_period, l.line_item_id`,
      [advertiserId, periods, exceptId],
    )) as Raw[];
    return new Map(
      rows.map((r) => [
        billedKey(r.service_period as string, r.line_item_id as string),
        {
          campaignId: r.campaign_id as string,
          lineItemId: r.line_item_id as string,
          units: Number(r.units),
          spendMilli: big(r.spend),
          amountMicros: big(r.amount),
          writtenOffMilli: big(r.off_spend),
          writtenOffMicros: big(r.off_amount),
        },
      ]),
    );
  }

  /** Replaces a draft's lines and totals (the caller holds the draft's row lock, in one transaction). */
  async replaceDraft(m: EntityManager, invoice: InvoiceRow, lines: DraftLine[], totals: DraftTotals, cutoff: { at: Date; eventId: number }): Promise<void> {
    await m.query('DELETE FROM invoice_lines WHERE invoice_id = ?', [invoice.id]);
    const LINES_PER_INSERT = 500;
    for (let i = 0; i < lines.length; i += LINES_PER_INSERT) {
      const values = lines.slice(i, i + LINES_PER_INSERT).map((l, j) => [
        invoice.id,
        i + j + 1,
        l.kind,
        invoice.advertiserId,
        l.campaignId,
        l.lineItemId,
        l.pricingModel,
        l.servicePeriod,
        l.billableUnits,
        l.rateMicros,
        l.spendMilli.toString(),
        l.amountMicros.toString(),
        l.writtenOffMilli.toString(),
        l.writtenOffMicros.toString(),
        l.originalInvoiceId,
        l.reason,
      ]);
      await m.query(
        `INSERT INTO invoice_lines (invoice_id, position, kind, advertiser_id, campaign_id, line_item_id, pricing_model, service_period, billable_units, rate_micros,
           spend_mmicros, amount_micros, written_off_mmicros, written_off_micros, original_invoice_id, reason) VALUES ?`,
        [values],
      );
    }
    await m.query(
      `UPDATE invoices SET currency = ?, timezone = ?, period_start = ?, period_end = ?, cutoff_at = ?, cutoff_event_id = ?,
         subtotal_micros = ?, adjustments_micros = ?, total_micros = ?, written_off_micros = ?, updated_at = NOW(3) WHERE id = ? AND status = 'draft'`,
      [
        invoice.currency,
        invoice.timezone,
        invoice.periodStart,
        invoice.periodEnd,
        cutoff.at,
        cutoff.eventId,
        totals.subtotalMicros.toString(),
        totals.adjustmentsMicros.toString(),
        totals.totalMicros.toString(),
        totals.writtenOffMicros.toString(),
        invoice.id,
      ],
    );
  }

  async deleteDraft(m: EntityManager, id: string): Promise<void> {
    await m.query('DELETE FROM invoice_lines WHERE invoice_id = ?', [id]);
    await m.query("DELETE FROM invoices WHERE id = ? AND status = 'draft'", [id]);
  }

  /** The next number of a year, gapless: the counter row stays locked until the issuing transaction ends. */
  async nextNumber(m: EntityManager, year: number): Promise<number> {
    await m.query('INSERT IGNORE INTO invoice_number_counters (year, last_number) VALUES (?, 0)', [year]);
    const [row] = (await m.query('SELECT last_number FROM invoice_number_counters WHERE year = ? FOR UPDATE', [year])) as Raw[];
    const next = Number(row.last_number) + 1;
    await m.query('UPDATE invoice_number_counters SET last_number = ? WHERE year = ?', [next, year]);
    return next;
  }

  async markIssued(m: EntityManager, id: string, number: string, issuedAt: Date, dueAt: Date): Promise<void> {
    await m.query("UPDATE invoices SET status = 'issued', number = ?, issued_at = ?, due_at = ?, updated_at = ? WHERE id = ? AND status = 'draft'", [number, issuedAt, dueAt, issuedAt, id]);
  }

  async markPaid(m: EntityManager, id: string, paidAt: Date): Promise<void> {
    await m.query("UPDATE invoices SET status = 'paid', paid_at = ?, updated_at = ? WHERE id = ? AND status = 'issued'", [paidAt, paidAt, id]);
  }

  async markVoid(m: EntityManager, id: string, at: Date, reason: string | null, replacedBy: string): Promise<void> {
    await m.query("UPDATE invoices SET status = 'void', voided_at = ?, void_reason = ?, replaced_by = ?, updated_at = ? WHERE id = ? AND status = 'issued'", [at, reason, replacedBy, at, id]);
  }

  async lines(m: EntityManager, invoiceIds: string[]): Promise<Map<string, InvoiceLineRow[]>> {
    const out = new Map<string, InvoiceLineRow[]>(invoiceIds.map((id) => [id, []]));
    if (invoiceIds.length === 0) return out;
    const rows = (await m.query('SELECT * FROM invoice_lines WHERE invoice_id IN (?) ORDER BY invoice_id, position', [invoiceIds])) as Raw[];
    for (const r of rows) {
      out.get(r.invoice_id as string)!.push({
        kind: r.kind as 'usage' | 'adjustment',
        campaignId: r.campaign_id as string,
        lineItemId: r.line_item_id as string,
        pricingModel: r.pricing_model as PricingModel,
        servicePeriod: r.service_period as string,
        billableUnits: Number(r.billable_units),
        rateMicros: Number(r.rate_micros),
        amountMicros: big(r.amount_micros),
        writtenOffMicros: big(r.written_off_micros),
        originalInvoiceId: (r.original_invoice_id as string | null) ?? null,
        reason: (r.reason as string | null) ?? null,
      });
    }
    return out;
  }

  async list(m: EntityManager, f: InvoiceFilter): Promise<InvoiceRow[]> {
    const where = sqlWhere([
      f.advertiserId && ['advertiser_id = ?', f.advertiserId],
      f.period && ['period = ?', f.period],
      f.status && ['status = ?', f.status],
      f.before && ['(created_at < ? OR (created_at = ? AND id < ?))', f.before.createdAt, f.before.createdAt, f.before.id],
    ]);
    const rows = (await m.query(`SELECT * FROM invoices ${where.sql} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, [...where.params, f.limit, f.offset ?? 0])) as Raw[];
    return rows.map(toInvoice);
  }

  /** (advertiser, period) pairs that have an invoice that is not void, among the given periods. */
  async invoicedPairs(m: EntityManager, periods: string[]): Promise<Set<string>> {
    if (periods.length === 0) return new Set();
    const rows = (await m.query("SELECT DISTINCT advertiser_id, period FROM invoices WHERE period IN (?) AND status <> 'void'", [periods])) as Raw[];
    return new Set(rows.map((r) => `${r.advertiser_id as string}|${r.period as string}`));
  }

  /** Advertisers with an issued or paid invoice for a month in [fromPeriod, beforePeriod). */
  async advertisersWithLiveInvoicesBetween(m: EntityManager, fromPeriod: string, beforePeriod: string): Promise<string[]> {
    const rows = (await m.query('SELECT DISTINCT advertiser_id FROM invoices WHERE live = 1 AND period >= ? AND period < ?', [fromPeriod, beforePeriod])) as Raw[];
    return rows.map((r) => r.advertiser_id as string);
  }

  async invoicedUsage(m: EntityManager, periods: string[]): Promise<InvoicedUsage[]> {
    if (periods.length === 0) return [];
    const rows = (await m.query(
      `SELECT l.advertiser_id, l.service_period, l.line_item_id, SUM(l.billable_units) AS units, SUM(l.spend_mmicros) AS spend
       FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE l.service_period IN (?) AND i.status <> 'void'
       GROUP BY l.advertiser_id, l.service_period, l.line_item_id`,
      [periods],
    )) as Raw[];
    return rows.map((r) => ({ advertiserId: r.advertiser_id as string, servicePeriod: r.service_period as string, lineItemId: r.line_item_id as string, units: Number(r.units), spendMilli: big(r.spend) }));
  }
}
