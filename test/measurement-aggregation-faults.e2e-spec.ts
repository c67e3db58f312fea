import { userHashOf } from '@app/measurement';
import { Connection } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import {
  FULL_LISTEN,
  HOUR_MS,
  Placement,
  StoredEvent,
  comparable,
  createPlacementVia,
  expectedRow,
  expectedRows,
  floorHour,
  mysql,
  report,
  streamListens,
  waitForAggregation,
} from './support/measurement-fixtures';
import { ManagedProcess, startProcess, waitFor } from './support/processes';
import { Stack } from './support/stack';

/** Rows written straight into raw_events: a backlog large enough for one aggregation batch to take a while. */
async function insertBacklog(db: Connection, placement: Placement, decisions: number, firstHour: number): Promise<{ rows: number; truth: ReturnType<typeof expectedRow> }> {
  const users = new Set<string>();
  let rows = 0;
  let spendMilli = 0;
  const chunk: unknown[][] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    await db.query(
      `INSERT INTO raw_events (decision_id, event_type, status, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id, user_id, user_hash,
        country, platform, pricing_model, rate_micros, ingest_tag) VALUES ?`,
      [chunk.splice(0)],
    );
  };
  for (let d = 0; d < decisions; d++) {
    const decisionId = randomUUID();
    const userId = `bulk-${d % 4000}`;
    const occurred = firstHour + (d % 4) * HOUR_MS + (d % 3000) * 1000;
    for (const [i, event] of FULL_LISTEN.entries()) {
      chunk.push([decisionId, event, 'valid', new Date(occurred + i * 100), new Date(), placement.advertiserId, placement.campaignId, placement.lineItemId, placement.creativeId, userId, userHashOf(userId),
        d % 3 ? 'US' : 'FR', d % 2 ? 'ios' : 'android', 'CPM', placement.rateMicros, 0]);
      rows++;
    }
    users.add(userId);
    spendMilli += placement.rateMicros!;
    if (chunk.length >= 6000) await flush();
  }
  await flush();
  const ratio = (a: number, b: number) => Math.round((a / b) * 1e6) / 1e6;
  return {
    rows,
    truth: {
      impressions: decisions,
      starts: decisions,
      firstQuartiles: decisions,
      midpoints: decisions,
      thirdQuartiles: decisions,
      completes: decisions,
      clicks: 0,
      ctr: 0,
      completionRate: 1,
      reach: users.size,
      frequency: ratio(decisions, users.size),
      spendMicros: Math.floor(spendMilli / 1000),
      writtenOffMicros: 0,
      invalidImpressions: 0,
      invalidClicks: 0,
      invalidEvents: 0,
    },
  };
}

describe('aggregation under faults (own stacks)', () => {
  it('a worker SIGKILLed mid-aggregation commits nothing; a restarted one counts everything exactly once', async () => {
    const runId = `${process.env.E2E_RUN_ID}k`;
    const stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, workers: 0 });
    const db = await mysql(stack.env.DB_NAME);
    let victim: ManagedProcess | undefined;
    try {
      const placement = await createPlacementVia(stack.baseUrl);
      const h0 = floorHour(Date.now()) - 6 * HOUR_MS;
      const backlog = await insertBacklog(db, placement, 40_000, h0);
      expect(backlog.rows).toBe(240_000);

      // One batch for the whole backlog, so the transaction lasts long enough to be killed in the middle.
      victim = startProcess(`test-${runId}-victim`, process.execPath, ['dist/apps/worker/src/main.js'], { ...stack.env, LOG_LEVEL: 'info', AGGREGATION_BATCH_SIZE: '1000000' });
      const running = await waitFor(
        async () => {
          const [rows] = (await db.query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO event_rollups_hourly%'", [stack.env.DB_NAME])) as unknown as [
            Array<{ ID: number }>,
          ];
          return rows[0];
        },
        30_000,
        'the worker to be inside the rollup upsert',
        10,
      );
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');

      // MySQL finishes the orphaned statement, then rolls the transaction back: nothing of it is visible.
      await waitFor(
        async () => {
          const [rows] = (await db.query('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [running.ID])) as unknown as [unknown[]];
          return rows.length === 0;
        },
        60_000,
        'the killed connection to go away',
        50,
      );
      const [[state]] = (await db.query(
        "SELECT (SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups') AS wm, (SELECT COUNT(*) FROM event_rollups_hourly) AS rollups, (SELECT COUNT(*) FROM reach_hourly) AS reach, (SELECT COUNT(*) FROM reach_sketches_hourly) + (SELECT COUNT(*) FROM reach_sketches_campaign_daily) AS sketches",
      )) as unknown as [Array<{ wm: string; rollups: string; reach: string; sketches: string }>];
      expect({ wm: Number(state.wm), rollups: Number(state.rollups), reach: Number(state.reach), sketches: Number(state.sketches) }).toEqual({ wm: 0, rollups: 0, reach: 0, sketches: 0 });

      await stack.startWorker();
      await waitForAggregation(db, 120_000);
      const from = new Date(h0).toISOString();
      const to = new Date(h0 + 6 * HOUR_MS).toISOString();
      const res = await report({ campaignId: placement.campaignId, from, to }, { baseUrl: stack.baseUrl });
      expect(res.status).toBe(200);
      expect(comparable(res.body.rows)).toEqual([backlog.truth]);
      // Per hour as well: the rollups equal a plain GROUP BY over the raw table.
      const hourly = await report({ campaignId: placement.campaignId, from, to, granularity: 'hour' }, { baseUrl: stack.baseUrl });
      const [raw] = (await db.query(
        "SELECT DATE_ADD(DATE(occurred_at), INTERVAL HOUR(occurred_at) HOUR) AS h, SUM(event_type = 'impression') AS imps, COUNT(DISTINCT IF(event_type = 'impression', user_hash, NULL)) AS reach FROM raw_events GROUP BY h ORDER BY h",
      )) as unknown as [Array<{ h: Date; imps: string; reach: string }>];
      expect(hourly.body.rows.map((r: { period: string; impressions: number; reach: number }) => [r.period, r.impressions, r.reach])).toEqual(
        raw.map((r) => [r.h.toISOString(), Number(r.imps), Number(r.reach)]),
      );
      // The sketches, written in the same batches, say the same once the exact reach rows are gone.
      await db.query('DELETE FROM reach_hourly');
      const fromSketches = await report({ campaignId: placement.campaignId, from, to, granularity: 'hour' }, { baseUrl: stack.baseUrl });
      expect(fromSketches.body.reachMethod).toBe('sketch');
      expect(fromSketches.body.rows.map((r: { period: string; reach: number }) => [r.period, r.reach])).toEqual(raw.map((r) => [r.h.toISOString(), Number(r.reach)]));
      expect((await report({ campaignId: placement.campaignId, from, to }, { baseUrl: stack.baseUrl })).body.rows).toEqual([expect.objectContaining({ reach: backlog.truth.reach, reachMethod: 'sketch' })]);
    } finally {
      victim?.child.kill('SIGKILL');
      await db.end();
      await stack.stop();
      await stack.dropData();
    }
  }, 240_000);

  it('two workers aggregating at once never double count', async () => {
    const runId = `${process.env.E2E_RUN_ID}w`;
    // Small batches: many transactions, so the two workers contend for the watermark all the time.
    const stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, workers: 2, env: { AGGREGATION_BATCH_SIZE: '100' } });
    const db = await mysql(stack.env.DB_NAME);
    try {
      const placement = await createPlacementVia(stack.baseUrl);
      const stored: StoredEvent[] = [];
      const aggregators = new Set<string>();
      let streaming = true;
      const watch = (async () => {
        while (streaming) {
          const [[row]] = (await db.query("SELECT updated_by FROM aggregation_watermarks WHERE name = 'rollups'")) as unknown as [Array<{ updated_by: string | null }>];
          if (row.updated_by) aggregators.add(row.updated_by);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await streamListens(placement, 600, stored, { baseUrl: stack.baseUrl, concurrency: 6, users: 60 });
      await waitForAggregation(db, 60_000);
      streaming = false;
      await watch;

      expect(stored).toHaveLength(3600);
      expect(stored.every((e) => e.valid)).toBe(true);
      // Both workers advanced the watermark at some point.
      expect(aggregators.size).toBe(2);
      const from = new Date(floorHour(Date.now()) - HOUR_MS).toISOString();
      const to = new Date(floorHour(Date.now()) + HOUR_MS).toISOString();
      const res = await report({ campaignId: placement.campaignId, from, to, granularity: 'hour', breakdown: 'country,platform' }, { baseUrl: stack.baseUrl });
      expect(comparable(res.body.rows)).toEqual(expectedRows(stored, 'hour', ['country', 'platform']));
      const total = await report({ campaignId: placement.campaignId, from, to }, { baseUrl: stack.baseUrl });
      expect(comparable(total.body.rows)).toEqual([expectedRow(stored)]);
      // Sketches merged by two racing workers count every listener once, like the reach rows.
      await db.query('DELETE FROM reach_hourly');
      const fromSketches = await report({ campaignId: placement.campaignId, from, to, granularity: 'hour', breakdown: 'country,platform' }, { baseUrl: stack.baseUrl });
      expect(fromSketches.body.reachMethod).toBe('sketch');
      expect(comparable(fromSketches.body.rows)).toEqual(expectedRows(stored, 'hour', ['country', 'platform']));
    } finally {
      await db.end();
      await stack.stop();
      await stack.dropData();
    }
  }, 180_000);
});
