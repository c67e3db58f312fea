import { AdvertiserEntity } from '@app/campaigns';
import { LineItemSpend, RollupReader } from '@app/measurement';
import { monthRange, periodOf, previousPeriod } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InvoiceRepository } from '../repositories/invoice.repository';

export type ReconciliationState = 'ok' | 'pending' | 'mismatch';

export interface ReconciliationRow {
  advertiserId: string;
  period: string;
  lineItemId: string;
  checkedAt: Date;
  watermark: number;
  invoiced: { units: number; mmicros: bigint };
  rollup: { units: number; mmicros: bigint };
  /** Null when part of the month's raw events is past retention (dropped): then only invoices and rollups are compared. */
  raw: { units: number; mmicros: bigint } | null;
  state: ReconciliationState;
}

const zero = { units: 0, mmicros: 0n };

/**
 * Checks, for the current and the previous month of every advertiser (in its zone), that what its
 * invoices bill = the rollups' spend = a recomputation from raw events, per line item. The rollups and
 * the raw events are read in one consistent snapshot, up to one watermark. A rollup that disagrees with
 * its raw events, or invoices billing more than was measured, is a mismatch; measured usage not yet on
 * an invoice (the running month, late events awaiting their adjustment) is pending.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rollups: RollupReader,
    private readonly invoices: InvoiceRepository,
  ) {}

  async reconcile(now: number = Date.now()): Promise<{ checked: number; mismatches: number }> {
    const advertisers = await this.dataSource.getRepository(AdvertiserEntity).find({ select: { id: true, timezone: true } });
    const months = advertisers.flatMap((a) => {
      const current = periodOf(now, a.timezone);
      return [previousPeriod(current), current].map((period) => ({ advertiserId: a.id, ...monthRange(period, a.timezone) }));
    });
    if (months.length === 0) return { checked: 0, mismatches: 0 };
    const rows = await this.dataSource.transaction('REPEATABLE READ', async (m) => {
      // The first read fixes the snapshot: the watermark, rollups and raw events below agree with each other.
      const cutoff = await this.rollups.cutoff(m);
      // Months that began before the raw events still kept are not recomputed from them (their start is gone).
      const rawFrom = await this.rollups.rawEventsCompleteFrom(m);
      const periods = [...new Set(months.map((mo) => mo.period))];
      const out: ReconciliationRow[] = [];
      const rangesOf = periods.map((period) => months.filter((mo) => mo.period === period).map((mo) => ({ advertiserId: mo.advertiserId, fromMs: mo.startMs, toMs: mo.endMs })));
      // Every month from one pass over the raw events.
      const raws = await this.rollups.recomputeMonthsFromRawEvents(
        rangesOf.map((ranges) => ranges.filter((r) => r.fromMs >= rawFrom)),
        cutoff.eventId,
        m,
      );
      for (const [i, period] of periods.entries()) {
        const ranges = rangesOf[i];
        const rollup = await this.rollups.spendByLineItem(ranges, m);
        const ids = new Set(ranges.map((r) => r.advertiserId));
        const rawChecked = new Set(ranges.filter((r) => r.fromMs >= rawFrom).map((r) => r.advertiserId));
        const invoiced = (await this.invoices.invoicedUsage(m, [period])).filter((u) => ids.has(u.advertiserId));
        out.push(...this.compare(period, cutoff.eventId, rollup, raws[i], invoiced, rawChecked));
      }
      return out;
    });
    await this.dataSource.transaction(async (m) => this.store(m, months, rows));
    const mismatches = rows.filter((r) => r.state === 'mismatch');
    for (const r of mismatches) {
      this.logger.error(
        `billing reconciliation mismatch: advertiser ${r.advertiserId} ${r.period} line item ${r.lineItemId}: invoiced ${r.invoiced.mmicros} rollup ${r.rollup.mmicros} raw ${r.raw?.mmicros ?? 'not recomputed (past retention)'} mmicros`,
      );
    }
    return { checked: rows.length, mismatches: mismatches.length };
  }

  /** The latest check of an advertiser's month. */
  /** Lines found in disagreement by the latest reconciliation of their month (the reconciliation SLA's value). */
  async mismatchCount(): Promise<number> {
    const [row] = (await this.dataSource.query("SELECT COUNT(*) AS n FROM invoice_reconciliations WHERE state = 'mismatch'")) as Array<{ n: string }>;
    return Number(row?.n ?? 0);
  }

  async ofMonth(advertiserId: string, period: string): Promise<ReconciliationRow[]> {
    const rows = (await this.dataSource.query('SELECT * FROM invoice_reconciliations WHERE advertiser_id = ? AND period = ? ORDER BY line_item_id', [advertiserId, period])) as Array<
      Record<string, unknown>
    >;
    const big = (v: unknown) => BigInt(String(v));
    return rows.map((r) => ({
      advertiserId: r.advertiser_id as string,
      period: r.period as string,
      lineItemId: r.line_item_id as string,
      checkedAt: r.checked_at as Date,
      watermark: Number(r.watermark),
      invoiced: { units: Number(r.invoiced_units), mmicros: big(r.invoiced_mmicros) },
      rollup: { units: Number(r.rollup_units), mmicros: big(r.rollup_mmicros) },
      raw: r.raw_units === null ? null : { units: Number(r.raw_units), mmicros: big(r.raw_mmicros) },
      state: r.state as ReconciliationState,
    }));
  }

  private compare(
    period: string,
    watermark: number,
    rollup: LineItemSpend[],
    raw: LineItemSpend[],
    invoiced: Array<{ advertiserId: string; lineItemId: string; units: number; spendMilli: bigint }>,
    rawChecked: ReadonlySet<string>,
  ): ReconciliationRow[] {
    const rows = new Map<string, ReconciliationRow>();
    const row = (advertiserId: string, lineItemId: string) => {
      const key = `${advertiserId}|${lineItemId}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { advertiserId, period, lineItemId, checkedAt: new Date(), watermark, invoiced: zero, rollup: zero, raw: rawChecked.has(advertiserId) ? zero : null, state: 'ok' }));
      return r;
    };
    for (const s of rollup) row(s.advertiserId, s.lineItemId).rollup = { units: s.billableEvents, mmicros: s.spendMilliMicros };
    for (const s of raw) row(s.advertiserId, s.lineItemId).raw = { units: s.billableEvents, mmicros: s.spendMilliMicros };
    for (const s of invoiced) row(s.advertiserId, s.lineItemId).invoiced = { units: s.units, mmicros: s.spendMilli };
    for (const r of rows.values()) {
      const rawDiffers = r.raw !== null && (r.rollup.units !== r.raw.units || r.rollup.mmicros !== r.raw.mmicros);
      const overBilled = r.invoiced.mmicros > r.rollup.mmicros || r.invoiced.units > r.rollup.units;
      const unbilled = r.invoiced.mmicros !== r.rollup.mmicros || r.invoiced.units !== r.rollup.units;
      r.state = rawDiffers || overBilled ? 'mismatch' : unbilled ? 'pending' : 'ok';
    }
    return [...rows.values()];
  }

  private async store(m: EntityManager, months: Array<{ advertiserId: string; period: string }>, rows: ReconciliationRow[]): Promise<void> {
    for (const period of new Set(months.map((mo) => mo.period))) {
      const ids = months.filter((mo) => mo.period === period).map((mo) => mo.advertiserId);
      for (let i = 0; i < ids.length; i += 500) await m.query('DELETE FROM invoice_reconciliations WHERE period = ? AND advertiser_id IN (?)', [period, ids.slice(i, i + 500)]);
    }
    for (let i = 0; i < rows.length; i += 500) {
      const values = rows
        .slice(i, i + 500)
        .map((r) => [r.advertiserId, r.period, r.lineItemId, r.checkedAt, r.watermark, r.invoiced.units, String(r.invoiced.mmicros), r.rollup.units, String(r.rollup.mmicros), r.raw?.units ?? null, r.raw ? String(r.raw.mmicros) : null, r.state]);
      await m.query(
        `INSERT INTO invoice_reconciliations (advertiser_id, period, line_item_id, checked_at, watermark, invoiced_units, invoiced_mmicros, rollup_units, rollup_mmicros, raw_units, raw_mmicros, state) VALUES ?`,
        [values],
      );
    }
  }
}
