/**
 * bench/aggregate: 1,000,000 raw events into hourly and daily rollups and reach, rows and sketches (the worker's code),
 * against a single bare INSERT ... SELECT ... GROUP BY of the same rollup over the same data, in the
 * same run; then a 30-day campaign report's latency, and the worker's peak RSS.
 *
 *   npm run build && npm run bench:aggregate -- [--events 1000000] [--rounds 3] [--reports 50] [--keep]
 *
 * Data: 30 days of full listens (impression .. complete; 2% flagged as bots) in time order, over 5
 * campaigns of 5 line items, 3 creatives, 5 countries, 4 platforms and 60,000 listeners, written with
 * set-based SQL.
 */
import { AggregationService } from '@app/measurement';

import { Logger } from '@nestjs/common';
import { Connection } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { ROLLUP_COLUMNS, ROLLUP_GROUP_BY, ROLLUP_SELECT } from '../../libs/measurement/src/aggregation/aggregation.sql';
import { mysql } from '../../test/support/measurement-fixtures';
import { http } from '../../test/support/http';
import { sleep, waitFor } from '../../test/support/processes';

import { Stack } from '../../test/support/stack';
import { createSequence, dropSequence, percentile, seedCampaign } from '../support/rollup-data';
import { peakRssMb } from '../support/proc-stats';
import { numberArg, sqlList, runBench, endStack, benchDataSource } from '../support/bench-run';

const EVENTS = numberArg('events', 1_000_000);
const REPORTS = numberArg('reports', 50);
/** Bare and pipeline runs alternate this many times (the machine is shared: best and median are shown). */
const ROUNDS = numberArg('rounds', 3);
const DAY_SECONDS = 86_400;

async function generate(db: Connection, campaigns: string[], lineItems: string[], creatives: string[], advertiserId: string, start: Date): Promise<void> {
  await createSequence(db, EVENTS);
  // n -> decision d = n DIV 6, event k = n MOD 6 (impression .. complete); a decision's events are seconds apart,
  // and decisions spread evenly over the 30 days in id order, as events arrive in time order.
  const d = 'FLOOR(n / 6)';
  await db.query(`INSERT INTO raw_events (decision_id, event_type, status, invalid_reason, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
      user_id, user_hash, country, platform, pricing_model, rate_micros, ingest_tag)
    SELECT CONCAT(LPAD(HEX(${d}), 8, '0'), '-0000-7000-8000-', LPAD(HEX(${d}), 12, '0')),
      (n MOD 6) + 1,
      IF(${d} MOD 50 = 0, 'invalid', 'valid'), IF(${d} MOD 50 = 0, 'bot', NULL),
      TIMESTAMPADD(SECOND, FLOOR(${d} * ${(30 * DAY_SECONDS * 6) / EVENTS}) + (n MOD 6) * 5, ?),
      TIMESTAMPADD(SECOND, FLOOR(${d} * ${(30 * DAY_SECONDS * 6) / EVENTS}) + (n MOD 6) * 5, ?),
      ?, ELT(FLOOR((${d} MOD 25) / 5) + 1, ${sqlList(campaigns)}), ELT((${d} MOD 25) + 1, ${sqlList(lineItems)}), ELT((${d} MOD 3) + 1, ${sqlList(creatives)}),
      CONCAT('u', (${d} * 104729) MOD 60000), (${d} * 104729) MOD 60000,
      ELT((${d} MOD 5) + 1, 'US', 'DE', 'FR', 'GB', 'BR'), ELT((${d} MOD 4) + 1, 'ios', 'android', 'web', 'speaker'), 'CPM', 2500000, 0
    FROM bench_seq ORDER BY n`, [start, start, advertiserId]);
  await dropSequence(db);
}

async function truncateRollups(db: Connection): Promise<void> {
  for (const table of ['event_rollups_hourly', 'event_rollups_daily', 'reach_hourly']) await db.query(`TRUNCATE ${table}`);
  await db.query("UPDATE aggregation_watermarks SET last_id = 0, batches = 0 WHERE name = 'rollups'");
}

async function bareRollup(db: Connection): Promise<number> {
  await db.query('DROP TABLE IF EXISTS bench_rollups_bare');
  await db.query('CREATE TABLE bench_rollups_bare LIKE event_rollups_hourly');
  const started = process.hrtime.bigint();
  await db.query(`INSERT INTO bench_rollups_bare (${ROLLUP_COLUMNS}) SELECT ${ROLLUP_SELECT} FROM raw_events GROUP BY ${ROLLUP_GROUP_BY}`);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await db.query('DROP TABLE bench_rollups_bare');
  return ms;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const id = Date.now().toString(36);
  const stack = await Stack.start({ dbName: `adp_bench_${id}`, queuePrefix: `bench-${id}`, workers: 0 });
  const db = await mysql(stack.env.DB_NAME);
  const { config, dataSource } = await benchDataSource(stack, 4);
  try {
    const advertiserId = randomUUID();
    const campaigns = Array.from({ length: 5 }, () => randomUUID());
    const lineItems = Array.from({ length: 25 }, () => randomUUID());
    const creatives = Array.from({ length: 3 }, () => randomUUID());
    const start = new Date(Math.floor(Date.now() / (DAY_SECONDS * 1000)) * DAY_SECONDS * 1000 - 31 * DAY_SECONDS * 1000);
    await seedCampaign(db, advertiserId, campaigns[0], start, 31);

    process.stdout.write(`writing ${EVENTS} raw events...\n`);
    let t = Date.now();
    await generate(db, campaigns, lineItems, creatives, advertiserId, start);
    const [[{ n, max }]] = (await db.query('SELECT COUNT(*) AS n, MAX(id) AS max FROM raw_events')) as unknown as [Array<{ n: string; max: string }>];
    process.stdout.write(`  ${n} rows in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    // The worker's own code (AggregationService), in this process: same SQL, same batches, same transactions.
    const aggregation = new AggregationService(dataSource, config);
    const bareMs: number[] = [];
    const pipelineMs: number[] = [];
    let batches = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round}/${ROUNDS}: bare INSERT ... SELECT ... GROUP BY, then the pipeline (rollups + reach, watermark batches)...\n`);
      bareMs.push(await bareRollup(db));
      await truncateRollups(db);
      t = Date.now();
      batches = 0;
      for (;;) {
        const run = await aggregation.aggregate(600_000);
        batches += run.batches;
        if (run.watermark >= Number(max)) break;
      }
      pipelineMs.push(Date.now() - t);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

    // The rollups must equal the raw data.
    const [[check]] = (await db.query(
      "SELECT (SELECT SUM(impressions) FROM event_rollups_hourly) AS rolled, (SELECT COUNT(*) FROM raw_events WHERE event_type = 'impression' AND status = 'valid') AS raw",
    )) as unknown as [Array<{ rolled: string; raw: string }>];
    if (check.rolled !== check.raw) throw new Error(`rollups disagree with raw events: ${check.rolled} vs ${check.raw}`);

    process.stdout.write(`30-day campaign report x${REPORTS} (total, day, day by country+platform, hour)...\n`);
    const from = start.toISOString();
    const to = new Date(start.getTime() + 30 * DAY_SECONDS * 1000).toISOString();
    const queries: Record<string, Record<string, string>> = {
      total: { campaignId: campaigns[0], from, to },
      day: { campaignId: campaigns[0], from, to, granularity: 'day' },
      'day x country,platform': { campaignId: campaigns[0], from, to, granularity: 'day', breakdown: 'country,platform' },
      'hour (720 rows)': { campaignId: campaigns[0], from, to, granularity: 'hour' },
    };
    const latencies: Record<string, number[]> = Object.fromEntries(Object.keys(queries).map((k) => [k, []]));
    for (let i = 0; i < REPORTS + 5; i++) {
      for (const [name, query] of Object.entries(queries)) {
        const began = process.hrtime.bigint();
        const res = await http('GET', `/v1/reports?${new URLSearchParams(query).toString()}`, { baseUrl: stack.baseUrl });
        if (res.status !== 200) throw new Error(`report ${name}: ${res.status} ${res.text}`);
        if (i >= 5) latencies[name].push(Number(process.hrtime.bigint() - began) / 1e6);
      }
      await sleep(5);
    }
    const [[sizes]] = (await db.query(
      'SELECT (SELECT COUNT(*) FROM event_rollups_hourly WHERE campaign_id = ?) AS hourly, (SELECT COUNT(*) FROM event_rollups_daily WHERE campaign_id = ?) AS daily, (SELECT COUNT(*) FROM reach_hourly WHERE campaign_id = ?) AS reach',
      [campaigns[0], campaigns[0], campaigns[0]],
    )) as unknown as [Array<{ hourly: string; daily: string; reach: string }>];

    // The real worker process on the whole backlog again, from scratch: its wall time and peak memory.
    process.stdout.write('worker process on the whole backlog...\n');
    await truncateRollups(db);
    t = Date.now();
    const worker = await stack.startWorker();
    const booted = Date.now();
    await waitFor(
      async () => {
        const [[row]] = (await db.query("SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups'")) as unknown as [Array<{ last_id: string }>];
        return Number(row.last_id) >= Number(max);
      },
      1_800_000,
      'the worker to aggregate everything',
      20,
    );
    const workerMs = Date.now() - booted;
    const rssPeak = peakRssMb(worker.child.pid!);

    process.stdout.write(`\n${'aggregation of'.padEnd(46)} ${n} raw events\n`);
    const secs = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
    process.stdout.write(`${'bare INSERT...SELECT...GROUP BY'.padEnd(46)} best ${(best(bareMs) / 1000).toFixed(2)} s, median ${(median(bareMs) / 1000).toFixed(2)} s (${secs(bareMs)})\n`);
    process.stdout.write(`${'pipeline: rollups + reach, exactly once'.padEnd(46)} best ${(best(pipelineMs) / 1000).toFixed(2)} s, median ${(median(pipelineMs) / 1000).toFixed(2)} s (${secs(pipelineMs)}), ${batches} batches\n`);
    process.stdout.write(`${'ratio pipeline / bare'.padEnd(46)} best ${(best(pipelineMs) / best(bareMs)).toFixed(2)}x, median ${(median(pipelineMs) / median(bareMs)).toFixed(2)}x; ${(Number(n) / (best(pipelineMs) / 1000)).toFixed(0)} events/s\n`);
    process.stdout.write(`${'worker process, same backlog (after boot)'.padEnd(46)} ${(workerMs / 1000).toFixed(2)} s (boot ${((booted - t) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(`${'worker peak RSS (VmHWM)'.padEnd(46)} ${rssPeak.toFixed(0)} MB\n`);
    process.stdout.write(`30-day campaign report (campaign rows: ${sizes.hourly} hourly, ${sizes.daily} daily, ${sizes.reach} reach), ms over ${REPORTS} runs:\n`);
    for (const [name, values] of Object.entries(latencies)) {
      values.sort((a, b) => a - b);
      process.stdout.write(`  ${name.padEnd(26)} p50 ${percentile(values, 50).toFixed(1)}  p95 ${percentile(values, 95).toFixed(1)}  max ${values[values.length - 1].toFixed(1)}\n`);
    }
  } finally {
    await dataSource.destroy();
    await db.end();
    await endStack(stack);
  }
}

runBench(main);
