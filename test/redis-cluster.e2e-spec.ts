import { ALL_QUEUES, createRedisClient, masterNodes } from '@app/platform';
import { Connection } from 'mysql2/promise';
import { join } from 'node:path';
import { http } from './support/http';
import { BROWSER_UA, FULL_LISTEN, codec, createPlacementVia, decision, mysql, postEvents, report, waitForAggregation } from './support/measurement-fixtures';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from './support/processes';
import { ensureRedisCluster } from './support/redis-cluster';
import { Stack } from './support/stack';

const { nodeFlags } = require('../scripts/node-flags') as { nodeFlags: (app: string) => string[] };

/**
 * The platform on a three-master Redis Cluster (REDIS_CLUSTER_NODES), own stack: two API replicas and a
 * worker. Queues (BullMQ under hash-tagged prefixes), pub/sub, the invalid-traffic and failed-auth
 * counters shared by the replicas, job statistics and health all run on the cluster.
 */
describe('on a Redis Cluster: two API replicas and a worker (own stack)', () => {
  const runId = `${process.env.E2E_RUN_ID}rc`;
  let clusterNodes: string;
  let stack: Stack;
  let second: ManagedProcess;
  let secondUrl: string;
  let db: Connection;

  beforeAll(async () => {
    clusterNodes = ensureRedisCluster();
    stack = await Stack.start({
      dbName: `adp_test_${runId}`,
      queuePrefix: `test-${runId}`,
      redisClusterNodes: clusterNodes,
      env: { IVT_MAX_CLICKS_PER_IP_MINUTE: '3', AUTH_FAILURE_LIMIT: '5', AUTH_NEGATIVE_CACHE_TTL_MS: '0' },
    });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = startProcess(`test-${runId}-api-2`, process.execPath, [...nodeFlags('api'), join(ROOT, 'dist/apps/api/src/main.js')], { ...stack.env, PORT: String(port), PUBLIC_BASE_URL: secondUrl });
    await waitFor(async () => (await fetch(`${secondUrl}/health/ready`)).status === 200, 30_000, 'the second API');
    db = await mysql(stack.env.DB_NAME);
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await second?.stop();
    await stack?.stop();
    await stack?.dropData();
  });

  it('is ready on both replicas, and keeps its queues on the cluster under hash-tagged prefixes', async () => {
    for (const url of [stack.baseUrl, secondUrl]) {
      const ready = await http('GET', '/health/ready', { key: null, baseUrl: url });
      expect(ready.status).toBe(200);
      expect(ready.body.details.redis.status).toBe('up');
    }
    const cluster = createRedisClient({ REDIS_URL: stack.env.REDIS_URL!, REDIS_CLUSTER_NODES: clusterNodes }, 'subscriber');
    try {
      await waitFor(async () => cluster.status === 'ready', 10_000, 'the cluster');
      const queueKeys = (await Promise.all(masterNodes(cluster).map((node) => node.keys(`{${stack.env.QUEUE_PREFIX}:*`)))).flat();
      // Every queue's keys share its tag (BullMQ's scripts need them in one slot), one tag per queue.
      const tags = new Set(queueKeys.map((k) => k.slice(0, k.indexOf('}') + 1)));
      expect([...tags].sort()).toEqual([...ALL_QUEUES].sort().map((q) => `{${stack.env.QUEUE_PREFIX}:${q}}`));
    } finally {
      cluster.disconnect();
    }
  });

  it('runs queue jobs through the cluster: a probe round trip, pause and resume seen by both replicas, queue metrics', async () => {
    const probe = await http('POST', '/v1/ops/probes', { baseUrl: secondUrl });
    expect(probe.status).toBe(202);
    const done = await waitFor(async () => {
      const res = await http('GET', `/v1/ops/probes/${probe.body.id}`, { baseUrl: stack.baseUrl });
      return res.body.status === 'processed' && res.body;
    }, 20_000, 'the probe job to be processed');
    expect(done.processedBy).toEqual(expect.any(String));

    const paused = await http('POST', '/v1/ops/queues/maintenance/pause', { baseUrl: stack.baseUrl });
    expect(paused.body).toEqual({ queue: 'maintenance', paused: true });
    const seen = await http('GET', '/v1/ops/queues', { baseUrl: secondUrl });
    expect(seen.body.find((q: { queue: string }) => q.queue === 'maintenance').paused).toBe(true);
    const waiting = await http('POST', '/v1/ops/probes', { baseUrl: stack.baseUrl });
    await new Promise((r) => setTimeout(r, 500));
    expect((await http('GET', `/v1/ops/probes/${waiting.body.id}`, { baseUrl: stack.baseUrl })).body.status).toBe('pending');
    expect((await http('POST', '/v1/ops/queues/maintenance/resume', { baseUrl: secondUrl })).body).toEqual({ queue: 'maintenance', paused: false });
    await waitFor(async () => (await http('GET', `/v1/ops/probes/${waiting.body.id}`, { baseUrl: stack.baseUrl })).body.status === 'processed', 20_000, 'the probe after resume');

    // Job statistics written by the worker and queue depths, read from the cluster by either replica.
    const metrics = await waitFor(async () => {
      const res = await http('GET', '/metrics', { baseUrl: secondUrl });
      return /job_run_seconds_count\{queue="maintenance",job="ops.probe"\} [2-9]/.test(res.text) && res.text;
    }, 10_000, 'the probe jobs in the metrics');
    expect(metrics).toMatch(/queue_jobs\{queue="maintenance",state="completed"\} \d+/);
    expect(metrics).toMatch(/queue_paused\{queue="maintenance"\} 0/);
  });

  it('stores beacons through either replica, and the worker rolls them up into the report', async () => {
    const placement = await createPlacementVia(stack.baseUrl);
    const at = Date.now() - 60_000;
    const listens = 12;
    for (let i = 0; i < listens; i++) {
      const token = codec.sign(decision(placement, { userId: `cluster-listener-${i}` }));
      const res = await postEvents(FULL_LISTEN.map((event, j) => ({ event, token, occurredAt: at + j * 1000 })), { baseUrl: i % 2 ? secondUrl : stack.baseUrl });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(FULL_LISTEN.map(() => 'accepted'));
    }
    await waitForAggregation(db, 60_000);
    const res = await report({ campaignId: placement.campaignId, from: new Date(at - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() }, { baseUrl: secondUrl });
    expect(res.status).toBe(200);
    expect(res.body.rows).toHaveLength(1);
    expect(res.body.rows[0]).toMatchObject({ impressions: listens, completes: listens, invalidImpressions: 0 });
  }, 90_000);

  it('counts an invalid-traffic limit over both replicas in the cluster (listeners of many slots, one batch each)', async () => {
    const placement = await createPlacementVia(stack.baseUrl, { pricingModel: 'CPC', rateMicros: 1_000 });
    // A whole minute of event time in the past, so that both batches count in the same minute.
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 60_000 + 5_000;
    const batch = (n: number) =>
      Array.from({ length: n }, () => codec.sign(decision(placement, { issuedAt: Math.floor(at / 1000) - 5 }))).flatMap((token) => [
        { event: 'impression', token, occurredAt: at },
        { event: 'click', token, occurredAt: at + 1000 },
      ]);
    const first = await postEvents(batch(3), { baseUrl: stack.baseUrl, userAgent: BROWSER_UA });
    const then = await postEvents(batch(3), { baseUrl: secondUrl, userAgent: BROWSER_UA });
    const clicks = (res: typeof first) => res.body.results.filter((_: unknown, i: number) => i % 2 === 1).map((r: { status: string; reason?: string }) => r.reason ?? r.status);
    // IVT_MAX_CLICKS_PER_IP_MINUTE=3: the first replica's three clicks use the limit up, the second replica's are over it.
    expect(clicks(first)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(clicks(then)).toEqual(['ip_rate_limit', 'ip_rate_limit', 'ip_rate_limit']);
  });

  it('drops a revoked API key on the other replica too (pub/sub on the cluster)', async () => {
    const advertiser = await http('POST', '/v1/advertisers', { baseUrl: stack.baseUrl, body: { name: 'Cluster advertiser' } });
    const created = await http('POST', `/v1/advertisers/${advertiser.body.id}/api-keys`, { baseUrl: stack.baseUrl, body: { name: 'cluster' } });
    expect(created.status).toBe(201);
    // The second replica authenticates (and caches) the key first.
    expect((await http('GET', `/v1/advertisers/${advertiser.body.id}`, { baseUrl: secondUrl, key: created.body.key })).status).toBe(200);
    expect((await http('DELETE', `/v1/api-keys/${created.body.id}`, { baseUrl: stack.baseUrl })).status).toBeLessThan(300);
    await waitFor(async () => (await http('GET', `/v1/advertisers/${advertiser.body.id}`, { baseUrl: secondUrl, key: created.body.key })).status === 401, 5_000, 'the revocation to reach the second replica');
  });

  it('shares the failed-authentication limit between the replicas', async () => {
    // One client address of its own (X-Forwarded-For is trusted from loopback), so nothing else is refused.
    const from = (i: number) => ({ baseUrl: i % 2 ? secondUrl : stack.baseUrl, headers: { 'x-forwarded-for': '203.0.113.19' } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await http('GET', '/v1/campaigns', { ...from(i), key: `wrong-key-${i}-0123456789` })).status);
    // AUTH_FAILURE_LIMIT=5 failures per IP, counted in the cluster whichever replica saw them.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // The first replica refused nobody itself: it learns the count from the cluster. Known keys stay served.
    expect((await http('GET', '/v1/campaigns', { ...from(0), key: 'wrong-key-6-0123456789' })).status).toBe(429);
    expect((await http('GET', '/v1/campaigns', from(0))).status).toBe(200);
  });
});
