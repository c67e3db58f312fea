import { AdvertiserRepository } from '@app/campaigns';
import { LineItemSpend, RollupReader } from '@app/measurement';
import { monthRange, periodOf, previousPeriod } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InvoiceRepository, InvoicedUsage } from '../repositories/invoice.repository';
import { ReconciliationRepository, ReconciliationRow, ReconciliationState } from '../repositories/reconciliation.repository';

export type { ReconciliationRow, ReconciliationState };

const zero = { units: 0, mmicros: 0n };

/**
 * One month's lines, compared: a rollup that disagrees with its raw events, or invoices billing more
 * than the rollups measured, is a mismatch; measured usage not (yet) all invoiced is pending.
 */
export function reconcileMonth(
  check: { period: string; watermark: number; checkedAt: Date },
  rollup: LineItemSpend[],
  raw: LineItemSpend[],
  invoiced: Array<Pick<InvoicedUsage, 'advertiserId' | 'lineItemId' | 'units' | 'spendMilli'>>,
  /** Advertisers whose month is still wholly in the raw events; the others' raw figures are not compared (null). */
  rawChecked: ReadonlySet<string>,
): ReconciliationRow[] {
  const rows = new Map<string, ReconciliationRow>();
  const row = (advertiserId: string, lineItemId: string) => {
    const key = `${advertiserId}|${lineItemId}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { advertiserId, period: check.period, lineItemId, checkedAt: check.checkedAt, watermark: check.watermark, invoiced: zero, rollup: zero, raw: rawChecked.has(advertiserId) ? zero : null, state: 'ok' }));
    return r;
  };
  for (const s of rollup) row(s.advertiserId, s.lineItemId).rollup = { units: s.billableEvents, mmicros: s.spendMilliMicros };
  for (const s of raw) if (rawChecked.has(s.advertiserId)) row(s.advertiserId, s.lineItemId).raw = { units: s.billableEvents, mmicros: s.spendMilliMicros };
  for (const s of invoiced) row(s.advertiserId, s.lineItemId).invoiced = { units: s.units, mmicros: s.spendMilli };
  for (const r of rows.values()) {
    const rawDiffers = r.raw !== null && (r.rollup.units !== r.raw.units || r.rollup.mmicros !== r.raw.mmicros);
    const overBilled = r.invoiced.mmicros > r.rollup.mmicros || r.invoiced.units > r.rollup.units;
    const unbilled = r.invoiced.mmicros !== r.rollup.mmicros || r.invoiced.units !== r.rollup.units;
    r.state = rawDiffers || overBilled ? 'mismatch' : unbilled ? 'pending' : 'ok';
  }
  return [...rows.values()];
}

/**
 * Checks, for the current and the previous month of every advertiser (in its zone), that what its
 * invoices bill = the rollups' spend = a recomputation from raw events, per line item. The rollups and
 * the raw events are read in one consistent snapshot, up to one watermark (see reconcileMonth for
 * what is a mismatch and what is pending).
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    private readonly rollups: RollupReader,
    private readonly invoices: InvoiceRepository,
    private readonly results: ReconciliationRepository,
  ) {}

  async reconcile(now: number = Date.now()): Promise<{ checked: number; mismatches: number }> {
    const advertisers = await new AdvertiserRepository(this.invoices.dataSource.manager).accounts();
    const months = advertisers.flatMap((a) => {
      const current = periodOf(now, a.timezone);
      return [previousPeriod(current), current].map((period) => ({ advertiserId: a.id, ...monthRange(period, a.timezone) }));
    });
    if (months.length === 0) return { checked: 0, mismatches: 0 };
    const rows = await this.invoices.dataSource.transaction('REPEATABLE READ', async (m) => {
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
        out.push(...reconcileMonth({ period, watermark: cutoff.eventId, checkedAt: new Date() }, rollup, raws[i], invoiced, rawChecked));
      }
      return out;
    });
    await this.results.replace(months, rows);
    const mismatches = rows.filter((r) => r.state === 'mismatch');
    for (const r of mismatches) {
      this.logger.error(
        `billing reconciliation mismatch: advertiser ${r.advertiserId} ${r.period} line item ${r.lineItemId}: invoiced ${r.invoiced.mmicros} rollup ${r.rollup.mmicros} raw ${r.raw?.mmicros ?? 'not recomputed (past retention)'} mmicros`,
      );
    }
    return { checked: rows.length, mismatches: mismatches.length };
  }

  /** Lines found in disagreement by the latest reconciliation of their month (the reconciliation SLA's value). */
  mismatchCount(): Promise<number> {
    return this.results.mismatchCount();
  }

  /** The latest check of an advertiser's month. */
  ofMonth(advertiserId: string, period: string): Promise<ReconciliationRow[]> {
    return this.results.ofMonth(advertiserId, period);
  }
}
