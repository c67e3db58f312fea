/**
 * A/B of two builds on GET /t/impression, for changes too small for this noisy machine to show across
 * separate runs of bench:ingest: two stacks (API + one worker each, own database and Redis prefix) run
 * at once, and rounds alternate between them (A first in odd rounds, B first in even ones); each round
 * counts the rows it committed and the CPU the API, MySQL and Redis spent meanwhile, per stored event.
 * Tokens are spread over 1,000 line items, as in bench:ingest, and every request carries a new one.
 *
 *   git worktree add /tmp/base <commit> && (cd /tmp/base && ln -s "$PWD/node_modules" && npx nest build api && npx nest build worker)
 *   npm run build && A_ROOT=/tmp/base npm run bench:ingest:ab
 *
 * Env: A_ROOT (required: the other checkout, built), B_ROOT (default: this one), ROUNDS (6), SECONDS (5),
 * A_ENV / B_ENV (JSON of extra environment for that side's processes).
 * The other stack's worker may still be aggregating the previous round's events at the start of a
 * round (MySQL CPU); a pause after each round keeps that small.
 */
import { join } from 'node:path';
import type { TrackingClaims } from '@app/delivery';
import Redis from 'ioredis';
import { Connection } from 'mysql2/promise';
import { mysql } from '../../test/support/measurement-fixtures';
import { ROOT, sleep } from '../../test/support/processes';
import { Stack } from '../../test/support/stack';
import { TokenPool, beaconRun, catalog, primeCapPeriods, rowCount, tokens } from '../support/beacon-load';
import { cpuMs, medianBy, mysqlCpuMs, redisCpuMs } from '../support/proc-stats';
import { runBench } from '../support/bench-run';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = 256;

interface Side {
  name: 'A' | 'B';
  stack: Stack;
  db: Connection;
  pool: TokenPool;
  rounds: Array<{ durable: number; api: number; mysql: number; redis: number }>;
}

const median = (values: number[]) => medianBy(values, (v) => v);

async function main(): Promise<void> {
  const aRoot = process.env.A_ROOT;
  if (!aRoot) throw new Error('set A_ROOT (the other built checkout)');
  const id = Date.now().toString(36);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const sides: Side[] = [];
  try {
    for (const [name, root] of [['A', aRoot], ['B', process.env.B_ROOT ?? ROOT]] as const) {
      const stack = await Stack.start({ dbName: `adp_bench_ab_${name.toLowerCase()}_${id}`, queuePrefix: `bench-ab-${name.toLowerCase()}-${id}`, root, env: { LOG_LEVEL: 'warn', ...JSON.parse(process.env[`${name}_ENV`] ?? '{}') } });
      // Each build signs its own tokens (their format may differ between builds), with the stacks' secret.
      const { TrackingTokenCodec } = require(join(root, 'dist/libs/delivery/src/tracking/tracking-token.js')) as { TrackingTokenCodec: new (secret: string, ttl: number) => { sign(c: TrackingClaims): string } };
      const own = new TrackingTokenCodec(stack.env.TRACKING_SECRET!, 172800);
      const placements = catalog();
      await primeCapPeriods(redis, stack.env.QUEUE_PREFIX!, placements);
      const pool = new TokenPool(tokens((ROUNDS * SECONDS + 3) * 15_000, placements, (c) => own.sign(c)));
      sides.push({ name, stack, db: await mysql(stack.env.DB_NAME), pool, rounds: [] });
    }
    for (const side of sides) await beaconRun(side.stack.baseUrl, side.pool, 3, CONNECTIONS);
    await sleep(2000);
    for (let round = 1; round <= ROUNDS; round++) {
      // A then B, then B then A: the second of a round meets the first's aggregation still running.
      for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
        const rowsBefore = await rowCount(side.db);
        const before = { api: cpuMs(side.stack.api.child.pid!), mysql: mysqlCpuMs(), redis: await redisCpuMs(redis) };
        const run = await beaconRun(side.stack.baseUrl, side.pool, SECONDS, CONNECTIONS);
        const spent = { api: cpuMs(side.stack.api.child.pid!) - before.api, mysql: mysqlCpuMs() - before.mysql, redis: (await redisCpuMs(redis)) - before.redis };
        await sleep(2000);
        const rows = (await rowCount(side.db)) - rowsBefore;
        const per = (ms: number) => (ms * 1000) / rows;
        side.rounds.push({ durable: rows / SECONDS, api: per(spent.api), mysql: per(spent.mysql), redis: per(spent.redis) });
        const r = side.rounds[side.rounds.length - 1];
        console.log(`round ${round} ${side.name}: ${run.rps.toFixed(0)} answers/s, ${r.durable.toFixed(0)} durable events/s; CPU per event: API ${r.api.toFixed(0)} us, MySQL ${r.mysql.toFixed(0)} us, Redis ${r.redis.toFixed(0)} us`);
      }
    }
    const [a, b] = sides;
    const m = (s: Side, k: 'durable' | 'api' | 'mysql' | 'redis') => median(s.rounds.map((r) => r[k]));
    const ahead = b.rounds.filter((r, i) => r.durable > a.rounds[i].durable).length;
    console.log(
      `medians: durable events/s A ${m(a, 'durable').toFixed(0)}, B ${m(b, 'durable').toFixed(0)} (B/A ${(m(b, 'durable') / m(a, 'durable')).toFixed(2)}; B ahead in ${ahead} of ${ROUNDS} rounds); ` +
        (['api', 'mysql', 'redis'] as const).map((k) => `${k} us/event A ${m(a, k).toFixed(0)}, B ${m(b, k).toFixed(0)}`).join('; '),
    );
  } finally {
    redis.disconnect();
    for (const side of sides) {
      await side.db.end();
      await side.stack.stop();
      await side.stack.dropData();
    }
  }
}

runBench(main);
