/**
 * A/B of two builds of the API on POST /v1/decisions, for changes too small for this noisy machine to
 * show across separate runs: both APIs run at once on the same seeded database (each on its own Redis
 * prefix), and 5 s autocannon rounds alternate between them (A first in odd rounds, B first in even
 * ones); the figures are decisions/s and server CPU per decision (from /proc), medians over the rounds.
 *
 *   # a seeded database: BENCH_KEEP=1 npm run bench:decision  (prints BENCH_REUSE=<run id>)
 *   git worktree add /tmp/base <commit> && (cd /tmp/base && ln -s "$PWD/node_modules" && npx nest build api)
 *   npm run build && BENCH_REUSE=<run id> A_ROOT=/tmp/base npm run bench:decision:ab
 *
 * Env: A_ROOT (required: the other checkout, built), B_ROOT (default: this one), ROUNDS (8),
 * A_NODE_FLAGS / B_NODE_FLAGS (default: scripts/node-flags.js for the API), RATE (open loop at this many
 * decisions/s, with each side's p99; default 0: closed loop, 32 connections).
 */
import { join } from 'node:path';
import Redis from 'ioredis';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from '../../test/support/processes';
import { dropRedisPrefix, stackEnv } from '../../test/support/stack';
import { decisionLoad } from '../support/decision-load';
import { pacedLoad } from '../support/paced-load';
import { cpuSplitMs, medianBy, threadsCpuMs } from '../support/proc-stats';
import { markLedgerRestored } from '../../test/support/ledger';

const { nodeFlags } = require('../../scripts/node-flags') as { nodeFlags: (app: string) => string[] };

const ROUNDS = Number(process.env.ROUNDS ?? 8);
/** Open loop at this many decisions/s instead of as fast as 32 connections go (0: closed loop). */
const RATE = Number(process.env.RATE ?? 0);
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'AU', 'BR', 'JP', 'IN', 'MX'];
const PLATFORMS = ['ios', 'android', 'desktop', 'web', 'speaker', 'tv', 'car'];
const bodies = Array.from({ length: 2000 }, (_, i) =>
  JSON.stringify({
    placement: 'between-songs',
    slots: i % 5 === 0 ? 3 : 1,
    user: { id: `ab-listener-${i}`, age: 20 + (i % 45), gender: i % 2 ? 'female' : 'male' },
    device: { platform: PLATFORMS[i % PLATFORMS.length] },
    geo: { country: COUNTRIES[i % COUNTRIES.length] },
    context: { genre: 'rock', keywords: ['running', 'travel'] },
    format: 'audio',
  }),
);

async function startApi(name: string, root: string, flags: string[], runId: string): Promise<{ proc: ManagedProcess; url: string; redisUrl: string; prefix: string }> {
  const port = await freePort();
  const prefix = `bench-ab-${name}-${runId}`;
  const env = stackEnv({ dbName: `adp_bench_${runId}`, queuePrefix: prefix, env: { LOG_LEVEL: 'warn' } }, port);
  const proc = startProcess(prefix, process.execPath, [...flags, join(root, 'dist/apps/api/src/main.js')], env);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health/live`).catch(() => undefined))?.status === 200, 30_000, `API ${name}`);
  // No worker here: declare the fresh delivery counters complete, and start from empty ones.
  const redis = new Redis(env.REDIS_URL!);
  const stale = await redis.keys(`${prefix}:dlv:*`);
  if (stale.length > 0) await redis.del(...stale);
  await markLedgerRestored(redis, prefix);
  // A checkout from before the ledger lib (one Redis, one marker) looks for this key instead.
  await redis.set(`${prefix}:dlv:restored`, new Date().toISOString());
  redis.disconnect();
  return { proc, url: `${url}/v1/decisions`, redisUrl: env.REDIS_URL!, prefix };
}

const median = (values: number[]) => medianBy(values, (v) => v);

/** Ads served per slot asked for, over 100 of the bodies: both sides must fill alike for the A/B to mean anything. */
async function fillRate(url: string): Promise<number> {
  let asked = 0;
  let served = 0;
  for (const body of bodies.slice(0, 100)) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    asked += (JSON.parse(body) as { slots: number }).slots;
    if (res.status === 200) served += ((await res.json()) as { decisions: unknown[] }).decisions.length;
  }
  return served / asked;
}

async function main(): Promise<void> {
  const runId = process.env.BENCH_REUSE;
  const aRoot = process.env.A_ROOT;
  if (!runId || !aRoot) throw new Error('set BENCH_REUSE (a seeded run id) and A_ROOT (the other built checkout)');
  const flags = (side: 'A' | 'B') => process.env[`${side}_NODE_FLAGS`]?.split(' ').filter(Boolean) ?? nodeFlags('api');
  const sides = {
    A: await startApi('a', aRoot, flags('A'), runId),
    B: await startApi('b', process.env.B_ROOT ?? ROOT, flags('B'), runId),
  };
  try {
    await new Promise((r) => setTimeout(r, 2000));
    for (const side of Object.values(sides)) await decisionLoad(side.url, bodies, { seconds: 3, connections: 32 });
    const fill = { A: await fillRate(sides.A.url), B: await fillRate(sides.B.url) };
    console.log(`fill rate (ads per slot asked, 100 requests): A ${(fill.A * 100).toFixed(0)}%, B ${(fill.B * 100).toFixed(0)}%`);
    if (Math.abs(fill.A - fill.B) > 0.05) throw new Error('the two sides do not serve alike (restore marker? catalog?): the A/B would compare different work');
    const cpu: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const sys: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const helpers: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const p99: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const rate: Record<'A' | 'B', number[]> = { A: [], B: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // A then B, then B then A: whichever runs second in a round meets what the first left behind.
      for (const name of round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
        const { proc, url } = sides[name];
        const before = cpuSplitMs(proc.child.pid!);
        const threadsBefore = threadsCpuMs(proc.child.pid!);
        let rps: number;
        if (RATE > 0) {
          const paced = await pacedLoad({ url, method: 'POST', rate: RATE, seconds: 5, bodies: [...bodies] });
          rps = paced.rate;
          p99[name].push(paced.p99);
        } else rps = (await decisionLoad(url, bodies, { seconds: 5, connections: 32 })).requestsPerSecond;
        const after = cpuSplitMs(proc.child.pid!);
        helpers[name].push(((threadsCpuMs(proc.child.pid!).others - threadsBefore.others) * 1000) / (rps * 5));
        rate[name].push(rps);
        cpu[name].push(((after.user + after.system - before.user - before.system) * 1000) / (rps * 5));
        sys[name].push(((after.system - before.system) * 1000) / (rps * 5));
        console.log(`round ${round + 1} ${name}: ${rps.toFixed(0)} decisions/s, ${cpu[name][round].toFixed(0)} us of API CPU per decision (${sys[name][round].toFixed(0)} in the kernel, ${helpers[name][round].toFixed(0)} on threads other than the main one)`);
      }
    }
    const ahead = rate.B.filter((b, i) => b > rate.A[i]).length;
    console.log(`median decisions/s: A ${median(rate.A).toFixed(0)}, B ${median(rate.B).toFixed(0)} (B/A ${(median(rate.B) / median(rate.A)).toFixed(2)}; B ahead in ${ahead} of ${ROUNDS} rounds)`);
    console.log(`median API CPU per decision: A ${median(cpu.A).toFixed(0)} us, B ${median(cpu.B).toFixed(0)} us (B/A ${(median(cpu.B) / median(cpu.A)).toFixed(2)})`);
    if (RATE > 0) console.log(`at ${RATE} decisions/s, median p99: A ${median(p99.A).toFixed(1)} ms, B ${median(p99.B).toFixed(1)} ms`);
    console.log(`  of which in the kernel (system time: sockets, loopback delivery): A ${median(sys.A).toFixed(0)} us, B ${median(sys.B).toFixed(0)} us; in user space: A ${(median(cpu.A) - median(sys.A)).toFixed(0)} us, B ${(median(cpu.B) - median(sys.B)).toFixed(0)} us; on threads other than the main one (GC helpers, libuv pool): A ${median(helpers.A).toFixed(0)} us, B ${median(helpers.B).toFixed(0)} us`);
  } finally {
    await Promise.all(Object.values(sides).map((s) => s.proc.stop()));
    // The seeded database stays (BENCH_REUSE); each side's Redis keys go.
    for (const s of Object.values(sides)) await dropRedisPrefix(s.redisUrl, s.prefix);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
