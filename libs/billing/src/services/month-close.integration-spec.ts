import { AdvertiserEntity, LineItemEntity } from '@app/campaigns';
import { RollupReader } from '@app/measurement';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MigratedDatabase } from '../../../../test/support/migrated-database';
import { InvoiceRepository } from '../repositories/invoice.repository';
import { InvoicesService } from './invoices.service';
import { MonthCloseService } from './month-close.service';

/**
 * The month close and its deadline SLA on a real MariaDB database: which advertisers owe last month's
 * draft. Usage is written as quarter rollups (what measurement bills from); `now` is a day of
 * December 2026, four days and 17 hours past the deadline (06:00 UTC on 2 December).
 */
describe('month close (real MySQL)', () => {
  const database = new MigratedDatabase(`adp_int_month_close_${process.pid}`, 3, [AdvertiserEntity, LineItemEntity]);
  const now = Date.parse('2026-12-06T23:00:00Z');
  const DEADLINE_HOUR = 6;
  let dataSource: DataSource;
  let invoices: InvoicesService;
  let monthClose: MonthCloseService;

  beforeAll(async () => {
    dataSource = await database.open();
    const repo = new InvoiceRepository(dataSource);
    const rollups = new RollupReader(dataSource, database.config);
    invoices = new InvoicesService(repo, rollups, database.config);
    monthClose = new MonthCloseService(invoices, repo, rollups);
  }, 120_000);

  afterAll(() => database.drop());

  async function advertiser(): Promise<string> {
    const id = randomUUID();
    await dataSource.query("INSERT INTO advertisers (id, name, currency, timezone, created_at, updated_at, created_by, updated_by) VALUES (?, 'A', 'USD', 'UTC', NOW(3), NOW(3), 'test', 'test')", [id]);
    return id;
  }

  /** `events` billable events of one line item in the quarter-hour starting at `quarter`, at 1,000 µ each. */
  async function usage(advertiserId: string, quarter: string, events: number, lineItemId = randomUUID()): Promise<void> {
    await dataSource.query('INSERT INTO event_rollups_quarter (campaign_id, quarter, line_item_id, advertiser_id, impressions, billable_events, spend_mmicros) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      randomUUID(),
      new Date(quarter),
      lineItemId,
      advertiserId,
      events,
      events,
      events * 1_000_000,
    ]);
  }

  async function issue(advertiserId: string, period: string): Promise<string> {
    const [draft] = await invoices.generate(period, advertiserId);
    expect(draft).toMatchObject({ period, status: 'draft' });
    expect((await invoices.issue(draft.id)).status).toBe('issued');
    return draft.id;
  }

  it('owes nothing for an advertiser whose only usage and issued invoice are of the current month', async () => {
    const a = await advertiser();
    await usage(a, '2026-12-03T10:00:00Z', 5);
    await issue(a, '2026-12');
    expect(await invoices.generate('2026-11', a)).toEqual([]);
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(0);
    expect(await monthClose.close(now)).toEqual({ drafted: 0, advertisers: 1 });
  });

  it('owes nothing for an advertiser with an issued earlier month and neither usage nor late usage since', async () => {
    const b = await advertiser();
    await usage(b, '2026-10-10T10:00:00Z', 3);
    await issue(b, '2026-10');
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(0);
    expect((await monthClose.close(now)).drafted).toBe(0);
  });

  it("owes last month's draft for late usage of an issued month, with no usage of its own, and drafts it as an adjustment", async () => {
    const c = await advertiser();
    const lineItemId = randomUUID();
    await usage(c, '2026-10-10T10:00:00Z', 3, lineItemId);
    const october = await issue(c, '2026-10');
    await usage(c, '2026-10-31T23:45:00Z', 2, lineItemId);
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(113);
    expect((await monthClose.close(now)).drafted).toBe(1);
    const [november] = (await invoices.list({ advertiserId: c, period: '2026-11', limit: 10 }, { kind: 'admin', keyId: 'admin' })).data;
    expect(november.lines).toEqual([expect.objectContaining({ kind: 'adjustment', servicePeriod: '2026-10', billableUnits: 2, originalInvoiceId: october })]);
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(0);
  });

  it("owes last month's draft for its usage until the month close drafts it", async () => {
    const d = await advertiser();
    await usage(d, '2026-11-30T23:45:00Z', 1);
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(113);
    expect((await monthClose.close(now)).drafted).toBe(1);
    expect(await monthClose.hoursPastDraftDeadline(DEADLINE_HOUR, now)).toBe(0);
  });
});
