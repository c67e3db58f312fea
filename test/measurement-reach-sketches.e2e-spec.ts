import { userHashOf } from '@app/measurement';
import { CellListener, addToReachSketches } from '@app/measurement/reach/reach-sketch.store';
import { ReachSketch } from '@app/measurement/reach/reach-sketch';
import { WorkerConfig, mysqlOptions } from '@app/platform';
import { Connection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { e2eConfig } from './support/e2e-config';
import { randomUUID } from 'node:crypto';
import { HOUR_MS, Placement, createPlacementVia, mysql, report, waitForAggregation } from './support/measurement-fixtures';

const DAY_MS = 86_400_000;
const COUNTRIES = ['US', 'FR', 'DE'];
const PLATFORMS = ['ios', 'web'];

interface Impression {
  user: number;
  at: number;
  country: string;
  platform: string;
}

/** Valid impressions written straight into raw_events (the aggregation rolls them up like any other). */
async function insertImpressions(db: Connection, placement: Placement, impressions: Impression[]): Promise<void> {
  for (let i = 0; i < impressions.length; i += 5000) {
    const rows = impressions.slice(i, i + 5000).map((e) => {
      const userId = `${placement.campaignId}-listener-${e.user}`;
      return [
        randomUUID(), 'impression', 'valid', new Date(e.at), new Date(), placement.advertiserId, placement.campaignId, placement.lineItemId, placement.creativeId,
        userId, userHashOf(userId), e.country, e.platform, 'CPM', placement.rateMicros, 0,
      ];
    });
    // As ingestion does: the fence's shared lock from before the ids are taken until the commit, or a
    // run of the aggregation could settle past these ids while they are still uncommitted (other suites
    // ingest meanwhile) and skip them for ever.
    await db.query('START TRANSACTION');
    try {
      await db.query('SELECT id FROM ingest_fence WHERE id = 1 LOCK IN SHARE MODE');
      await db.query(
        `INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id, user_id, user_hash,
          country, platform, pricing_model, rate_micros, ingest_tag) VALUES ?`,
        [rows],
      );
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK');
      throw err;
    }
  }
}

type Row = { period?: string; country?: string; reach: number; impressions: number; frequency: number; reachMethod: string };

/** Distinct listeners per key, computed from the impressions themselves. */
function truth(impressions: Impression[], keyOf: (e: Impression) => string): Map<string, { reach: number; impressions: number }> {
  const groups = new Map<string, { users: Set<number>; impressions: number }>();
  for (const e of impressions) {
    const g = groups.get(keyOf(e)) ?? { users: new Set<number>(), impressions: 0 };
    g.users.add(e.user);
    g.impressions++;
    groups.set(keyOf(e), g);
  }
  return new Map([...groups].map(([k, g]) => [k, { reach: g.users.size, impressions: g.impressions }]));
}

const ratio = (a: number, b: number) => Math.round((a / b) * 1e6) / 1e6;

describe('reach from sketches once the exact reach rows are gone', () => {
  let db: Connection;
  beforeAll(async () => {
    db = await mysql();
  });
  afterAll(async () => {
    await db.end();
  });

  // A UTC day three days ago; listens in its hours 1-5.
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - 3 * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();

  it('answers every shape from sketches (reachMethod sketch), exactly for small sets, after the oldest hours of reach_hourly are dropped', async () => {
    const placement = await createPlacementVia(process.env.E2E_BASE_URL!);
    const impressions: Impression[] = Array.from({ length: 900 }, (_, i) => ({
      user: (i * 7) % 300,
      at: day + (1 + (i % 5)) * HOUR_MS + (i % 50) * 1000,
      country: COUNTRIES[i % 3],
      platform: PLATFORMS[(i >> 1) % 2],
    }));
    await insertImpressions(db, placement, impressions);
    await waitForAggregation(db, 60_000);
    const scopes: Array<Record<string, string>> = [{ campaignId: placement.campaignId }, { lineItemId: placement.lineItemId }, { advertiserId: placement.advertiserId }];
    const wholeDay = { from: iso(day), to: iso(day + DAY_MS) };
    const total = truth(impressions, () => '');

    // All reach rows present and few: exact.
    for (const scope of scopes) {
      const res = await report({ ...scope, ...wholeDay });
      expect(res.status).toBe(200);
      expect(res.body.reachMethod).toBe('exact');
      expect(res.body.rows).toEqual([expect.objectContaining({ impressions: 900, reach: 300, frequency: 3, reachMethod: 'exact' })]);
    }

    // Retention drops whole old days of reach_hourly: here the rows of hours 1 and 2 of this campaign.
    await db.query('DELETE FROM reach_hourly WHERE campaign_id = ? AND hour < ?', [placement.campaignId, new Date(day + 3 * HOUR_MS)]);

    // Whole days without breakdown: per campaign and per line item day sketches.
    for (const scope of scopes) {
      const res = await report({ ...scope, ...wholeDay });
      expect({ method: res.body.reachMethod, rows: res.body.rows }).toEqual({
        method: 'sketch',
        rows: [expect.objectContaining({ impressions: 900, reach: total.get('')!.reach, frequency: 3, reachMethod: 'sketch' })],
      });
    }
    // Whole days by country (per cell day sketches), by hour and country (hourly sketches), and a range
    // off whole days (hourly sketches merged into one total).
    const byCountry = truth(impressions, (e) => e.country);
    const dayByCountry = await report({ campaignId: placement.campaignId, ...wholeDay, granularity: 'day', breakdown: 'country' });
    expect(dayByCountry.body.reachMethod).toBe('sketch');
    expect(dayByCountry.body.rows.map((r: Row) => [r.period, r.country, r.reach, r.frequency])).toEqual(
      [...byCountry].sort().map(([country, t]) => [iso(day).slice(0, 10), country, t.reach, ratio(t.impressions, t.reach)]),
    );
    const hourByCountry = truth(impressions, (e) => `${iso(Math.floor(e.at / HOUR_MS) * HOUR_MS)}|${e.country}`);
    const hourly = await report({ campaignId: placement.campaignId, ...wholeDay, granularity: 'hour', breakdown: 'country' });
    expect(hourly.body.reachMethod).toBe('sketch');
    expect(hourly.body.rows.map((r: Row) => [`${r.period}|${r.country}`, r.reach, r.reachMethod])).toEqual([...hourByCountry].sort().map(([k, t]) => [k, t.reach, 'sketch']));
    const partial = await report({ campaignId: placement.campaignId, from: iso(day + 2 * HOUR_MS), to: iso(day + 5 * HOUR_MS) });
    const inPartial = impressions.filter((e) => e.at >= day + 2 * HOUR_MS && e.at < day + 5 * HOUR_MS);
    expect(partial.body).toMatchObject({ reachMethod: 'sketch', rows: [expect.objectContaining({ impressions: inPartial.length, reach: truth(inPartial, () => '').get('')!.reach })] });

    // A range whose reach rows are all still there is counted exactly again.
    const recent = await report({ campaignId: placement.campaignId, from: iso(day + 3 * HOUR_MS), to: iso(day + 6 * HOUR_MS) });
    const inRecent = impressions.filter((e) => e.at >= day + 3 * HOUR_MS);
    expect(recent.body).toMatchObject({ reachMethod: 'exact', rows: [expect.objectContaining({ reach: truth(inRecent, () => '').get('')!.reach })] });

    // CSV carries the method on every line.
    const csv = await report({ campaignId: placement.campaignId, ...wholeDay, format: 'csv' });
    const [header, line] = csv.text.trim().split('\r\n');
    expect(line.split(',')[header.split(',').indexOf('reachMethod')]).toBe('sketch');
    expect(Number(line.split(',')[header.split(',').indexOf('reach')])).toBe(300);
  });

  it('estimates past the exact limit within 1% of the distinct listeners (25,000), frequency staying impressions / reach', async () => {
    const placement = await createPlacementVia(process.env.E2E_BASE_URL!);
    const listeners = 25_000;
    const impressions: Impression[] = Array.from({ length: 32_000 }, (_, i) => ({
      user: (i * 7919) % listeners,
      at: day + 7 * HOUR_MS + (i % 3000) * 1000,
      country: COUNTRIES[i % 3],
      platform: PLATFORMS[i % 2],
    }));
    await insertImpressions(db, placement, impressions);
    await waitForAggregation(db, 120_000);
    const range = { campaignId: placement.campaignId, from: iso(day), to: iso(day + DAY_MS) };

    const exact = await report(range);
    expect(exact.body).toMatchObject({ reachMethod: 'exact', rows: [expect.objectContaining({ impressions: 32_000, reach: listeners })] });

    await db.query('DELETE FROM reach_hourly WHERE campaign_id = ?', [placement.campaignId]);
    for (const query of [range, { ...range, granularity: 'hour' }, { ...range, breakdown: 'platform' }] as Array<Record<string, string>>) {
      const res = await report(query);
      expect(res.body.reachMethod).toBe('sketch');
      const rows = res.body.rows as Row[];
      const expected = query.breakdown ? 12_500 : listeners;
      for (const row of rows) {
        // (i * 7919) % 25000 with i % 2 fixed: half of the listeners on each platform.
        expect({ query, error: Math.abs(row.reach - expected) / expected < 0.01 }).toEqual({ query, error: true });
        expect(row.frequency).toBe(ratio(row.impressions, row.reach));
        expect(row.reachMethod).toBe('sketch');
      }
    }
  }, 120_000);

  it('merges a replayed batch of listeners without changing any sketch', async () => {
    const dataSource = await new DataSource({ ...mysqlOptions(e2eConfig(WorkerConfig)), extra: { connectionLimit: 2 } }).initialize();
    try {
      const campaignId = randomUUID();
      const hour = new Date(day + 9 * HOUR_MS);
      const listeners: CellListener[] = Array.from({ length: 20_000 }, (_, i) => ({
        campaign_id: campaignId, hour, line_item_id: campaignId, creative_id: campaignId, country: i % 2 ? 'US' : 'FR', platform: 'ios', user_hash: userHashOf(`replay-${i % 17_000}`),
      }));
      const snapshot = async () =>
        (await dataSource.query(
          `SELECT 1 AS n, 'hourly' AS level, country, sketch FROM reach_sketches_hourly WHERE campaign_id = ? UNION ALL SELECT 2, 'daily', country, sketch FROM reach_sketches_daily WHERE campaign_id = ?
           UNION ALL SELECT 3, 'line item', '', sketch FROM reach_sketches_line_item_daily WHERE campaign_id = ? UNION ALL SELECT 4, 'campaign', '', sketch FROM reach_sketches_campaign_daily WHERE campaign_id = ?
           ORDER BY n, country`,
          [campaignId, campaignId, campaignId, campaignId],
        )) as Array<{ level: string; country: string; sketch: Buffer }>;
      await addToReachSketches(dataSource, listeners);
      const first = await snapshot();
      expect(first.map((r) => [r.level, r.country, ReachSketch.fromBytes(r.sketch).exact])).toEqual([
        ['hourly', 'FR', true], ['hourly', 'US', true], ['daily', 'FR', true], ['daily', 'US', true], ['line item', '', false], ['campaign', '', false],
      ]);
      const campaign = ReachSketch.fromBytes(first[5].sketch).count();
      expect(Math.abs(campaign - 17_000) / 17_000).toBeLessThan(0.01);

      // The same batch again (a retried or replayed batch), whole or in part.
      await addToReachSketches(dataSource, listeners);
      await addToReachSketches(dataSource, listeners.slice(0, 5000));
      const again = await snapshot();
      expect(again.map((r) => r.sketch.toString('base64'))).toEqual(first.map((r) => r.sketch.toString('base64')));
    } finally {
      await dataSource.destroy();
    }
  });
});
