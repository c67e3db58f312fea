import { offsetSpans } from '@app/platform';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MigratedDatabase } from '../../../../test/support/migrated-database';
import { AggregationWatermarkRepository } from './aggregation-watermark.repository';
import { RollupRepository } from './rollup.repository';
import { SpendLedgerRepository } from './spend-ledger.repository';

const isoDay = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value)).slice(0, 10);

/** Measurement's repositories on a real MariaDB database of their own (migrated as `npm start` does). */
describe('measurement repositories (real MySQL)', () => {
  const database = new MigratedDatabase(`adp_int_measure_${process.pid}`, 3);
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await database.open();
  }, 120_000);

  afterAll(() => database.drop());

  describe('RollupRepository', () => {
    const advertiserId = randomUUID();
    const campaignId = randomUUID();
    const lineItems = [randomUUID(), randomUUID()];
    const creativeId = randomUUID();
    // Europe/Paris leaves summer time at 2026-10-25 01:00 UTC: local days are 23, 25 then 24 hours long here.
    const from = new Date('2026-10-24T00:00:00Z');
    const to = new Date('2026-10-27T00:00:00Z');

    beforeAll(async () => {
      // One impression per hour and line item; line item 0 also spends 1,500 milli-micros an hour.
      const rows: unknown[][] = [];
      for (let h = 0; h < 72; h++) {
        const hour = new Date(from.getTime() + h * 3_600_000);
        rows.push([campaignId, hour, lineItems[0], creativeId, 'FR', 'ios', advertiserId, 1, 1, 1500]);
        rows.push([campaignId, hour, lineItems[1], creativeId, h % 2 === 0 ? 'FR' : 'DE', 'web', advertiserId, 1, 0, 0]);
      }
      await dataSource.query(
        'INSERT INTO event_rollups_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, impressions, billable_events, spend_mmicros) VALUES ?',
        [rows],
      );
    });

    it('cuts rows by local days across a change of offset, for an advertiser or one line item of a campaign', async () => {
      const repository = new RollupRepository(dataSource);
      const period = { localDays: offsetSpans('Europe/Paris', from.getTime(), to.getTime()) };
      const byDay = async (scope: Parameters<RollupRepository['sums']>[1]) =>
        (await repository.sums('hour', scope, period, [], from, to)).map((r) => [isoDay(r.cells.period), r.sums.impressions, r.sums.spend_mmicros]).sort();
      // Local days of Paris from UTC 2026-10-24 00:00: 22 hours of the 24th (UTC+2), the 25th whole (25 hours), 24 of the 26th, 1 of the 27th.
      expect(await byDay({ advertiserId })).toEqual([
        ['2026-10-24', 44, 33_000n],
        ['2026-10-25', 50, 37_500n],
        ['2026-10-26', 48, 36_000n],
        ['2026-10-27', 2, 1_500n],
      ]);
      expect(await byDay({ campaignId, lineItemId: lineItems[1] })).toEqual([
        ['2026-10-24', 22, 0n],
        ['2026-10-25', 25, 0n],
        ['2026-10-26', 24, 0n],
        ['2026-10-27', 1, 0n],
      ]);
    });

    it('splits by breakdown columns, and answers no row for a range without rollups', async () => {
      const repository = new RollupRepository(dataSource);
      const byCountry = await repository.sums('hour', { campaignId, lineItemId: lineItems[1] }, null, ['country'], from, to);
      expect(byCountry.map((r) => [r.cells.country, r.sums.impressions]).sort()).toEqual([
        ['DE', 36],
        ['FR', 36],
      ]);
      expect(await repository.sums('hour', { advertiserId }, null, [], to, new Date(to.getTime() + 3_600_000))).toEqual([]);
      expect(await repository.campaignsOf('hour', advertiserId, from, to)).toEqual([campaignId]);
    });
  });

  describe('SpendLedgerRepository', () => {
    it('adds batches to accounts, creating them, and reads them back by kind', async () => {
      const ledger = new SpendLedgerRepository(dataSource);
      const [li, cp] = [randomUUID(), randomUUID()];
      const change = (kind: 'line_item' | 'campaign', id: string, billedMilli: bigint, writtenOffMilli: bigint) => ({ kind, id, billedEvents: 1, billedMilli, writtenOffEvents: 1, writtenOffMilli });
      // Beyond 2^53: the exact sums must survive the round trip.
      await ledger.add(dataSource, [change('line_item', li, 9_007_199_254_740_993n, 7n), change('campaign', cp, 5n, 0n)]);
      await ledger.add(dataSource, [change('line_item', li, 2n, 3n)]);
      await ledger.add(dataSource, []);
      expect(await ledger.billed('line_item', [li, cp])).toEqual(new Map([[li, 9_007_199_254_740_995n]]));
      expect(await ledger.billed('campaign', [cp])).toEqual(new Map([[cp, 5n]]));
      expect(await ledger.lineItemTotals([li])).toEqual(new Map([[li, { billedMilli: 9_007_199_254_740_995n, writtenOffMilli: 10n }]]));
      expect(await ledger.billedOf(dataSource, [li], [cp])).toEqual({ lineItems: new Map([[li, 9_007_199_254_740_995n]]), campaigns: new Map([[cp, 5n]]) });
    });
  });

  describe('AggregationWatermarkRepository', () => {
    it('locks the watermark for one transaction at a time: another answers busy at once, and sees the advance after', async () => {
      const watermarks = new AggregationWatermarkRepository(dataSource);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const first = watermarks.transaction(async (qr) => {
        const at = await watermarks.lock(qr);
        locked();
        await held;
        await watermarks.advance(qr, Number(at) + 10, 'test');
        return at;
      });
      await isLocked;
      const started = Date.now();
      expect(await watermarks.transaction((qr) => watermarks.lock(qr))).toBe('busy');
      expect(Date.now() - started).toBeLessThan(5_000);
      release();
      const before = await first;
      expect(typeof before).toBe('number');
      expect((await watermarks.cutoff()).lastId).toBe(Number(before) + 10);
      expect((await watermarks.status()).watermark).toBe(Number(before) + 10);
    });
  });
});
