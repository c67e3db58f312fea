import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MigratedDatabase } from '../../../../test/support/migrated-database';
import { LedgerSnapshotRepository } from './ledger-snapshot.repository';

const HOUR_MS = 3_600_000;
/** A CPM rate: each impression costs 2,000 milli-micros. */
const RATE_MICROS = 2000;

/** The rebuild's reads on a real MariaDB database of their own (migrated as `npm start` does). */
describe('LedgerSnapshotRepository (real MySQL)', () => {
  const database = new MigratedDatabase(`adp_int_ledger_${process.pid}`, 3);
  let dataSource: DataSource;
  let repository: LedgerSnapshotRepository;
  const advertiserId = randomUUID();
  const campaignId = randomUUID();
  const [li1, li2] = [randomUUID(), randomUUID()];
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;

  /** Stores one raw event of line item `lineItemId`; its id. */
  async function rawEvent(lineItemId: string, event: { type?: string; status?: string; at: number; userId?: string; decisionId?: string }): Promise<number> {
    const at = new Date(event.at);
    const result = (await dataSource.query(
      `INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id, user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'FR', 'ios', 'CPM', ?, 1)`,
      [event.decisionId ?? randomUUID(), event.type ?? 'impression', event.status ?? 'valid', at, at, advertiserId, campaignId, lineItemId, randomUUID(), event.userId ?? 'u1', RATE_MICROS],
    )) as { insertId: number };
    return Number(result.insertId);
  }

  beforeAll(async () => {
    dataSource = await database.open();
    repository = new LedgerSnapshotRepository(dataSource);
  }, 120_000);

  afterAll(() => database.drop());

  it('reads rollups and, above the watermark, valid raw events only, summed per line item and span of time', async () => {
    // Rolled up: 10 impressions of li1 two hours ago (20,000 spent, 500 of it written off) and one 30 hours ago.
    await dataSource.query(
      `INSERT INTO event_rollups_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, impressions, clicks, spend_mmicros, written_off_mmicros)
       VALUES (?, ?, ?, ?, 'FR', 'ios', ?, 10, 1, 19500, 500), (?, ?, ?, ?, 'FR', 'ios', ?, 1, 0, 2000, 0)`,
      [campaignId, new Date(hour), li1, randomUUID(), advertiserId, campaignId, new Date(hour - 28 * HOUR_MS), li1, randomUUID(), advertiserId],
    );
    const rolledUp = await rawEvent(li1, { at: hour + 60_000 });
    await dataSource.query("UPDATE aggregation_watermarks SET last_id = ? WHERE name = 'rollups'", [rolledUp]);
    // Above the watermark: two impressions of li1 in the same quarter hour, an invalid one, a click of li2.
    await rawEvent(li1, { at: hour + HOUR_MS + 60_000 });
    await rawEvent(li1, { at: hour + HOUR_MS + 120_000 });
    await rawEvent(li1, { at: hour + HOUR_MS + 180_000, status: 'invalid' });
    await rawEvent(li2, { at: hour + HOUR_MS + 16 * 60_000, type: 'click' });

    const from = new Date(hour - HOUR_MS);
    const read = await repository.snapshot(async (qr) => {
      const watermark = await repository.watermark(qr);
      return {
        watermark,
        rolled: await repository.rolledTotals(qr, [campaignId]),
        tail: await repository.tailTotals(qr, [campaignId], watermark),
        byHour: await repository.rolledSpendByHour(qr, [campaignId], from),
        byQuarter: await repository.tailSpendByQuarter(qr, [campaignId], watermark, from),
      };
    });

    expect(read.watermark).toBe(rolledUp);
    expect(read.rolled).toEqual([{ lineItemId: li1, campaignId, spentMilliMicros: 22_000, impressions: 11, clicks: 1, completes: 0 }]);
    const byLineItem = <T extends { lineItemId: string }>(rows: T[]) => [...rows].sort((a, b) => Number(b.lineItemId === li1) - Number(a.lineItemId === li1));
    // A CPM click bills nothing but is counted.
    expect(byLineItem(read.tail)).toEqual([
      { lineItemId: li1, campaignId, spentMilliMicros: 2 * RATE_MICROS, impressions: 2, clicks: 0, completes: 0 },
      { lineItemId: li2, campaignId, spentMilliMicros: 0, impressions: 0, clicks: 1, completes: 0 },
    ]);
    expect(read.byHour).toEqual([{ lineItemId: li1, startMs: hour, spentMilliMicros: 20_000 }]);
    expect(byLineItem(read.byQuarter)).toEqual([
      { lineItemId: li1, startMs: hour + HOUR_MS, spentMilliMicros: 2 * RATE_MICROS },
      { lineItemId: li2, startMs: hour + HOUR_MS + 15 * 60_000, spentMilliMicros: 0 },
    ]);
    expect(await repository.rolledTotals({ query: () => Promise.reject(new Error('no query expected')) } as never, [])).toEqual([]);
  });

  it('keeps one snapshot: an event stored after the first read is not seen by the later ones', async () => {
    const lineItemId = randomUUID();
    await rawEvent(lineItemId, { at: hour, userId: 'snap' });
    const seen = await repository.snapshot(async (qr) => {
      await repository.watermark(qr);
      await rawEvent(lineItemId, { at: hour + 1000, userId: 'snap' });
      return (await repository.impressionTimes(qr, [lineItemId], new Date(hour - HOUR_MS))).map((r) => r.impressions.length);
    });
    expect(seen).toEqual([1]);
    expect((await repository.impressionTimes(dataSource, [lineItemId], new Date(hour - HOUR_MS))).map((r) => r.impressions.length)).toEqual([2]);
  });

  it('rolls the snapshot back when its work throws', async () => {
    await expect(
      repository.snapshot(async (qr) => {
        await qr.query("UPDATE aggregation_watermarks SET batches = batches + 1000 WHERE name = 'rollups'");
        throw new Error('restore failed');
      }),
    ).rejects.toThrow('restore failed');
    const [row] = (await dataSource.query("SELECT batches FROM aggregation_watermarks WHERE name = 'rollups'")) as Array<{ batches: string }>;
    expect(Number(row.batches)).toBeLessThan(1000);
  });

  it("reads each listener's valid impressions since a time, oldest first, with their decisions", async () => {
    const lineItemId = randomUUID();
    const [d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID()];
    await rawEvent(lineItemId, { at: hour + 2500, userId: 'a', decisionId: d2 });
    await rawEvent(lineItemId, { at: hour + 1500, userId: 'a', decisionId: d1 });
    await rawEvent(lineItemId, { at: hour - HOUR_MS, userId: 'a' });
    await rawEvent(lineItemId, { at: hour + 3000, userId: 'a', type: 'click' });
    await rawEvent(lineItemId, { at: hour + 4000, userId: 'a', status: 'invalid' });
    await rawEvent(lineItemId, { at: hour + 5000, userId: 'b', decisionId: d3 });
    const rows = await repository.impressionTimes(dataSource, [lineItemId], new Date(hour));
    expect(rows.sort((x, y) => x.userId.localeCompare(y.userId))).toEqual([
      {
        lineItemId,
        userId: 'a',
        impressions: [
          { decisionId: d1, at: hour + 1500 },
          { decisionId: d2, at: hour + 2500 },
        ],
      },
      { lineItemId, userId: 'b', impressions: [{ decisionId: d3, at: hour + 5000 }] },
    ]);
  });
});
