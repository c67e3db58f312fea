/**
 * Redis CPU of the delivery ledger per decision and per stored beacon, A/B in one run: today's design
 * (A: the single-script DeliveryCountersService of another built checkout, default /work/main, on one
 * Redis) against this one (B: DeliveryLedger with leases, on one Redis and on a three-master cluster).
 * Each side gets the same work: 1,000 line items (half capped, 3 an hour), 100 campaigns (with
 * budgets), 100,000 listeners, the listener limit on (30, as configured by default); each decision
 * offers 3 line items for one slot. Then every served decision's impression is applied (5% also click),
 * in ingestion batches of 50. Redis CPU is INFO's used_cpu_sys + used_cpu_user, summed over every
 * server of the side, before and after; the bench uses Redis servers of its own (a standalone one it
 * starts on BENCH_REDIS_PORT, default 7111, and the cluster of TEST_REDIS_CLUSTER_NODES), so other
 * processes' commands do not count. Also prints how evenly 1,000 line items and 100,000 listeners
 * (their keys after the run, and the CPU) spread over the cluster's shards.
 *
 *   (cd /work/main && npm run build)   # or A_ROOT=<another built checkout>
 *   TEST_REDIS_CLUSTER_NODES=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103 npm run bench:ledger
 *
 * Env: A_ROOT, DECISIONS (20000), WARMUP (20000 decisions before measuring), CONCURRENCY (64), LISTENER_LIMIT (30), BENCH_REDIS_PORT, TEST_REDIS_CLUSTER_NODES.
 */
import { DeliveryLedger, LedgerKeys, STRIPES, SystemClock, clusterSlot } from '@app/delivery-ledger';
import type { CountableEvent, ReservationCandidate, ReservationRequest, ReservationResult } from '@app/delivery-ledger';
import type { RedisService } from '@app/platform';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { LedgerTestRedis, clusterNodes, ledgerTargets } from '../../test/support/ledger-redis';
import { ledgerCandidate } from '../../test/support/ledger';
import { redisCommandStats, redisCpuMs } from '../support/proc-stats';
import { seededRandom as rng } from '../../test/support/seeded-random';


const A_ROOT = process.env.A_ROOT ?? '/work/main';
const DECISIONS = Number(process.env.DECISIONS ?? 20_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
/** Decisions run before the measured ones (leases taken and grown to the rate, as in a running system); 0: measure from a cold start. */
const WARMUP = Number(process.env.WARMUP ?? 20_000);
/** Outstanding decisions per listener (DECISION_LISTENER_LIMIT; 0: off). */
const LISTENER_LIMIT = Number(process.env.LISTENER_LIMIT ?? 30);
const PORT = Number(process.env.BENCH_REDIS_PORT ?? 7111);
const LINE_ITEMS = 1000;
const CAMPAIGNS = 100;
const LISTENERS = 100_000;
const CPM = 5_000_000;

interface Ledgerish {
  reserve(r: ReservationRequest): Promise<ReservationResult>;
  applyEvents(e: CountableEvent[]): Promise<void>;
  markRestored(): Promise<void>;
  whenReady(): Promise<void>;
  onApplicationShutdown(): unknown;
}

function candidate(i: number): ReservationCandidate {
  return ledgerCandidate({
    lineItemId: `bench-li-${i}`,
    campaignId: `bench-cp-${i % CAMPAIGNS}`,
    eventPriceMilliMicros: CPM,
    reserveMilliMicros: CPM,
    budgetMilliMicros: 1e13,
    dailyBudgetMilliMicros: i % 4 === 0 ? 1e12 : null,
    campaignBudgetMilliMicros: 1e14,
    dayStartQuarter: Math.floor(Date.now() / 86_400_000) * 96,
    frequencyCaps: i % 2 === 0 ? [{ maxImpressions: 3, periodSeconds: 3600 }] : [],
  });
}

const CANDIDATES = Array.from({ length: LINE_ITEMS }, (_, i) => candidate(i));

async function serversCpuMs(servers: Redis[]): Promise<number[]> {
  return Promise.all(servers.map((s) => redisCpuMs(s)));
}

type CommandStats = Map<string, { calls: number; usec: number }>;

/** INFO commandstats summed over the side's servers. */
async function serversCommandStats(servers: Redis[]): Promise<CommandStats> {
  const sum: CommandStats = new Map();
  for (const stats of await Promise.all(servers.map((s) => redisCommandStats(s)))) {
    for (const [name, v] of stats) {
      const acc = sum.get(name) ?? { calls: 0, usec: 0 };
      sum.set(name, { calls: acc.calls + v.calls, usec: acc.usec + v.usec });
    }
  }
  return sum;
}

/** Commands of a phase (after - before), per unit of work: calls and µs of Redis's own timing each. */
function commandsPerUnit(label: string, before: CommandStats, after: CommandStats, units: number): string {
  const rows: string[] = [];
  for (const [name, v] of after) {
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    const calls = v.calls - b.calls;
    if (calls <= 0 || name === 'info') continue;
    rows.push(`${name} ${(calls / units).toFixed(2)}× ${((v.usec - b.usec) / units).toFixed(1)}µs`);
  }
  return `  ${label} per unit: ${rows.join(', ')}`;
}

async function run(name: string, ledger: Ledgerish, servers: Redis[]): Promise<{ decisionUs: number; beaconUs: number; perServerDecision: number[]; served: number; decisionsPerS: number }> {
  await ledger.whenReady();
  await ledger.markRestored();
  const random = rng(7);
  const all: ReservationRequest[] = Array.from({ length: WARMUP + DECISIONS }, (_, i) => {
    const user = `listener-${Math.floor(random() * LISTENERS)}`;
    const picks = [0, 1, 2].map(() => CANDIDATES[Math.floor(random() * LINE_ITEMS)]);
    return { userId: user, limits: { listener: LISTENER_LIMIT, ip: 0 }, decisionIds: [`${name}-d${i}`], candidates: picks };
  });
  // What the servers spend idle (cron, cluster bus), per ms, subtracted from the figures below. Measured
  // before the warm-up: a pause after it would let the leases go idle and be returned (2 s).
  const idleFrom = await serversCpuMs(servers);
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const idleTo = await serversCpuMs(servers);
  const idlePerMs = idleTo.map((v, k) => (v - idleFrom[k]) / (performance.now() - idleStarted));
  // Warm-up (scripts loaded, leases taken and grown), not counted: at least one wave.
  const warmup = all.slice(0, Math.max(WARMUP, CONCURRENCY));
  for (let i = 0; i < warmup.length; i += CONCURRENCY) await Promise.all(warmup.slice(i, i + CONCURRENCY).map((r) => ledger.reserve({ ...r, decisionIds: [`${r.decisionIds[0]}-w`] })));
  const requests = all.slice(WARMUP);
  const served: CountableEvent[] = [];
  const before = await serversCpuMs(servers);
  const statsBefore = await serversCommandStats(servers);
  const started = performance.now();
  for (let i = 0; i < requests.length; i += CONCURRENCY) {
    const wave = requests.slice(i, i + CONCURRENCY);
    const results = await Promise.all(wave.map((r) => ledger.reserve(r)));
    results.forEach((res, j) => {
      if (!res.restored) return;
      for (const s of res.selected) {
        const c = wave[j].candidates[s.index];
        const claims = { decisionId: s.decisionId, advertiserId: 'a', campaignId: c.campaignId, lineItemId: c.lineItemId, creativeId: 'cr', userId: wave[j].userId, pricingModel: 'CPM' as const, rateMicros: CPM, country: 'US', platform: 'web', issuedAt: Math.floor(Date.now() / 1000) };
        served.push({ claims, event: 'impression', occurredAt: Date.now() });
        if (served.length % 20 === 0) served.push({ claims, event: 'click', occurredAt: Date.now() });
      }
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const afterDecisions = (await serversCpuMs(servers)).map((v, k) => v - idlePerMs[k] * seconds * 1000);
  const statsDecisions = await serversCommandStats(servers);
  const applyStarted = performance.now();
  // Ingestion applies newly stored events in batches (one per insert batch), several in flight.
  const batches: CountableEvent[][] = [];
  for (let i = 0; i < served.length; i += 50) batches.push(served.slice(i, i + 50));
  for (let i = 0; i < batches.length; i += 8) await Promise.all(batches.slice(i, i + 8).map((b) => ledger.applyEvents(b)));
  const applyMs = performance.now() - applyStarted;
  const afterBeacons = (await serversCpuMs(servers)).map((v, k) => v - idlePerMs[k] * (seconds * 1000 + applyMs));
  console.log(`${name}:`);
  console.log(commandsPerUnit('decisions', statsBefore, statsDecisions, DECISIONS));
  console.log(commandsPerUnit('beacon events', statsDecisions, await serversCommandStats(servers), served.length));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const perServerDecision = afterDecisions.map((v, k) => v - before[k]);
  return {
    decisionUs: (sum(perServerDecision) * 1000) / DECISIONS,
    beaconUs: ((sum(afterBeacons) - sum(afterDecisions)) * 1000) / served.length,
    perServerDecision,
    served: served.length,
    decisionsPerS: DECISIONS / seconds,
  };
}

function startStandalone(): void {
  execFileSync('redis-server', ['--port', String(PORT), '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', `/tmp/bench-ledger-${PORT}.pid`, '--dir', '/tmp']);
}

function stopStandalone(): void {
  try {
    execFileSync('redis-cli', ['-p', String(PORT), 'shutdown', 'nosave']);
  } catch {
    // already gone
  }
}

async function main(): Promise<void> {
  const oldPath = join(A_ROOT, 'dist/libs/delivery/src/counters/delivery-counters.service.js');
  if (!existsSync(oldPath)) throw new Error(`A side missing: build ${A_ROOT} (npm run build) or set A_ROOT to a built checkout of today's design (${oldPath})`);
  const { DeliveryCountersService } = require(oldPath) as { DeliveryCountersService: new (r: RedisService, c: unknown) => Ledgerish };
  clusterNodes();
  startStandalone();
  process.env.REDIS_URL = `redis://127.0.0.1:${PORT}`;
  const [[, one], [, cluster]] = ledgerTargets();
  const conns: LedgerTestRedis[] = [];
  try {
    const a = await one.connect();
    conns.push(a);
    const resultA = await run('A', new DeliveryCountersService(a, new SystemClock()), [a.client as unknown as Redis]);
    const b = await one.connect();
    conns.push(b);
    const ledgerB = new DeliveryLedger(b, new SystemClock());
    const resultB = await run('B', ledgerB, [b.client as unknown as Redis]);
    await ledgerB.onApplicationShutdown();
    const c = await cluster.connect();
    conns.push(c);
    const masters = (c.client as unknown as Cluster).nodes('master');
    const ledgerC = new DeliveryLedger(c, new SystemClock());
    const resultC = await run('C', ledgerC, masters);
    await ledgerC.onApplicationShutdown();

    const row = (label: string, r: Awaited<ReturnType<typeof run>>) =>
      `| ${label} | ${r.decisionUs.toFixed(1)} | ${r.beaconUs.toFixed(1)} | ${r.decisionsPerS.toFixed(0)} |`;
    console.log(`\nRedis CPU per decision and per applied beacon event (${DECISIONS} decisions after ${WARMUP} not counted, 1,000 line items half capped, listener limit ${LISTENER_LIMIT || 'off'}; ${resultA.served} events)`);
    console.log('| side | µs Redis CPU / decision | µs Redis CPU / beacon event | decisions/s (one client process) |');
    console.log('|---|---|---|---|');
    console.log(row("A: today's design (one script per call, one Redis)", resultA));
    console.log(row('B: ledger with leases, one Redis', resultB));
    console.log(row('B: ledger with leases, 3-master cluster (all shards)', resultC));
    console.log(`ratio B/A per decision: ${(resultB.decisionUs / resultA.decisionUs).toFixed(2)} (one Redis), ${(resultC.decisionUs / resultA.decisionUs).toFixed(2)} (cluster); per beacon event: ${(resultB.beaconUs / resultA.beaconUs).toFixed(2)}, ${(resultC.beaconUs / resultA.beaconUs).toFixed(2)}`);

    // Spread over the cluster: keys per shard after the run, CPU per shard, and stripes per shard.
    const keys = new LedgerKeys({ key: (...p) => `${c.prefix}:${p.join(':')}` });
    const slots = (c.client as unknown as Cluster).slots;
    const shardOf = (key: string) => slots[clusterSlot(key)]?.[0] ?? '?';
    const count = (ids: string[], keyOf: (id: string) => string) => {
      const per = new Map<string, number>();
      for (const id of ids) per.set(shardOf(keyOf(id)), (per.get(shardOf(keyOf(id))) ?? 0) + 1);
      return per;
    };
    const li = count(CANDIDATES.map((x) => x.lineItemId), (id) => keys.lineItem(id));
    const users = count(Array.from({ length: LISTENERS }, (_, i) => `listener-${i}`), (id) => keys.listener(id));
    const stripes = count(Array.from({ length: STRIPES }, (_, s) => String(s)), (s) => keys.marker(Number(s)));
    const cpuTotal = resultC.perServerDecision.reduce((x, y) => x + y, 0);
    console.log(`\nCluster spread (${masters.length} masters, ${STRIPES} stripes)`);
    console.log('| shard | stripes | line items of 1,000 | listeners of 100,000 | Redis CPU share (decisions) |');
    console.log('|---|---|---|---|---|');
    masters.forEach((m, k) => {
      const id = `${m.options.host}:${m.options.port}`;
      const pct = (n: number | undefined, of: number) => `${(((n ?? 0) * 100) / of).toFixed(1)}%`;
      console.log(`| ${id} | ${stripes.get(id) ?? 0} | ${pct(li.get(id), LINE_ITEMS)} | ${pct(users.get(id), LISTENERS)} | ${((resultC.perServerDecision[k] * 100) / cpuTotal).toFixed(1)}% |`);
    });
  } finally {
    for (const conn of conns) await conn.cleanup().catch(() => undefined);
    stopStandalone();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    stopStandalone();
    process.exit(1);
  },
);
