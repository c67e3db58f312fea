/**
 * bench/ingest: durable beacon ingestion over HTTP against its ceiling, in the same run.
 *
 *   npm run build && npm run bench:ingest -- [--rounds 3] [--duration 8] [--connections 256]
 *
 * 1. Ceiling: a bare Fastify server answering GET /t/:event with 204 (bench/ingest/bare-server.js).
 * 2. The real API process (plus one worker aggregating meanwhile) on a fresh database: every request
 *    carries a distinct signed token, so each is a new event; "durable events/s" counts the rows
 *    committed in MySQL during the run, not the answers. The machine's speed drifts within minutes,
 *    so rounds against the ceiling and the API alternate (`--rounds` of `--duration` seconds each)
 *    and the medians are compared. Prints the CPU per event of the API, MySQL and Redis.
 * 3. The offline batch endpoint (POST /v1/events, 50 events per request).
 * 4. Freshness: at a steady 2,000 events/s, the time from a beacon's 204 to its event being in the
 *    rollups (watermark past its id), sampled every 250 ms.
 */
import { TrackingClaims } from '@app/delivery';
import { Connection } from 'mysql2/promise';
import { availableParallelism } from 'node:os';
import { codec, decision, mysql, randomPlacement } from '../../test/support/measurement-fixtures';
import { freePort, sleep, startProcess, waitFor } from '../../test/support/processes';
import { ADMIN_KEY, Stack } from '../../test/support/stack';
import { Run, TokenPool, UA, beaconRun, cannon, catalog, primeCapPeriods, rowCount, tokens } from '../support/beacon-load';
import { PacedResult, pacedLoad } from '../support/paced-load';
import Redis from 'ioredis';
import { cpuMs, medianBy, mysqlCpuMs, redisCpuMs } from '../support/proc-stats';
import { numberArg, runBench } from '../support/bench-run';

const ROUNDS = numberArg('rounds', 3);
const DURATION = numberArg('duration', 8);
const CONNECTIONS = numberArg('connections', 256);

/** Events written and group-commit transactions so far: the API's measurement_ingest_batch_size histogram. */
async function batchTotals(baseUrl: string): Promise<{ events: number; batches: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { events: read('measurement_ingest_batch_size_sum'), batches: read('measurement_ingest_batch_size_count') };
}

async function freshness(baseUrl: string, db: Connection, seconds: number, pool: string[]): Promise<{ p50: number; p95: number; max: number; samples: number; load: PacedResult }> {
  const placement = randomPlacement();
  const delays: number[] = [];
  let done = false;
  // A steady 2,000 beacons/s (autocannon's overallRate would send each second's share in a burst).
  const load = pacedLoad({ url: `${baseUrl}/t/impression`, method: 'GET', rate: 2000, seconds, paths: pool.map((d) => `/t/impression?d=${d}`), headers: { 'user-agent': UA }, maxSockets: 256 }).finally(() => {
    done = true;
  });
  const probes: Array<Promise<void>> = [];
  while (!done) {
    probes.push(
      (async () => {
        const claims: TrackingClaims = decision(placement);
        const res = await fetch(`${baseUrl}/t/impression?d=${encodeURIComponent(codec.sign(claims))}`, { headers: { 'user-agent': UA } });
        const acked = Date.now();
        if (res.status !== 204) return;
        const [[row]] = (await db.query('SELECT id FROM raw_events WHERE decision_id = ?', [claims.decisionId])) as unknown as [Array<{ id: string }>];
        await waitFor(
          async () => {
            const [[wm]] = (await db.query("SELECT last_id FROM aggregation_watermarks WHERE name = 'rollups'")) as unknown as [Array<{ last_id: string }>];
            return Number(wm.last_id) >= Number(row.id);
          },
          60_000,
          'the probe event in the rollups',
          20,
        );
        delays.push(Date.now() - acked);
      })(),
    );
    await sleep(250);
  }
  const result = await load;
  await Promise.all(probes);
  delays.sort((a, b) => a - b);
  const pct = (p: number) => delays[Math.min(delays.length - 1, Math.ceil((p / 100) * delays.length) - 1)];
  return { p50: pct(50), p95: pct(95), max: delays[delays.length - 1], samples: delays.length, load: result };
}

async function main(): Promise<void> {
  const id = `${Date.now().toString(36)}`;
  process.stdout.write(`minting tokens...\n`);
  // Distinct tokens for every API request up to 15,000/s (the bare server may see repeats: it stores nothing).
  const placements = catalog();
  const barePool = new TokenPool(tokens(60_000));
  const apiPool = new TokenPool(tokens((ROUNDS * DURATION + 3) * 15_000, placements));

  const barePort = await freePort();
  const bare = startProcess(`bench-bare-${id}`, process.execPath, ['bench/ingest/bare-server.js'], { PORT: String(barePort) });
  await waitFor(async () => bare.output().includes('listening'), 10_000, 'bare server');
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const stack = await Stack.start({ dbName: `adp_bench_${id}`, queuePrefix: `bench-${id}`, env: { LOG_LEVEL: 'info', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) } });
  const db = await mysql(stack.env.DB_NAME);
  const redis = new Redis(stack.env.REDIS_URL!);
  try {
    await primeCapPeriods(redis, stack.env.QUEUE_PREFIX!, placements);
    await beaconRun(bareUrl, barePool, 3, CONNECTIONS);
    await beaconRun(stack.baseUrl, apiPool, 3, CONNECTIONS);
    // Requests cut off at the end of a run still commit: let them land before counting.
    await sleep(1000);
    const ceilings: Run[] = [];
    const apis: Array<Run & { durable: number }> = [];
    let bareCpu = 0;
    let apiCpu = 0;
    let mysqlCpu = 0;
    let redisCpu = 0;
    let workerCpu = 0;
    let clientCpu = 0;
    let stored = 0;
    const batchesBefore = await batchTotals(stack.baseUrl);
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round}/${ROUNDS}: bare Fastify, then API GET /t/impression, ${DURATION}s each...\n`);
      const bareBefore = cpuMs(bare.child.pid!);
      ceilings.push(await beaconRun(bareUrl, barePool, DURATION, CONNECTIONS));
      bareCpu += cpuMs(bare.child.pid!) - bareBefore;

      const rowsBefore = await rowCount(db);
      const workerPid = stack.workers[0].child.pid!;
      const before = { api: cpuMs(stack.api.child.pid!), mysql: mysqlCpuMs(), redis: await redisCpuMs(redis), worker: cpuMs(workerPid), client: cpuMs(process.pid) };
      const run = await beaconRun(stack.baseUrl, apiPool, DURATION, CONNECTIONS);
      apiCpu += cpuMs(stack.api.child.pid!) - before.api;
      workerCpu += cpuMs(workerPid) - before.worker;
      clientCpu += cpuMs(process.pid) - before.client;
      mysqlCpu += mysqlCpuMs() - before.mysql;
      redisCpu += (await redisCpuMs(redis)) - before.redis;
      await sleep(1000);
      const rows = (await rowCount(db)) - rowsBefore;
      stored += rows;
      apis.push({ ...run, durable: rows / DURATION });
    }
    const batchesAfter = await batchTotals(stack.baseUrl);
    const eventsPerBatch = (batchesAfter.events - batchesBefore.events) / Math.max(1, batchesAfter.batches - batchesBefore.batches);
    await bare.stop();
    const ceiling = medianBy(ceilings, (r) => r.rps);
    const api = medianBy(apis, (r) => r.durable);
    const bareRequests = ceilings.reduce((n, r) => n + r.requests, 0);
    const apiRequests = apis.reduce((n, r) => n + r.requests, 0);
    const perEvent = (ms: number) => ((ms * 1000) / stored).toFixed(0);
    const bareCpuUs = ((bareCpu * 1000) / bareRequests).toFixed(0);

    const batchPool = new TokenPool(tokens(Math.min(400_000, DURATION * 30_000), placements));
    const bodies = () => {
      const events = [];
      for (let i = 0; i < 50; i++) events.push({ event: 'impression', token: decodeURIComponent(batchPool.take()) });
      return JSON.stringify({ events });
    };
    const beforeBatch = await rowCount(db);
    process.stdout.write(`API: POST /v1/events (50 per request) for ${DURATION}s...\n`);
    const batch = await cannon({
      url: stack.baseUrl,
      connections: 16,
      duration: DURATION,
      headers: { 'user-agent': UA, 'content-type': 'application/json' },
      requests: [{ method: 'POST', path: '/v1/events', setupRequest: (req) => ({ ...req, body: bodies() }) }],
    });
    await sleep(1000);
    const batchStored = (await rowCount(db)) - beforeBatch;

    process.stdout.write('freshness at 2,000 events/s for 20s...\n');
    const fresh = await freshness(stack.baseUrl, db, 20, tokens(60_000, placements));

    const rows = [
      ['bare Fastify 204 (ceiling)', ceiling.rps.toFixed(0), '-', ceiling.p99, ceilings.reduce((n, r) => n + r.non2xx + r.errors, 0), bareCpuUs],
      ['API GET /t/impression', api.rps.toFixed(0), api.durable.toFixed(0), api.p99, apis.reduce((n, r) => n + r.non2xx + r.errors, 0), ((apiCpu * 1000) / apiRequests).toFixed(0)],
      ['API POST /v1/events x50', (batch.rps * 50).toFixed(0), (batchStored / DURATION).toFixed(0), batch.p99, batch.non2xx + batch.errors, '-'],
    ];
    process.stdout.write(`\n${'median run'.padEnd(30)} ${'answers/s'.padStart(10)} ${'durable ev/s'.padStart(13)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU µs/req'.padStart(11)}\n`);
    for (const r of rows) process.stdout.write(`${String(r[0]).padEnd(30)} ${String(r[1]).padStart(10)} ${String(r[2]).padStart(13)} ${String(r[3]).padStart(8)} ${String(r[4]).padStart(7)} ${String(r[5]).padStart(11)}\n`);
    process.stdout.write(
      `\nbeacons: ${api.durable.toFixed(0)} durable events/s (target >= 10000) = ${((api.durable / ceiling.rps) * 100).toFixed(1)}% of the bare Fastify ceiling (${ceiling.rps.toFixed(0)} req/s; target >= 40%); ${apiRequests} answers, ${stored} rows committed\n`,
    );
    process.stdout.write(`rounds (req/s): API ${apis.map((r) => r.rps.toFixed(0)).join(', ')}; ceiling ${ceilings.map((r) => r.rps.toFixed(0)).join(', ')}\n`);
    process.stdout.write(
      `CPU per stored event: API ${perEvent(apiCpu)} µs, MySQL ${perEvent(mysqlCpu)} µs, Redis ${perEvent(redisCpu)} µs (whole servers: MySQL also serves the worker's aggregation meanwhile), worker ${perEvent(workerCpu)} µs, load generator ${perEvent(clientCpu)} µs; the bare server's run: ${bareCpuUs} µs server, of ${((availableParallelism() * 1e6) / ceiling.rps).toFixed(0)} µs of the machine's ${availableParallelism()} cores per request\n`,
    );
    process.stdout.write(`group commit: ${eventsPerBatch.toFixed(1)} events per transaction on average in the API rounds\n`);
    process.stdout.write(`freshness at a steady ${fresh.load.rate.toFixed(0)} events/s (beacon p99 ${fresh.load.p99.toFixed(1)} ms, ${fresh.load.errors + fresh.load.non2xx} errors): 204 -> in reports p50 ${fresh.p50} ms, p95 ${fresh.p95} ms, max ${fresh.max} ms (${fresh.samples} samples)\n`);
  } finally {
    redis.disconnect();
    await bare.stop();
    await db.end();
    await stack.stop();
    await stack.dropData();
  }
}

runBench(main);

