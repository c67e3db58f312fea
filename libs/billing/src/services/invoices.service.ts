import { AdvertiserAccount, AdvertiserRepository, LineItemRepository } from '@app/campaigns';
import { RollupReader } from '@app/measurement';
import { PERIOD_PATTERN, PlatformConfig, Principal, UUID_PATTERN, invalidField, monthRange, pageOffset, previousPeriod, scopeOf, uuidv7 } from '@app/platform';
import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { InvoiceFilter, InvoiceLineRow, InvoiceRepository, InvoiceRow, InvoiceStatus } from '../repositories/invoice.repository';
import { DraftLine, MeasuredUsage, draftLines, totalsOf } from './invoice-lines';

/** Earlier months whose late usage a draft picks up as adjustments (events arrive at most 48 h late, aggregation may lag). */
const ADJUSTMENT_LOOKBACK_MONTHS = 3;
const DAY_MS = 86_400_000;

/** The first month a draft of `period` looks back on for adjustments. */
function lookbackStart(period: string): string {
  let start = period;
  for (let i = 0; i < ADJUSTMENT_LOOKBACK_MONTHS; i++) start = previousPeriod(start);
  return start;
}

export interface InvoiceWithLines extends InvoiceRow {
  lines: InvoiceLineRow[];
}

/** What an invoice of `period` takes from its advertiser as it is now: currency, zone, and the month's bounds in that zone. */
function accountTermsOf(advertiser: AdvertiserAccount, period: string): Pick<InvoiceRow, 'currency' | 'timezone' | 'periodStart' | 'periodEnd'> {
  const range = monthRange(period, advertiser.timezone);
  return { currency: advertiser.currency, timezone: advertiser.timezone, periodStart: new Date(range.startMs), periodEnd: new Date(range.endMs) };
}

/**
 * Invoices: drafts made or refreshed from what measurement counts now, issued with the next gapless
 * number of the year, paid or voided. Every change runs in one transaction holding the invoice's row
 * lock; the database refuses any change to an invoice that is no longer a draft (triggers).
 */
/** Tries of one advertiser's draft when InnoDB picks it as a deadlock's victim. */
const DEADLOCK_TRIES = 10;

@Injectable()
export class InvoicesService {
  private readonly logger = new Logger(InvoicesService.name);

  constructor(
    private readonly repo: InvoiceRepository,
    private readonly rollups: RollupReader,
    private readonly config: PlatformConfig,
  ) {}

  /** Makes or refreshes the drafts of a month: one advertiser's, or every advertiser's. Idempotent. */
  async generate(period: string, advertiserId?: string): Promise<InvoiceWithLines[]> {
    if (!PERIOD_PATTERN.test(period)) throw invalidField('period', 'must be a month as YYYY-MM (2000-01 to 2999-12)');
    let advertiserIds: string[];
    if (advertiserId !== undefined) {
      if (!UUID_PATTERN.test(advertiserId) || !(await this.advertiser(this.repo.dataSource.manager, advertiserId))) throw new NotFoundException(`advertiser ${advertiserId} not found`);
      advertiserIds = [advertiserId];
    } else {
      advertiserIds = (await new AdvertiserRepository(this.repo.dataSource.manager).accounts()).map((a) => a.id);
    }
    const ids: string[] = [];
    for (const id of advertiserIds) {
      const draft = await this.generateOne(id, period);
      if (draft) ids.push(draft);
    }
    return this.withLines(this.repo.dataSource.manager, ids);
  }

  /**
   * One advertiser's draft of one month, made or refreshed in one transaction; null when the month is
   * already issued (its late usage goes on a later draft) or there is nothing to bill. Two processes
   * doing this at once serialize on the draft's unique key and row lock and leave one draft.
   */
  async generateOne(advertiserId: string, period: string): Promise<string | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.generateOnce(advertiserId, period);
      } catch (err) {
        // Two generators inserting the same draft can deadlock on its unique key: InnoDB rolls one back; run
        // it again after a random pause that grows with each try, so that the same generators do not meet
        // again at once (retried at once, eight concurrent generations of one month once ran out of tries).
        const errno = (err as { errno?: number; driverError?: { errno?: number } }).driverError?.errno ?? (err as { errno?: number }).errno;
        if (errno !== 1213 || attempt >= DEADLOCK_TRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  private generateOnce(advertiserId: string, period: string): Promise<string | null> {
    return this.repo.dataSource.transaction('READ COMMITTED', async (m) => {
      const advertiser = await this.advertiser(m, advertiserId);
      if (!advertiser) throw new NotFoundException(`advertiser ${advertiserId} not found`);
      if (await this.repo.findLive(m, advertiserId, period)) return null;
      const draft = await this.lockedDraft(m, uuidv7(), advertiser, period);
      // Issued by someone else between our check and our lock: nothing to draft.
      if (!draft || (await this.repo.findLive(m, advertiserId, period))) {
        if (draft) await this.repo.deleteDraft(m, draft.id);
        return null;
      }
      const count = await this.refreshLocked(m, draft, advertiser);
      if (count === 0) {
        await this.repo.deleteDraft(m, draft.id);
        return null;
      }
      return draft.id;
    });
  }

  /**
   * Recomputes a locked draft's lines from the rollups as they stand in this transaction: its own
   * month as usage, and late usage of earlier issued months as adjustments naming their invoices.
   * Returns the number of lines.
   */
  private async refreshLocked(m: EntityManager, draft: InvoiceRow, advertiser: AdvertiserAccount): Promise<number> {
    const invoice: InvoiceRow = { ...draft, ...accountTermsOf(advertiser, draft.period) };
    const cutoff = await this.rollups.cutoff(m);
    const lines = await this.linesOf(m, invoice);
    await this.repo.replaceDraft(m, invoice, lines, totalsOf(lines), cutoff);
    return lines.length;
  }

  /**
   * Of these advertiser months without an invoice, those whose draft would carry adjustments (late
   * usage of an earlier issued month it looks back on), whatever the month's own usage. Reads only,
   * the lines as a draft would compute them.
   */
  async withAdjustmentsDue(months: ReadonlyArray<{ advertiser: AdvertiserAccount; period: string }>): Promise<Set<string>> {
    const out = new Set<string>();
    if (months.length === 0) return out;
    const m = this.repo.dataSource.manager;
    const periods = months.map((d) => d.period).sort();
    // One query narrows the months to advertisers with an issued month in some lookback; each is then computed exactly.
    const issued = new Set(await this.repo.advertisersWithLiveInvoicesBetween(m, lookbackStart(periods[0]), periods[periods.length - 1]));
    for (const { advertiser, period } of months) {
      if (!issued.has(advertiser.id)) continue;
      // No draft yet: nothing of the month is billed by an invoice that `linesOf` should leave out.
      const lines = await this.linesOf(m, { id: '', advertiserId: advertiser.id, period, ...accountTermsOf(advertiser, period) });
      if (lines.some((l) => l.kind === 'adjustment')) out.add(advertiser.id);
    }
    return out;
  }

  /** The lines a draft of `invoice.period` would have now: see `refreshLocked`. */
  private async linesOf(m: EntityManager, invoice: Pick<InvoiceRow, 'id' | 'advertiserId' | 'period' | 'periodStart' | 'periodEnd'>): Promise<DraftLine[]> {
    const originals = await this.repo.liveBetween(m, invoice.advertiserId, lookbackStart(invoice.period), invoice.period);
    const measured: MeasuredUsage[] = [];
    // Each month over the bounds it was invoiced with (an advertiser's zone may have changed since).
    for (const month of [invoice, ...originals].map((o) => ({ period: o.period, fromMs: o.periodStart.getTime(), toMs: o.periodEnd.getTime() }))) {
      for (const s of await this.rollups.spendByLineItem([{ advertiserId: invoice.advertiserId, fromMs: month.fromMs, toMs: month.toMs }], m)) {
        measured.push({ servicePeriod: month.period, campaignId: s.campaignId, lineItemId: s.lineItemId, units: s.billableEvents, spendMilli: s.spendMilliMicros, writtenOffMilli: s.writtenOffMilliMicros });
      }
    }
    const periods = [invoice.period, ...originals.map((o) => o.period)];
    const billedElsewhere = await this.repo.billedElsewhere(m, invoice.advertiserId, periods, invoice.id);
    const lineItemIds = [...new Set([...measured.map((u) => u.lineItemId), ...[...billedElsewhere.values()].map((b) => b.lineItemId)])];
    const terms = await new LineItemRepository(m).termsOf(lineItemIds);
    return draftLines({ period: invoice.period, measured, billedElsewhere, originals: new Map(originals.map((o) => [o.period, o.id])), terms });
  }

  /**
   * draft -> issued: refreshes the lines to what is measured now (that is the cutoff), then takes the
   * next number of the year from a counter row locked until commit: gapless, never reused.
   */
  async issue(id: string): Promise<InvoiceWithLines> {
    await this.repo.dataSource.transaction('READ COMMITTED', async (m) => {
      const invoice = await this.locked(m, id);
      if (invoice.status !== 'draft') throw new ConflictException(`invoice ${id} is ${invoice.status}: only a draft can be issued`);
      if (await this.repo.findLive(m, invoice.advertiserId, invoice.period)) throw new ConflictException(`advertiser already has an issued invoice for ${invoice.period}`);
      const advertiser = await this.advertiser(m, invoice.advertiserId);
      if (!advertiser) throw new NotFoundException(`advertiser ${invoice.advertiserId} not found`);
      if ((await this.refreshLocked(m, invoice, advertiser)) === 0) throw new ConflictException(`invoice ${id} has nothing to bill: no usage measured for ${invoice.period}`);
      const now = new Date();
      const year = now.getUTCFullYear();
      const seq = await this.repo.nextNumber(m, year);
      await this.repo.markIssued(m, id, `INV-${year}-${String(seq).padStart(6, '0')}`, now, new Date(now.getTime() + this.config.INVOICE_PAYMENT_TERMS_DAYS * DAY_MS));
    });
    return this.get(id, undefined);
  }

  async pay(id: string): Promise<InvoiceWithLines> {
    await this.repo.dataSource.transaction('READ COMMITTED', async (m) => {
      const invoice = await this.locked(m, id);
      if (invoice.status !== 'issued') throw new ConflictException(`invoice ${id} is ${invoice.status}: only an issued invoice can be paid${invoice.status === 'draft' ? ' (issue it first)' : ''}`);
      await this.repo.markPaid(m, id, new Date());
    });
    return this.get(id, undefined);
  }

  /** issued -> void; its month's usage goes back on a new draft of the same month (a new number at issue). */
  async void(id: string, reason: string | null): Promise<InvoiceWithLines> {
    await this.repo.dataSource.transaction('READ COMMITTED', async (m) => {
      const invoice = await this.locked(m, id);
      if (invoice.status !== 'issued') throw new ConflictException(`invoice ${id} is ${invoice.status}: only an issued invoice can be voided`);
      const advertiser = await this.advertiser(m, invoice.advertiserId);
      if (!advertiser) throw new NotFoundException(`advertiser ${invoice.advertiserId} not found`);
      const replacementId = uuidv7();
      await this.repo.markVoid(m, id, new Date(), reason, replacementId);
      const draft = await this.lockedDraft(m, replacementId, advertiser, invoice.period);
      if (draft) await this.refreshLocked(m, draft, advertiser);
    });
    return this.get(id, undefined);
  }

  /** One invoice with its lines; another advertiser's answers 404 like a missing one. */
  async get(id: string, callerAdvertiserId: string | undefined): Promise<InvoiceWithLines> {
    const m = this.repo.dataSource.manager;
    const invoice = UUID_PATTERN.test(id) ? await this.repo.find(m, id) : null;
    if (!invoice || (callerAdvertiserId !== undefined && invoice.advertiserId !== callerAdvertiserId)) throw new NotFoundException(`invoice ${id} not found`);
    return (await this.withLines(m, [invoice.id]))[0];
  }

  async list(filter: Omit<InvoiceFilter, 'before' | 'offset'> & { cursor?: string; page?: number }, principal: Principal): Promise<{ data: InvoiceWithLines[]; next: string | null }> {
    const scope = scopeOf(principal);
    if (scope !== undefined && filter.advertiserId !== undefined && filter.advertiserId !== scope) return { data: [], next: null };
    let before: InvoiceFilter['before'];
    if (filter.cursor) {
      const invoice = UUID_PATTERN.test(filter.cursor) ? await this.repo.find(this.repo.dataSource.manager, filter.cursor) : null;
      if (!invoice) throw invalidField('cursor', 'must be the `next` value of a previous page');
      before = { createdAt: invoice.createdAt, id: invoice.id };
    }
    const rows = await this.repo.list(this.repo.dataSource.manager, {
      advertiserId: scope ?? filter.advertiserId,
      period: filter.period,
      status: filter.status,
      before,
      limit: filter.limit + 1,
      offset: pageOffset(filter, filter.limit),
    });
    const page = rows.slice(0, filter.limit);
    const data = await this.withLines(this.repo.dataSource.manager, page.map((r) => r.id));
    return { data, next: rows.length > filter.limit ? page[page.length - 1].id : null };
  }

  private async locked(m: EntityManager, id: string): Promise<InvoiceRow> {
    const invoice = UUID_PATTERN.test(id) ? await this.repo.find(m, id, true) : null;
    if (!invoice) throw new NotFoundException(`invoice ${id} not found`);
    return invoice;
  }

  private advertiser(m: EntityManager, id: string): Promise<AdvertiserAccount | null> {
    return new AdvertiserRepository(m).findOwned(id, undefined);
  }

  /**
   * The advertiser's open draft of the month, made empty under `id` (at the current cutoff) unless one
   * exists, and locked until the transaction ends; null when none is open (issued by someone else).
   */
  private async lockedDraft(m: EntityManager, id: string, advertiser: AdvertiserAccount, period: string): Promise<InvoiceRow | null> {
    const cutoff = await this.rollups.cutoff(m);
    await this.repo.insertDraftIfAbsent(m, { id, advertiserId: advertiser.id, period, ...accountTermsOf(advertiser, period), cutoffAt: cutoff.at, cutoffEventId: cutoff.eventId });
    return this.repo.findDraft(m, advertiser.id, period, true);
  }

  private async withLines(m: EntityManager, ids: string[]): Promise<InvoiceWithLines[]> {
    const out: InvoiceWithLines[] = [];
    const lines = await this.repo.lines(m, ids);
    for (const id of ids) {
      const invoice = await this.repo.find(m, id);
      if (invoice) out.push({ ...invoice, lines: lines.get(id) ?? [] });
    }
    return out;
  }
}

export type { InvoiceStatus };
