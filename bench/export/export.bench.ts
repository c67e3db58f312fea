/**
 * bench/export: the warehouse export of one UTC day of raw events (the worker process's own job, through
 * POST /v1/ops/exports) against one bare streamed SELECT of the same rows out of MySQL with no writing
 * (mysql2, rows as arrays, nothing kept), in the same run, alternating; then the worker's peak RSS
 * (from its boot, which starts the export, to the last round) and, for comparison, the RSS of a worker
 * booted on the empty database and left idle.
 *
 *   npm run build && npm run bench:export -- [--events 5000000] [--rounds 2] [--keep]
 *
 * Target: the export's rows/s at least 0.5x the bare SELECT's; worker peak RSS under 300 MB.
 * The export's time is its raw_events table's, from data_exports.started_at to finished_at: streaming,
 * staging, Parquet, the sums read back from the files, SHA-256 and fsync (the rollups and the
 * verification that follow are not counted).
 */
import { DAY_MS, RAW_EVENT_DAY_SQL, dayOf } from '@app/warehouse';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2';
import { Connection } from 'mysql2/promise';
import { http } from '../../test/support/http';
import { mysql } from '../../test/support/measurement-fixtures';
import { waitFor } from '../../test/support/processes';
import { Stack } from '../../test/support/stack';
import { currentRssMb, peakRssMb, sampleRss } from '../support/proc-stats';
import { numberArg, sqlList, runBench, endStack } from '../support/bench-run';

const EVENTS = numberArg('events', 5_000_000);
const ROUNDS = numberArg('rounds', 2);

/** One day of events written set-based: a sequence from a cross join of digits, then one INSERT ... SELECT. */
async function generate(db: Connection, day: string): Promise<void> {
  const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
  const [campaigns, lineItems, creatives] = [ids(5), ids(25), ids(3)];
  await db.query('CREATE TABLE bench_digits (d INT NOT NULL PRIMARY KEY)');
  await db.query('INSERT INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
  const n = 'a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 + g.d * 100000 + h.d * 1000000';
  await db.query(`CREATE TABLE bench_seq (n INT NOT NULL PRIMARY KEY)
    SELECT ${n} AS n FROM bench_digits a, bench_digits b, bench_digits c, bench_digits e, bench_digits f, bench_digits g, bench_digits h WHERE ${n} < ${EVENTS}`);
  const d = 'FLOOR(n / 6)';
  await db.query(
    `INSERT INTO raw_events (decision_id, event_type, status, invalid_reason, occurred_at, received_at, advertiser_id, campaign_id, line_item_id, creative_id,
       user_id, user_hash, country, platform, pricing_model, rate_micros, ip_hash, ua_hash, ingest_tag)
     SELECT CONCAT(LPAD(HEX(${d}), 8, '0'), '-0000-7000-8000-', LPAD(HEX(${d}), 12, '0')), (n MOD 6) + 1,
       IF(${d} MOD 50 = 0, 'invalid', 'valid'), IF(${d} MOD 50 = 0, 'bot', NULL),
       TIMESTAMPADD(MICROSECOND, FLOOR(n * (86399000.0 / ${EVENTS})) * 1000, ?), TIMESTAMPADD(MICROSECOND, (FLOOR(n * (86399000.0 / ${EVENTS})) + 900) * 1000, ?),
       ?, ELT(${d} MOD 5 + 1, ${sqlList(campaigns)}), ELT(${d} MOD 25 + 1, ${sqlList(lineItems)}), ELT(${d} MOD 3 + 1, ${sqlList(creatives)}),
       CONCAT('listener-', (${d} * 104729) MOD 2000000), (${d} * 2654435761) MOD 18446744073709551557,
       ELT(${d} MOD 5 + 1, 'US', 'DE', 'FR', 'GB', 'BR'), ELT(${d} MOD 4 + 1, 'ios', 'android', 'web', 'speaker'), 'CPM', 2500000,
       (${d} * 40503) MOD 4294967291, (${d} MOD 977) * 7919, 1
     FROM bench_seq ORDER BY n`,
    [day, day, randomUUID()],
  );
  await db.query('DROP TABLE bench_seq, bench_digits');
}

/** One bare streamed SELECT of the day's rows, every column, nothing written or kept: rows and ms. */
function bareSelect(env: NodeJS.ProcessEnv, day: string): Promise<{ rows: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ host: env.DB_HOST, port: Number(env.DB_PORT), user: env.DB_USER, password: env.DB_PASSWORD, database: env.DB_NAME, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
    const started = process.hrtime.bigint();
    let rows = 0;
    conn
      .query({ sql: `SELECT * FROM raw_events WHERE ${RAW_EVENT_DAY_SQL} = ? ORDER BY id`, values: [day], rowsAsArray: true })
      .on('result', () => rows++)
      .on('error', reject)
      .on('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        conn.end();
        resolve({ rows, ms });
      });
  });
}

async function main(): Promise<void> {
  Logger.overrideLogger(['warn', 'error']);
  const id = Date.now().toString(36);
  const exportDir = mkdtempSync(join(tmpdir(), 'adp-bench-export-'));
  const stack = await Stack.start({ dbName: `adp_bench_${id}`, queuePrefix: `bench-${id}`, workers: 0, env: { EXPORT_DIR: exportDir } });
  const db = await mysql(stack.env.DB_NAME);
  const day = dayOf(Date.now() - 10 * DAY_MS);
  try {
    // Idle: a worker booted on the empty database (the measured worker starts exporting at its boot).
    const idleWorker = await stack.startWorker();
    await new Promise((r) => setTimeout(r, 5000));
    const rssIdle = currentRssMb(idleWorker.child.pid!);
    await idleWorker.stop();

    process.stdout.write(`writing ${EVENTS} raw events on ${day}...\n`);
    const t = Date.now();
    await generate(db, day);
    // Nothing to aggregate: the worker only exports.
    await db.query("UPDATE aggregation_watermarks SET last_id = (SELECT MAX(id) FROM raw_events) WHERE name = 'rollups'");
    process.stdout.write(`  done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);

    const worker = await stack.startWorker();
    const sampler = sampleRss(worker.child.pid!);
    const bare: Array<{ rows: number; ms: number }> = [];
    const exported: Array<{ rows: number; ms: number; files: number }> = [];
    let lastRun: string | null = null;
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round}/${ROUNDS}: bare streamed SELECT, then the export...\n`);
      bare.push(await bareSelect(stack.env, day));
      const res = await http('POST', '/v1/ops/exports', { baseUrl: stack.baseUrl, body: { date: day } });
      // 409: the worker's hourly planner, run at its start, is already exporting the closed day; that run is measured.
      if (res.status !== 202 && res.status !== 409) throw new Error(`POST /v1/ops/exports: ${res.status} ${res.text}`);
      const raw = await waitFor(
        async () => {
          const list = await http('GET', `/v1/ops/exports?from=${day}&to=${day}`, { baseUrl: stack.baseUrl });
          const view = list.body.data[0];
          const table = view?.tables.find((x: any) => x.table === 'raw_events');
          if (table?.state === 'failed') throw new Error(`export failed: ${table.error}`);
          return view?.state === 'verified' && table.runId !== lastRun ? table : null;
        },
        3_600_000,
        'the export to finish',
        500,
      );
      lastRun = raw.runId;
      exported.push({ rows: raw.rows, ms: Date.parse(raw.finishedAt) - Date.parse(raw.startedAt), files: raw.files.length });
    }
    const rss = peakRssMb(worker.child.pid!);
    const top = sampler.stop();
    const rate = (r: { rows: number; ms: number }) => r.rows / (r.ms / 1000);
    const best = <T extends { rows: number; ms: number }>(xs: T[]) => xs.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const fmt = (r: { rows: number; ms: number }) => `${r.rows} rows in ${(r.ms / 1000).toFixed(2)} s = ${Math.round(rate(r)).toLocaleString('en-US')} rows/s`;
    process.stdout.write(`\n${'bare streamed SELECT (mysql2, no writing)'.padEnd(46)} best ${fmt(best(bare))}; all: ${bare.map((r) => Math.round(rate(r))).join(', ')}\n`);
    process.stdout.write(`${'export raw_events -> Parquet (worker job)'.padEnd(46)} best ${fmt(best(exported))}, ${exported[0].files} part file(s); all: ${exported.map((r) => Math.round(rate(r))).join(', ')}\n`);
    process.stdout.write(`${'ratio export / bare (best of each)'.padEnd(46)} ${(rate(best(exported)) / rate(best(bare))).toFixed(2)}x (target >= 0.5x)\n`);
    process.stdout.write(`${'worker peak RSS (VmHWM)'.padEnd(46)} ${rss.toFixed(0)} MB (target < 300 MB); a worker booted and idle: ${rssIdle.toFixed(0)} MB\n`);
    process.stdout.write(`${'  at the highest sample (every 200 ms)'.padEnd(46)} ${top.rssMb.toFixed(0)} MB: ${top.anonMb.toFixed(0)} MB anonymous (V8 heap, native), ${top.fileMb.toFixed(0)} MB file-backed (code)\n`);
  } finally {
    await db.end();
    rmSync(exportDir, { recursive: true, force: true });
    await endStack(stack);
  }
}

runBench(main);
