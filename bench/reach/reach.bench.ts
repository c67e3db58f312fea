/**
 * bench/reach: a 30-day campaign report with reach over 5,000,000 impressions from 2,000,000 listeners,
 * through the HTTP API: its p95, and its reach against the exact distinct count computed in the same
 * run. Ceiling: the bare rollup query of the same report (counts only, no reach) straight against
 * MySQL, timed the same number of times.
 *
 *   npm run build && npm run bench:reach -- [--impressions 5000000] [--listeners 2000000] [--reports 50] [--keep]
 *
 * Data, written with set-based SQL: impression n of listener (n * 7919) mod listeners (every listener
 * heard, 2.5 times on average), in hour n * 720 / impressions of the 30 days, over 4 line items x 3
 * creatives x 5 countries x 3 platforms = 180 rollup cells; `user_hash` as ingestion computes it
 * (the first 8 bytes of SHA-256 of 'user:' + id). `reach_hourly` and the rollups are written from
 * that; the sketches are built from `reach_hourly` by `backfillReachSketches`, which merges with the
 * same function (`addToReachSketches`) the aggregation runs in each batch.
 */

import { Logger } from '@nestjs/common';
import { Connection } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';

import { EXACT_REACH_MAX_IMPRESSIONS } from '../../libs/measurement/src/reports/reach.service';
import { backfillReachSketches } from '../../libs/measurement/src/reach/reach-sketch.store';
import { http } from '../../test/support/http';
import { mysql } from '../../test/support/measurement-fixtures';
import { Stack } from '../../test/support/stack';
import { createSequence, dropSequence, percentile, seedCampaign } from '../support/rollup-data';
import { numberArg, sqlList, runBench, endStack, benchDataSource } from '../support/bench-run';

const IMPRESSIONS = numberArg('impressions', 5_000_000);
const LISTENERS = numberArg('listeners', 2_000_000);
const REPORTS = numberArg('reports', 50);
const DAY_MS = 86_400_000;
const HOURS = 720;

async function generate(db: Connection, campaignId: string, advertiserId: string, lineItems: string[], creatives: string[], start: Date): Promise<void> {
  await createSequence(db, IMPRESSIONS);
  // One row per listener, cell and hour, as the aggregation writes them. An hour is a run of
  // IMPRESSIONS / 720 consecutive n, shorter than LISTENERS: its listeners are all distinct, one impression each.
  if (IMPRESSIONS / HOURS > LISTENERS) throw new Error('more impressions per hour than listeners: the data would repeat listeners within an hour');
  await db.query(`INSERT INTO reach_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, user_hash, impressions)
    SELECT ?, TIMESTAMPADD(HOUR, FLOOR(n * ${HOURS} / ${IMPRESSIONS}), ?),
      ELT((n MOD 4) + 1, ${sqlList(lineItems)}), ELT((FLOOR(n / 4) MOD 3) + 1, ${sqlList(creatives)}),
      ELT((FLOOR(n / 12) MOD 5) + 1, 'US', 'DE', 'FR', 'GB', 'BR'), ELT((FLOOR(n / 60) MOD 3) + 1, 'ios', 'android', 'web'),
      CAST(CONV(LEFT(SHA2(CONCAT('user:l', (n * 7919) MOD ${LISTENERS}), 256), 16), 16, 10) AS UNSIGNED), 1
    FROM bench_seq`, [campaignId, start]);
  await dropSequence(db);
  await db.query(`INSERT INTO event_rollups_hourly (campaign_id, hour, line_item_id, creative_id, country, platform, advertiser_id, impressions, starts, completes)
    SELECT campaign_id, hour, line_item_id, creative_id, country, platform, ?, SUM(impressions), SUM(impressions), SUM(impressions)
    FROM reach_hourly WHERE campaign_id = ? GROUP BY campaign_id, hour, line_item_id, creative_id, country, platform`, [advertiserId, campaignId]);
  await db.query(`INSERT INTO event_rollups_daily (campaign_id, day, line_item_id, creative_id, country, platform, advertiser_id, impressions, starts, completes)
    SELECT campaign_id, DATE(hour), line_item_id, creative_id, country, platform, advertiser_id, SUM(impressions), SUM(starts), SUM(completes)
    FROM event_rollups_hourly WHERE campaign_id = ? GROUP BY campaign_id, DATE(hour), line_item_id, creative_id, country, platform, advertiser_id`, [campaignId]);
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const began = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - began) / 1e6;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const id = Date.now().toString(36);
  // Its own name pattern: a database named like other benches' may be cleaned up with theirs.
  const stack = await Stack.start({ dbName: `adp_reach_${id}`, queuePrefix: `bench-${id}`, workers: 0 });
  const db = await mysql(stack.env.DB_NAME);
  const { dataSource } = await benchDataSource(stack, 2);
  try {
    const advertiserId = randomUUID();
    const campaignId = randomUUID();
    const lineItems = Array.from({ length: 4 }, () => randomUUID());
    const creatives = Array.from({ length: 3 }, () => randomUUID());
    const start = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 31 * DAY_MS);
    const from = start.toISOString();
    const to = new Date(start.getTime() + 30 * DAY_MS).toISOString();
    await seedCampaign(db, advertiserId, campaignId, start, 30);

    process.stdout.write(`writing ${IMPRESSIONS} impressions of ${LISTENERS} listeners (reach rows and rollups)...\n`);
    let t = Date.now();
    await generate(db, campaignId, advertiserId, lineItems, creatives, start);
    process.stdout.write(`  ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
    process.stdout.write('building the sketches from reach_hourly (the aggregation\'s merge code)...\n');
    t = Date.now();
    const reachRows = await backfillReachSketches(dataSource, (n) => process.stdout.write(`\r  ${n} reach rows`));
    const sketchSeconds = (Date.now() - t) / 1000;
    process.stdout.write(`\n  ${sketchSeconds.toFixed(1)} s (${((reachRows / sketchSeconds) | 0).toLocaleString('en')} reach rows/s)\n`);

    let exact = 0;
    const exactCountMs = await timed(async () => {
      const [[row]] = (await db.query('SELECT COUNT(DISTINCT user_hash) AS n FROM reach_hourly WHERE campaign_id = ? AND hour >= ? AND hour < ?', [campaignId, start, new Date(to)])) as unknown as [
        Array<{ n: string }>,
      ];
      exact = Number(row.n);
    });
    const [[imps]] = (await db.query('SELECT SUM(impressions) AS n FROM event_rollups_daily WHERE campaign_id = ?', [campaignId])) as unknown as [Array<{ n: string }>];
    if (Number(imps.n) !== IMPRESSIONS) throw new Error(`rollups hold ${imps.n} impressions, expected ${IMPRESSIONS}`);
    if (Number(imps.n) <= EXACT_REACH_MAX_IMPRESSIONS) process.stdout.write('note: few enough impressions to be counted exactly; the report will not use sketches\n');

    process.stdout.write(`30-day reports x${REPORTS}, alternating with the bare rollup query...\n`);
    const queries: Record<string, Record<string, string>> = {
      'campaign total': { campaignId, from, to },
      'campaign by day': { campaignId, from, to, granularity: 'day' },
      'campaign by country': { campaignId, from, to, breakdown: 'country' },
    };
    const latencies: Record<string, number[]> = Object.fromEntries([...Object.keys(queries), 'bare rollup query'].map((k) => [k, []]));
    const answers: Record<string, { reach: number; method: string }> = {};
    for (let i = 0; i < REPORTS + 3; i++) {
      for (const [name, query] of Object.entries(queries)) {
        if (name !== 'campaign total' && i % 5 !== 0) continue;
        let res: Awaited<ReturnType<typeof http>> | undefined;
        const ms = await timed(async () => {
          res = await http('GET', `/v1/reports?${new URLSearchParams(query).toString()}`, { baseUrl: stack.baseUrl });
        });
        if (res!.status !== 200) throw new Error(`report ${name}: ${res!.status} ${res!.text}`);
        if (i >= 3) latencies[name].push(ms);
        const body = res!.body as { rows: Array<{ reach: number }>; reachMethod: string };
        answers[name] = { reach: body.rows[0]?.reach, method: body.reachMethod };
      }
      const bare = await timed(() =>
        db.query('SELECT SUM(impressions), SUM(starts), SUM(completes), SUM(clicks), SUM(spend_mmicros) FROM event_rollups_daily WHERE campaign_id = ? AND day >= ? AND day < ?', [
          campaignId,
          from.slice(0, 10),
          to.slice(0, 10),
        ]),
      );
      if (i >= 3) latencies['bare rollup query'].push(bare);
    }

    const [sizes] = (await db.query(
      `SELECT 'reach_sketches_hourly' AS t, COUNT(*) AS n, SUM(LENGTH(sketch)) AS bytes FROM reach_sketches_hourly
       UNION ALL SELECT 'reach_sketches_daily', COUNT(*), SUM(LENGTH(sketch)) FROM reach_sketches_daily
       UNION ALL SELECT 'reach_sketches_line_item_daily', COUNT(*), SUM(LENGTH(sketch)) FROM reach_sketches_line_item_daily
       UNION ALL SELECT 'reach_sketches_campaign_daily', COUNT(*), SUM(LENGTH(sketch)) FROM reach_sketches_campaign_daily`,
    )) as unknown as [Array<{ t: string; n: string; bytes: string }>];
    const [[reachTable]] = (await db.query(
      "SELECT TABLE_ROWS AS n, DATA_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'reach_hourly'",
      [stack.env.DB_NAME],
    )) as unknown as [Array<{ n: string; bytes: string }>];

    const mb = (b: string | number) => (Number(b) / 1024 / 1024).toFixed(1);
    const total = answers['campaign total'];
    const error = Math.abs(total.reach - exact) / exact;
    process.stdout.write(`\nexact distinct listeners (COUNT(DISTINCT) over ${reachRows} reach rows): ${exact} in ${exactCountMs.toFixed(0)} ms\n`);
    process.stdout.write(`campaign total reach (${total.method}): ${total.reach}, error ${(error * 100).toFixed(3)}% (target <= 1%)\n`);
    for (const [name, a] of Object.entries(answers)) if (name !== 'campaign total') process.stdout.write(`  ${name.padEnd(22)} first row reach ${a.reach} (${a.method})\n`);
    process.stdout.write(`latency, ms (campaign total and bare query: ${REPORTS} runs; other shapes every 5th):\n`);
    const bareP95 = percentile([...latencies['bare rollup query']].sort((a, b) => a - b), 95);
    for (const [name, values] of Object.entries(latencies)) {
      values.sort((a, b) => a - b);
      const p95 = percentile(values, 95);
      const ratio = name === 'bare rollup query' ? '' : `  (${(p95 / bareP95).toFixed(1)}x the bare query's p95)`;
      process.stdout.write(`  ${name.padEnd(22)} p50 ${percentile(values, 50).toFixed(1)}  p95 ${p95.toFixed(1)}  max ${values[values.length - 1].toFixed(1)}${ratio}\n`);
    }
    process.stdout.write(`storage: reach_hourly ~${reachTable.n} rows, ${mb(reachTable.bytes)} MB of data pages\n`);
    for (const s of sizes) process.stdout.write(`  ${s.t.padEnd(32)} ${s.n} sketches, ${mb(s.bytes ?? 0)} MB of sketch bytes\n`);
    process.stdout.write(`sketch build from reach_hourly: ${sketchSeconds.toFixed(1)} s\n`);
  } finally {
    await dataSource.destroy();
    await db.end();
    await endStack(stack);
  }
}

runBench(main);
