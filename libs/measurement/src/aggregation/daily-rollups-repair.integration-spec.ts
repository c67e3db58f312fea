import { randomUUID } from 'node:crypto';
import { DailyRollupsByEventDay1765100000000 } from '../../../../db/migrations/1765100000000-DailyRollupsByEventDay';
import { MigratedDatabase } from '../../../../test/support/migrated-database';

/** The repair of `event_rollups_daily` (db/migrations/1765100000000): daily rows become the sums of the hourly ones per UTC day. */
describe('daily rollups repair (real MariaDB)', () => {
  const database = new MigratedDatabase(`adp_int_daily_repair_${process.pid}`);

  beforeAll(() => database.open());
  afterAll(() => database.drop());

  it('rebuilds the daily rows as the sums of the hourly rows of each UTC day, replacing what was wrong', async () => {
    const db = database.dataSource;
    const [campaign, lineItem, creative, advertiser] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const hourly = async (hour: string, impressions: number, spend: number, country = 'US') =>
      db.query(
        'INSERT INTO event_rollups_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, impressions, spend_mmicros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [campaign, hour, lineItem, creative, country, 'ios', advertiser, impressions, spend],
      );
    await hourly('2026-12-05 23:00:00', 2, 4000);
    await hourly('2026-12-06 00:00:00', 3, 6000);
    await hourly('2026-12-06 05:00:00', 1, 2000);
    await hourly('2026-12-06 05:00:00', 7, 14000, 'DE');
    // What the faulty upsert left: everything on the decisions' day.
    await db.query(
      "INSERT INTO event_rollups_daily (campaign_id, day, line_item_id, creative_id, country, platform, advertiser_id, impressions, spend_mmicros) VALUES (?, '2026-12-05', ?, ?, 'US', 'ios', ?, 6, 12000)",
      [campaign, lineItem, creative, advertiser],
    );

    const runner = db.createQueryRunner();
    await runner.startTransaction();
    await new DailyRollupsByEventDay1765100000000().up(runner);
    await runner.commitTransaction();
    await runner.release();

    const rows = (await db.query(
      "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, country, advertiser_id AS adv, impressions, CAST(spend_mmicros AS CHAR) AS spend FROM event_rollups_daily WHERE campaign_id = ? ORDER BY day, country",
      [campaign],
    )) as Array<{ day: string; country: string; adv: string; impressions: number; spend: string }>;
    expect(rows.map((r) => [r.day, r.country, r.adv === advertiser, Number(r.impressions), r.spend])).toEqual([
      ['2026-12-05', 'US', true, 2, '4000'],
      ['2026-12-06', 'DE', true, 7, '14000'],
      ['2026-12-06', 'US', true, 4, '8000'],
    ]);
  });
});
