import { AdvertiserEntity } from '@app/campaigns';
import { RollupReader } from '@app/measurement';
import { monthRange, periodOf, previousPeriod } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InvoiceRepository } from '../repositories/invoice.repository';
import { InvoicesService } from './invoices.service';

/**
 * Month close: every advertiser whose previous month (in its own zone) has no invoice yet gets its
 * draft. Runs often (a month ends at a different instant in every zone); advertisers already drafted
 * cost nothing but one grouped read.
 */
@Injectable()
export class MonthCloseService {
  private readonly logger = new Logger(MonthCloseService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly invoices: InvoicesService,
    private readonly repo: InvoiceRepository,
    private readonly rollups: RollupReader,
  ) {}

  async close(now: number = Date.now()): Promise<{ drafted: number; advertisers: number }> {
    const advertisers = await this.dataSource.getRepository(AdvertiserEntity).find({ select: { id: true, timezone: true }, order: { id: 'ASC' } });
    const periods = advertisers.map((a) => ({ id: a.id, period: previousPeriod(periodOf(now, a.timezone)), timezone: a.timezone }));
    const invoiced = await this.repo.invoicedPairs(this.dataSource.manager, [...new Set(periods.map((d) => d.period))]);
    const due = periods.filter((d) => !invoiced.has(`${d.id}|${d.period}`));
    // Only advertisers with something to bill: usage in the month, or issued months that may have late usage.
    const ranges = due.map((d) => {
      const range = monthRange(d.period, d.timezone);
      return { advertiserId: d.id, fromMs: range.startMs, toMs: range.endMs };
    });
    const billable = new Set((await this.rollups.spendByLineItem(ranges)).filter((s) => s.billableEvents > 0 || s.writtenOffEvents > 0).map((s) => s.advertiserId));
    for (const id of await this.repo.advertisersWithLiveInvoicesSince(this.dataSource.manager, previousPeriod(previousPeriod(previousPeriod(periods[0]?.period ?? '2000-01'))))) billable.add(id);
    let drafted = 0;
    for (const d of due) {
      if (!billable.has(d.id)) continue;
      if (await this.invoices.generateOne(d.id, d.period)) drafted++;
    }
    if (drafted > 0) this.logger.log(`month close: ${drafted} draft invoice(s) made`);
    return { drafted, advertisers: advertisers.length };
  }
}
