import { AdvertiserRepository } from '@app/campaigns';
import { RollupReader } from '@app/measurement';
import { instantOfWall, monthRange, periodOf, previousPeriod } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InvoiceRepository } from '../repositories/invoice.repository';
import { InvoicesService } from './invoices.service';

/**
 * Month close: every advertiser whose previous month (in its own zone) has no invoice yet gets its
 * draft. Runs often (a month ends at a different instant in every zone); advertisers already drafted
 * cost nothing but one probe of the rollups each.
 */
@Injectable()
export class MonthCloseService {
  private readonly logger = new Logger(MonthCloseService.name);

  constructor(
    private readonly invoices: InvoicesService,
    private readonly repo: InvoiceRepository,
    private readonly rollups: RollupReader,
  ) {}

  async close(now: number = Date.now()): Promise<{ drafted: number; advertisers: number }> {
    const { due, advertisers } = await this.undrafted(now);
    let drafted = 0;
    for (const d of due) {
      if (await this.invoices.generateOne(d.id, d.period)) drafted++;
    }
    if (drafted > 0) this.logger.log(`month close: ${drafted} draft invoice(s) made`);
    return { drafted, advertisers };
  }

  /**
   * The deadline SLA of the month close: hours by which the latest advertiser with something to bill
   * is past `deadlineHour` of day 2 of its month (its own timezone) without a draft of the month
   * before; 0 when every such invoice exists or no deadline has passed.
   */
  async hoursPastDraftDeadline(deadlineHour: number, now: number = Date.now()): Promise<number> {
    const { due } = await this.undrafted(now);
    return hoursPastDeadline(due, deadlineHour, now);
  }

  /**
   * Advertisers whose previous month (in their zone) has something to bill and no invoice yet:
   * usage in that month, or adjustments due (late usage of an issued month its draft looks back on).
   */
  private async undrafted(now: number): Promise<{ due: UndraftedMonth[]; advertisers: number }> {
    const m = this.repo.dataSource.manager;
    const advertisers = await new AdvertiserRepository(m).accounts();
    const periods = advertisers.map((a) => ({ advertiser: a, period: previousPeriod(periodOf(now, a.timezone)) }));
    const invoiced = await this.repo.invoicedPairs(m, [...new Set(periods.map((d) => d.period))]);
    const due = periods.filter((d) => !invoiced.has(`${d.advertiser.id}|${d.period}`));
    const ranges = due.map((d) => {
      const range = monthRange(d.period, d.advertiser.timezone);
      return { advertiserId: d.advertiser.id, fromMs: range.startMs, toMs: range.endMs };
    });
    // A probe that stops at the first billable quarter: each draft then reads its month once, itself.
    const billable = await this.rollups.advertisersWithUsage(ranges);
    for (const id of await this.invoices.withAdjustmentsDue(due.filter((d) => !billable.has(d.advertiser.id)))) billable.add(id);
    return {
      due: due.filter((d) => billable.has(d.advertiser.id)).map((d) => ({ id: d.advertiser.id, period: d.period, timezone: d.advertiser.timezone })),
      advertisers: advertisers.length,
    };
  }
}

export interface UndraftedMonth {
  id: string;
  /** The month to bill, `YYYY-MM`. */
  period: string;
  timezone: string;
}

/**
 * Hours past the draft deadline (`deadlineHour`:00 on day 2 of the month after `period`, local time
 * of each zone) of the latest undrafted month, or 0.
 */
export function hoursPastDeadline(due: readonly UndraftedMonth[], deadlineHour: number, now: number): number {
  let worst = 0;
  for (const d of due) {
    const next = monthRange(d.period, d.timezone).endMs;
    const [year, month] = periodOf(next, d.timezone).split('-').map(Number);
    const deadline = instantOfWall(d.timezone, Date.UTC(year, month - 1, 2, deadlineHour));
    if (now > deadline) worst = Math.max(worst, (now - deadline) / 3_600_000);
  }
  return Math.round(worst * 100) / 100;
}
