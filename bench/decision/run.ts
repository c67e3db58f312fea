/**
 * Decision benchmark: 1,000 active line items with varied targeting and 3,000 approved creatives,
 * created through the real API; then HTTP load with autocannon on POST /v1/decisions against the
 * built API process, and in the same run the same load against a bare Fastify server answering a
 * body of the same size in its own process (the ceiling of this machine and client). Prints decisions/s, p50/p99, the
 * ratio to the ceiling, p99 at a steady 1,000 decisions/s (open loop, beside the bare server at the same rate), and the API's peak RSS.
 *
 *   npm run build && npm run bench:decision
 *
 * Env: BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_FIXED_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_LINE_ITEMS (1000), BENCH_CREATIVES_PER_LINE_ITEM (3),
 * BENCH_REUSE=<run id> (reuse the database of an earlier run started with BENCH_KEEP=1, skipping the seed; a reused
 * database is kept, so it can be reused again),
 * BENCH_CPU_PROF=1 (write a V8 CPU profile of the API to bench/results).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { http } from '../../test/support/http';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from '../../test/support/processes';
import { Stack } from '../../test/support/stack';
import { Load, decisionLoad } from '../support/decision-load';
import { PacedResult, pacedLoad } from '../support/paced-load';
import { cpuMs, currentRssMb, medianBy, peakRssMb, redisCpuMs } from '../support/proc-stats';
import { markLedgerRestored } from '../../test/support/ledger';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LINE_ITEMS = Number(process.env.BENCH_LINE_ITEMS ?? 1000);
const CREATIVES_PER_LINE_ITEM = Number(process.env.BENCH_CREATIVES_PER_LINE_ITEM ?? 3);
const FIXED_RATE = 1000;
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 10);

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'AU', 'BR', 'JP', 'IN', 'MX'];
const PLATFORMS = ['ios', 'android', 'desktop', 'web', 'speaker', 'tv', 'car'];
const AGES = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'];
const GENRES = ['pop', 'rock', 'jazz', 'hiphop', 'classical', 'news', 'comedy', 'sports'];
const KEYWORDS = ['running', 'cooking', 'travel', 'finance', 'gaming', 'fitness', 'summer', 'cars', 'tech', 'family'];
const TIMEZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Asia/Kolkata'];

let seed = 20261125;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
const some = <T>(list: readonly T[], n: number) => [...new Set(Array.from({ length: n }, () => pick(list)))];

async function ok<T = any>(method: string, path: string, body: unknown, baseUrl: string, status: number): Promise<T> {
  const res = await http<T>(method, path, { body, baseUrl });
  if (res.status !== status) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.text}`);
  return res.body;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Varied targeting: most line items restrict a few fields, so a request matches a few dozen of them. */
function targeting(): Record<string, unknown> {
  const t: Record<string, unknown> = { countries: some(COUNTRIES, 1 + Math.floor(random() * 3)) };
  if (random() < 0.5) t.platforms = some(PLATFORMS, 2 + Math.floor(random() * 4));
  if (random() < 0.3) t.ageRanges = some(AGES, 2 + Math.floor(random() * 3));
  if (random() < 0.2) t.genders = [pick(['female', 'male'])];
  if (random() < 0.3) t.genres = some(GENRES, 2 + Math.floor(random() * 3));
  if (random() < 0.3) t.keywords = random() < 0.5 ? { any: some(KEYWORDS, 3) } : { none: some(KEYWORDS, 2) };
  if (random() < 0.2) t.dayparts = [{ days: [0, 1, 2, 3, 4, 5, 6], startHour: 0, endHour: 24 }];
  return t;
}

async function seedCatalog(baseUrl: string): Promise<void> {
  const started = Date.now();
  const advertisers: Array<{ id: string; campaigns: string[] }> = [];
  for (let a = 0; a < 20; a++) {
    const adv = await ok<{ id: string }>('POST', '/v1/advertisers', { name: `Bench advertiser ${a}`, timezone: TIMEZONES[a % TIMEZONES.length] }, baseUrl, 201);
    const campaigns: string[] = [];
    for (let c = 0; c < 5; c++) {
      const now = Date.now();
      const campaign = await ok<{ id: string }>('POST', '/v1/campaigns', { advertiserId: adv.id, name: `C${c}`, startAt: new Date(now - 86_400_000).toISOString(), endAt: new Date(now + 30 * 86_400_000).toISOString(), budgetMicros: 1e15 }, baseUrl, 201);
      await ok('POST', `/v1/campaigns/${campaign.id}/activate`, undefined, baseUrl, 200);
      campaigns.push(campaign.id);
    }
    advertisers.push({ id: adv.id, campaigns });
  }
  const jobs = Array.from({ length: LINE_ITEMS }, (_, i) => i);
  await inBatches(jobs, 8, async (i) => {
    const adv = advertisers[i % advertisers.length];
    const creativeIds: string[] = [];
    for (let c = 0; c < CREATIVES_PER_LINE_ITEM; c++) {
      const creative = await ok<{ id: string }>(
        'POST',
        '/v1/creatives',
        { advertiserId: adv.id, name: `Spot ${i}-${c}`, format: 'audio', mediaUrl: `https://cdn.example.com/bench/${i}-${c}.mp3`, mimeType: 'audio/mpeg', durationSeconds: 15 + 15 * (c % 2), clickThroughUrl: `https://brand${i % 50}.example.com/landing?c=${c}` },
        baseUrl,
        201,
      );
      await ok('POST', `/v1/creatives/${creative.id}/review`, { decision: 'approved' }, baseUrl, 200);
      creativeIds.push(creative.id);
    }
    const model = pick(['CPM', 'CPM', 'CPM', 'CPC', 'CPCL'] as const);
    const lineItem = await ok<{ id: string }>(
      'POST',
      '/v1/line-items',
      {
        campaignId: adv.campaigns[i % adv.campaigns.length],
        name: `Line item ${i}`,
        pricingModel: model,
        rateMicros: model === 'CPM' ? 1_000_000 + Math.floor(random() * 20_000_000) : 50_000 + Math.floor(random() * 2_000_000),
        budgetMicros: 1e13,
        dailyBudgetMicros: random() < 0.3 ? 1e12 : undefined,
        pacing: random() < 0.5 ? 'EVEN' : 'ASAP',
        priority: pick([4, 8, 8, 8, 16]),
        frequencyCaps: random() < 0.5 ? [{ maxImpressions: 20, periodSeconds: 3600 }] : [],
        targeting: targeting(),
        creativeIds,
      },
      baseUrl,
      201,
    );
    await ok('POST', `/v1/line-items/${lineItem.id}/activate`, undefined, baseUrl, 200);
  });
  console.log(`seeded ${LINE_ITEMS} line items, ${LINE_ITEMS * CREATIVES_PER_LINE_ITEM} creatives in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function requestBodies(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      placement: pick(['between-songs', 'podcast-mid', 'podcast-pre']),
      slots: random() < 0.8 ? 1 : 3,
      user: { id: `listener-${i}`, age: 18 + Math.floor(random() * 50), gender: pick(['female', 'male']) },
      device: { platform: pick(PLATFORMS) },
      geo: { country: pick(COUNTRIES) },
      context: { genre: pick(GENRES), keywords: some(KEYWORDS, 2) },
      format: 'audio',
    }),
  );
}

/** EVALSHA calls Redis has served so far: reservation calls, as no worker applies events here. */
async function reservationCalls(redis: Redis): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

async function main(): Promise<void> {
  const reuse = process.env.BENCH_REUSE;
  const runId = reuse ?? `${Date.now().toString(36)}`;
  const dbName = `adp_bench_${runId}`;
  const profile = process.env.BENCH_CPU_PROF ? { NODE_OPTIONS: `--require ${join(ROOT, 'bench', 'support', 'cpu-profile.js')}`, CPU_PROFILE_DIR: join(ROOT, 'bench', 'results') } : {};
  const stack = await Stack.start({ dbName, queuePrefix: `bench-${runId}`, workers: 0, env: { LOG_LEVEL: 'warn', ...profile } });
  void stack.api.exited.then((code) => console.error(`API process exited (${code}) at ${new Date().toISOString()}`));
  const redis = new Redis(stack.env.REDIS_URL!);
  let bare: ManagedProcess | undefined;
  try {
    // Delivery counters start empty, also on a reused seed: decisions never followed by impressions
    // leave reservations and pending frequency caps behind, which would make each run harder than the last.
    const stale = await redis.keys(`${stack.env.QUEUE_PREFIX}:dlv:*`);
    if (stale.length > 0) await redis.del(...stale);
    // No measurement restore runs in this stack (no worker): declare the fresh counters complete.
    await markLedgerRestored(redis, stack.env.QUEUE_PREFIX!);
    if (!reuse) await seedCatalog(stack.baseUrl);
    await new Promise((r) => setTimeout(r, 1500));
    const rssBeforeLoad = currentRssMb(stack.api.child.pid!);
    const bodies = requestBodies(5000);
    const decisionsUrl = `${stack.baseUrl}/v1/decisions`;

    // Fill rate and a representative response body, after the index has loaded the catalog.
    let sample = '';
    let filled = 0;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(decisionsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
      const text = await res.text();
      if (JSON.parse(text).decisions.length > 0) {
        filled++;
        if (!sample && JSON.parse(text).decisions.length === 1) sample = text;
      }
    }
    const payload = Buffer.from(sample);
    const bodyFile = join(ROOT, 'bench', 'results', `decision-body-${runId}.json`);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(bodyFile, payload);
    const barePort = await freePort();
    bare = startProcess(`bench-bare-${runId}`, process.execPath, [join(ROOT, 'bench', 'support', 'bare-fastify.js')], { BARE_PORT: String(barePort), BARE_BODY_FILE: bodyFile });
    await waitFor(async () => bare!.output().includes('listening'), 10_000, 'the bare Fastify server');
    const bareUrl = `http://127.0.0.1:${barePort}/v1/decisions`;

    // Other processes on the machine make single runs noisy: alternate rounds against the API and the
    // ceiling, and compare medians.
    await decisionLoad(decisionsUrl, bodies, { seconds: 3, connections: CONNECTIONS });
    await decisionLoad(bareUrl, bodies, { seconds: 2, connections: CONNECTIONS });
    const apiRuns: Load[] = [];
    const bareRuns: Load[] = [];
    // CPU per request of each server process: unlike throughput, it does not depend on what else runs.
    // Redis's too (INFO cpu, the whole server: nothing else uses it during the API rounds).
    let apiCpu = 0;
    let bareCpu = 0;
    let redisCpu = 0;
    const callsBefore = await reservationCalls(redis);
    for (let round = 0; round < ROUNDS; round++) {
      let before = cpuMs(stack.api.child.pid!);
      const redisBefore = await redisCpuMs(redis);
      apiRuns.push(await decisionLoad(decisionsUrl, bodies, { seconds: SECONDS, connections: CONNECTIONS }));
      apiCpu += cpuMs(stack.api.child.pid!) - before;
      redisCpu += (await redisCpuMs(redis)) - redisBefore;
      before = cpuMs(bare.child.pid!);
      bareRuns.push(await decisionLoad(bareUrl, bodies, { seconds: SECONDS, connections: CONNECTIONS }));
      bareCpu += cpuMs(bare.child.pid!) - before;
    }
    const apiRequests = apiRuns.reduce((n, r) => n + r.requestsPerSecond * SECONDS, 0);
    const callsPerDecision = ((await reservationCalls(redis)) - callsBefore) / apiRequests;
    const bareRequests = bareRuns.reduce((n, r) => n + r.requestsPerSecond * SECONDS, 0);
    const apiCpuUs = (apiCpu * 1000) / apiRequests;
    const redisCpuUs = (redisCpu * 1000) / apiRequests;
    const bareCpuUs = (bareCpu * 1000) / bareRequests;
    const api = medianBy(apiRuns, (r) => r.requestsPerSecond);
    const ceiling = medianBy(bareRuns, (r) => r.requestsPerSecond);
    // Latency at a steady 1,000 decisions/s, open loop (see paced-load.ts: autocannon's overallRate
    // sends each second's requests in a burst); the bare server at the same rate is the machine's floor.
    const paced = (url: string) => pacedLoad({ url, method: 'POST', rate: FIXED_RATE, seconds: FIXED_SECONDS, bodies });
    await paced(decisionsUrl);
    const fixedRuns: PacedResult[] = [];
    const bareFixedRuns: PacedResult[] = [];
    let pacedCalls = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const before = await reservationCalls(redis);
      fixedRuns.push(await paced(decisionsUrl));
      pacedCalls += (await reservationCalls(redis)) - before;
      bareFixedRuns.push(await paced(bareUrl));
    }
    const pacedCallsPerDecision = pacedCalls / fixedRuns.reduce((n, r) => n + r.completed, 0);
    const fixed = medianBy(fixedRuns, (r) => r.p99);
    const bareFixed = medianBy(bareFixedRuns, (r) => r.p99);
    const rss = peakRssMb(stack.api.child.pid!);

    const rows = [
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx'],
      ['API POST /v1/decisions (max, median run)', api.requestsPerSecond.toFixed(0), String(api.p50), String(api.p99), String(api.errors), String(api.non2xx)],
      ['bare Fastify, same body (ceiling, median run)', ceiling.requestsPerSecond.toFixed(0), String(ceiling.p50), String(ceiling.p99), String(ceiling.errors), String(ceiling.non2xx)],
      [`API at a steady ${FIXED_RATE} decisions/s (median p99)`, fixed.rate.toFixed(0), fixed.p50.toFixed(1), fixed.p99.toFixed(1), String(fixed.errors), String(fixed.non2xx)],
      [`bare Fastify at a steady ${FIXED_RATE}/s (floor)`, bareFixed.rate.toFixed(0), bareFixed.p50.toFixed(1), bareFixed.p99.toFixed(1), String(bareFixed.errors), String(bareFixed.non2xx)],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    const ratio = api.requestsPerSecond / ceiling.requestsPerSecond;
    console.log(`\nline items ${LINE_ITEMS}, creatives ${LINE_ITEMS * CREATIVES_PER_LINE_ITEM}, fill rate ${((filled / 200) * 100).toFixed(0)}%, response body ${payload.length} bytes`);
    console.log(`ratio API / ceiling: ${(ratio * 100).toFixed(1)}% (target >= 50%)`);
    console.log(`server CPU per request: API ${apiCpuUs.toFixed(0)} us, bare Fastify ${bareCpuUs.toFixed(0)} us (ratio ${((bareCpuUs / apiCpuUs) * 100).toFixed(1)}%); Redis ${redisCpuUs.toFixed(0)} us per decision`);
    console.log(`p99 at a steady ${FIXED_RATE} decisions/s: ${fixed.p99.toFixed(1)} ms (target <= 10 ms; runs ${fixedRuns.map((r) => r.p99.toFixed(1)).join(', ')}); bare Fastify at the same rate: ${bareFixed.p99.toFixed(1)} ms; load generator send lag p99 ${fixed.sendLagP99.toFixed(1)} ms`);
    console.log(`reservation calls (Redis round trips) per decision: ${callsPerDecision.toFixed(2)} at full rate, ${pacedCallsPerDecision.toFixed(2)} at ${FIXED_RATE}/s (below 1: the decisions of one event-loop turn share a call, up to 8; above 1: a decision needed another round because its best candidates were capped, paced or out of budget)`);
    console.log(`API peak RSS: ${rss.toFixed(0)} MB (target <= 300 MB); RSS before the load ${rssBeforeLoad.toFixed(0)} MB`);
    console.log(`runs (req/s): API ${apiRuns.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}; ceiling ${bareRuns.map((r) => r.requestsPerSecond.toFixed(0)).join(', ')}`);
    console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s per target`);

    writeFileSync(join(ROOT, 'bench', 'results', `decision-${runId}.json`), JSON.stringify({ api, ceiling, apiCpuUs, bareCpuUs, redisCpuUs, callsPerDecision, pacedCallsPerDecision, apiRuns, bareRuns, fixed, fixedRuns, bareFixedRuns, ratio, peakRssMb: rss, filled, lineItems: LINE_ITEMS, loadavg: loadavg() }, null, 2));
  } finally {
    await bare?.stop();
    redis.disconnect();
    await stack.stop();
    // A reused seed stays too: the caller asked for it by name and will likely ask again.
    if (process.env.BENCH_KEEP || reuse) console.log(`kept: BENCH_REUSE=${runId}`);
    else await stack.dropData();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
