/**
 * bench/ingest: durable beacon ingestion over HTTP against its ceiling, in the same run.
 *
 *   npm run build && npm run bench:ingest -- [--duration 15] [--connections 64]
 *
 * 1. Ceiling: a bare Fastify server answering GET /t/:event with 204 (bench/ingest/bare-server.js).
 * 2. The real API process (plus one worker aggregating meanwhile) on a fresh database: every request
 *    carries a distinct signed token, so each is a new event; "durable events/s" counts the rows
 *    committed in MySQL during the run, not the answers.
 * 3. The offline batch endpoint (POST /v1/events, 50 events per request).
 * 4. Freshness: at a steady 2,000 events/s, the time from a beacon's 204 to its event being in the
 *    rollups (watermark past its id), sampled every 250 ms.
 */
import { TrackingClaims } from '@app/delivery';
import autocannon from 'autocannon';
import { Connection } from 'mysql2/promise';
import { codec, decision, mysql, randomPlacement } from '../../test/support/measurement-fixtures';
import { freePort, sleep, startProcess, waitFor } from '../../test/support/processes';
import { Stack } from '../../test/support/stack';
import { PacedResult, pacedLoad } from '../support/paced-load';
import { cpuMs } from '../support/proc-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const DURATION = arg('duration', 15);
const CONNECTIONS = arg('connections', 256);
const UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

interface Run {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function cannon(options: autocannon.Options): Promise<Run> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => {
      if (err) return reject(err);
      resolve({
        requests: result.requests.total,
        rps: result.requests.total / (result.duration || 1),
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    });
  });
}

function tokens(count: number, base: ReturnType<typeof randomPlacement>): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = encodeURIComponent(codec.sign(decision(base, { userId: `bench-${i % 50_000}` })));
  return out;
}

async function rowCount(db: Connection): Promise<number> {
  const [[row]] = (await db.query('SELECT COUNT(*) AS n FROM raw_events')) as unknown as [Array<{ n: string }>];
  return Number(row.n);
}

async function beaconRun(url: string, pool: string[], seconds: number, extra: Partial<autocannon.Options> = {}): Promise<Run> {
  let next = 0;
  return cannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'user-agent': UA },
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/t/impression?d=${pool[next++ % pool.length]}` }) }],
    ...extra,
  });
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
  const placement = randomPlacement();
  process.stdout.write(`minting tokens...\n`);
  const pool = tokens(Math.min(600_000, (DURATION + 3) * 25_000), placement);

  const barePort = await freePort();
  const bare = startProcess(`bench-bare-${id}`, process.execPath, ['bench/ingest/bare-server.js'], { PORT: String(barePort) });
  await waitFor(async () => bare.output().includes('listening'), 10_000, 'bare server');
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await beaconRun(bareUrl, pool, 3);
  process.stdout.write(`ceiling: bare Fastify for ${DURATION}s...\n`);
  const bareCpu = cpuMs(bare.child.pid!);
  const ceiling = await beaconRun(bareUrl, pool, DURATION);
  const bareCpuPerRequest = ((cpuMs(bare.child.pid!) - bareCpu) * 1000) / ceiling.requests;
  await bare.stop();

  const stack = await Stack.start({ dbName: `adp_bench_${id}`, queuePrefix: `bench-${id}`, env: { LOG_LEVEL: 'info' } });
  const db = await mysql(stack.env.DB_NAME);
  try {
    // Fresh tokens for the API runs (the ceiling used the same strings, which is fine for a 204 server).
    const apiPool = tokens(pool.length, randomPlacement());
    await beaconRun(stack.baseUrl, apiPool.slice(-60_000), 3);
    // Requests cut off at the end of a run still commit: let them land before counting.
    await sleep(1000);
    const before = await rowCount(db);
    process.stdout.write(`API: GET /t/impression for ${DURATION}s...\n`);
    const apiCpu = cpuMs(stack.api.child.pid!);
    const api = await beaconRun(stack.baseUrl, apiPool, DURATION);
    const apiCpuPerRequest = ((cpuMs(stack.api.child.pid!) - apiCpu) * 1000) / api.requests;
    await sleep(1000);
    const stored = (await rowCount(db)) - before;

    const batchPool = tokens(Math.min(400_000, DURATION * 30_000), randomPlacement());
    let nextBatch = 0;
    const bodies = () => {
      const events = [];
      for (let i = 0; i < 50; i++) events.push({ event: 'impression', token: decodeURIComponent(batchPool[nextBatch++ % batchPool.length]) });
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
    const fresh = await freshness(stack.baseUrl, db, 20, tokens(60_000, randomPlacement()));

    const rows = [
      ['bare Fastify 204 (ceiling)', ceiling.rps.toFixed(0), '-', ceiling.p99, ceiling.non2xx + ceiling.errors, bareCpuPerRequest.toFixed(0)],
      ['API GET /t/impression', api.rps.toFixed(0), (stored / DURATION).toFixed(0), api.p99, api.non2xx + api.errors, apiCpuPerRequest.toFixed(0)],
      ['API POST /v1/events x50', (batch.rps * 50).toFixed(0), (batchStored / DURATION).toFixed(0), batch.p99, batch.non2xx + batch.errors, '-'],
    ];
    process.stdout.write(`\n${'run'.padEnd(30)} ${'answers/s'.padStart(10)} ${'durable ev/s'.padStart(13)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU µs/req'.padStart(11)}\n`);
    for (const r of rows) process.stdout.write(`${String(r[0]).padEnd(30)} ${String(r[1]).padStart(10)} ${String(r[2]).padStart(13)} ${String(r[3]).padStart(8)} ${String(r[4]).padStart(7)} ${String(r[5]).padStart(11)}\n`);
    process.stdout.write(`\nbeacons: ${(stored / DURATION).toFixed(0)} durable events/s = ${((api.rps / ceiling.rps) * 100).toFixed(1)}% of the bare Fastify ceiling (${ceiling.rps.toFixed(0)} req/s); ${api.requests} answers, ${stored} rows committed\n`);
    process.stdout.write(`freshness at a steady ${fresh.load.rate.toFixed(0)} events/s (beacon p99 ${fresh.load.p99.toFixed(1)} ms, ${fresh.load.errors + fresh.load.non2xx} errors): 204 -> in reports p50 ${fresh.p50} ms, p95 ${fresh.p95} ms, max ${fresh.max} ms (${fresh.samples} samples)\n`);
  } finally {
    await db.end();
    await stack.stop();
    await stack.dropData();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});

