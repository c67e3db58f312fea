import { BILLING_SCHEDULES } from '@app/billing';
import { CAMPAIGNS_SCHEDULES } from '@app/campaigns';
import { MEASUREMENT_SCHEDULES } from '@app/measurement';
import { MONITORING_SCHEDULES } from '@app/monitoring';
import { PLATFORM_SCHEDULES, WorkerConfig, uuidv7 } from '@app/platform';
import { WAREHOUSE_SCHEDULES } from '@app/warehouse';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { http } from './support/http';
import { beacon, codec, decision, mysql, randomPlacement } from './support/measurement-fixtures';
import { sleep, waitFor } from './support/processes';
import { RedisServer } from './support/redis-server';
import { ADMIN_KEY, Stack } from './support/stack';

interface Alert {
  dedupKey: string;
  status: 'firing' | 'resolved';
  slaId: string;
  subject: string;
  value: number;
  target: number;
  startedAt: string;
  endedAt?: string;
}

/** A local alert webhook: records every POST, and answers 503 while `down`. */
class WebhookSink {
  readonly received: Array<{ alert: Alert; answered: number }> = [];
  down = false;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookSink> {
    const server = createServer();
    const sink = new WebhookSink(server);
    server.on('request', (req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const answered = sink.down ? 503 : 204;
        sink.received.push({ alert: JSON.parse(body) as Alert, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    return sink;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  /** Alerts the sink accepted (2xx), for one SLA. */
  delivered(slaId: string): Alert[] {
    return this.received.filter((r) => r.answered < 300 && r.alert.slaId === slaId).map((r) => r.alert);
  }

  close(): Promise<void> {
    return new Promise((res) => this.server.close(() => res()));
  }
}

const WORKER_SETTINGS = Object.assign(new WorkerConfig(), { SLA_EVALUATE_EVERY_MS: 1000, BILLING_MONTH_CLOSE_EVERY_MS: 3_600_000, BILLING_RECONCILE_EVERY_MS: 3_600_000 });
/** Every schedule the libs declare (the worker's ScheduleRegistry keeps them registered). */
const DECLARED = [...CAMPAIGNS_SCHEDULES, ...MEASUREMENT_SCHEDULES, ...MONITORING_SCHEDULES(WORKER_SETTINGS), ...BILLING_SCHEDULES(WORKER_SETTINGS), ...PLATFORM_SCHEDULES, ...WAREHOUSE_SCHEDULES];

describe('SLA-monitored pipelines (own stack: short SLA targets, a private Redis, a local webhook sink)', () => {
  let redisServer: RedisServer;
  let sink: WebhookSink;
  let stack: Stack;
  let redis: Redis;
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    if (!queues.has(name)) queues.set(name, new Queue(name, { connection: { host: '127.0.0.1', port: redisServer.port }, prefix: stack.env.QUEUE_PREFIX }));
    return queues.get(name)!;
  };
  const api = <T = any>(method: string, path: string, options: { key?: string | null; body?: unknown } = {}) => http<T>(method, path, { ...options, baseUrl: stack.baseUrl });

  beforeAll(async () => {
    const runId = `${process.env.E2E_RUN_ID}ops`;
    redisServer = await RedisServer.start();
    sink = await WebhookSink.start();
    stack = await Stack.start({
      dbName: `adp_test_${runId}`,
      queuePrefix: `test-${runId}`,
      redisUrl: redisServer.url,
      // Another built checkout's API and worker (e.g. the code before this feature, to see these tests fail there).
      root: process.env.OPS_STACK_ROOT,
      // Two workers evaluate at once: a breach must still open (and alert) once.
      workers: 2,
      env: {
        ALERT_WEBHOOK_URL: sink.url,
        SLA_FRESHNESS_TARGET_SECONDS: '3',
        SLA_FRESHNESS_WARN_SECONDS: '1',
        SLA_CLEAR_SECONDS: '2',
        SLA_EVALUATE_EVERY_MS: '1000',
        SLA_WATCHDOG_SECONDS: '8',
      },
    });
    redis = new Redis(redisServer.url);
  }, 120_000);

  afterAll(async () => {
    for (const q of queues.values()) await q.close().catch(() => undefined);
    redis?.disconnect();
    await stack?.stop();
    await stack?.dropData().catch(() => undefined);
    await sink?.close();
    await redisServer?.stop().catch(() => undefined);
  }, 60_000);

  it('ops endpoints are admin-only (delivery health excepted) and list every declared SLA', async () => {
    const advertiser = await api('POST', '/v1/advertisers', { body: { name: `ops-${randomUUID().slice(0, 8)}` } });
    expect(advertiser.status).toBe(201);
    const created = await api('POST', `/v1/advertisers/${advertiser.body.id}/api-keys`, { body: {} });
    const key = created.body.key as string;
    for (const path of ['/v1/ops/sla', '/v1/ops/breaches', '/v1/ops/dead-letters', '/v1/ops/queues']) {
      expect((await api('GET', path, { key })).status).toBe(403);
      expect((await api('GET', path, { key: null })).status).toBe(401);
    }
    expect((await api('POST', '/v1/ops/queues/aggregation/pause', { key })).status).toBe(403);
    expect((await api('GET', '/ops/queues', { key })).status).toBe(403);
    const dashboard = await fetch(`${stack.baseUrl}/ops/queues`);
    expect(dashboard.status).toBe(401);
    expect(dashboard.headers.get('www-authenticate')).toMatch(/^Basic/);
    // A browser signs in with HTTP Basic, the admin key as password; Bearer works too.
    for (const authorization of [`Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`, `Bearer ${ADMIN_KEY}`]) {
      const page = await fetch(`${stack.baseUrl}/ops/queues`, { headers: { authorization } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/bull/i);
    }
    const queuesApi = await fetch(`${stack.baseUrl}/ops/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(queuesApi.status).toBe(200);
    expect(JSON.stringify(await queuesApi.json())).toContain('aggregation');
    expect((await api('GET', '/v1/ops/delivery-health', { key })).status).toBe(200);
    expect((await api('GET', '/v1/ops/breaches?state=bogus')).status).toBe(400);
    expect((await api('POST', '/v1/ops/queues/nope/pause')).status).toBe(404);

    const sla = await api('GET', '/v1/ops/sla');
    expect(sla.status).toBe(200);
    const ids = sla.body.slas.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['aggregation.freshness', 'monitor.heartbeat', 'delivery_health', 'queue_wait.measurement.aggregate', 'run_time.measurement.aggregate', 'success_ratio.ops.probe', 'deadline.export-daily']));
    expect(sla.body.slas.find((s: { id: string }) => s.id === 'aggregation.freshness')).toMatchObject({ kind: 'freshness', target: 3, warn: 1, unit: 's' });
  });

  it('pages breaches and dead letters by cursor or page number like every list, answers data (items: a deprecated alias), and refuses an inverted range', async () => {
    const run = randomUUID().slice(0, 8);
    const slaId = `test.paging-${run}`;
    const deadQueue = `paging-${run}`;
    const day = (d: number) => new Date(Date.UTC(2026, 11, d));
    // Three resolved breaches (alerts sent: the monitor leaves them alone) and three dead letters, oldest first.
    const breaches = [1, 3, 5].map((d, i) => ({ id: uuidv7(Date.now() + i), started: day(d), ended: new Date(day(d).getTime() + 3_600_000) }));
    const letters = [0, 1, 2].map((i) => uuidv7(Date.now() + i));
    const db = await mysql(stack.env.DB_NAME);
    try {
      for (const b of breaches) {
        await db.query(
          `INSERT INTO sla_breaches (id, sla_id, kind, subject, cause, severity, state, dedup_key, unit, target, first_value, worst_value, last_value, started_at, ended_at, firing_sent_at, resolved_sent_at)
           VALUES (?, ?, 'freshness', 'paging', 'breached', 'critical', 'resolved', ?, 's', 1, 2, 2, 0, ?, ?, ?, ?)`,
          [b.id, slaId, `${slaId}/${b.id}`, b.started, b.ended, b.started, b.ended],
        );
      }
      for (const id of letters) {
        await db.query("INSERT INTO dead_letters (id, queue, job_name, payload, error, attempts, failed_at, state) VALUES (?, ?, 'ops.probe', '{}', 'boom', 1, NOW(3), 'dead')", [id, deadQueue]);
      }
    } finally {
      await db.end();
    }
    const newestFirst = { breaches: breaches.map((b) => b.id).reverse(), letters: [...letters].reverse() };
    for (const [path, ids] of [
      [`/v1/ops/breaches?slaId=${slaId}`, newestFirst.breaches],
      [`/v1/ops/dead-letters?queue=${deadQueue}`, newestFirst.letters],
    ] as const) {
      const page = async (query: string) => {
        const res = await api('GET', `${path}&${query}`);
        expect(res.status).toBe(200);
        expect(res.body.items).toEqual(res.body.data);
        return { ids: (res.body.data as Array<{ id: string }>).map((r) => r.id), next: res.body.next as string | null };
      };
      expect(await page('limit=2')).toEqual({ ids: ids.slice(0, 2), next: ids[1] });
      expect(await page('limit=2&page=1')).toEqual({ ids: ids.slice(0, 2), next: ids[1] });
      expect(await page('limit=2&page=2')).toEqual({ ids: ids.slice(2), next: null });
      expect(await page('limit=2&page=3')).toEqual({ ids: [], next: null });
      // With a cursor, page is ignored.
      expect(await page(`limit=2&page=2&cursor=${ids[0]}`)).toEqual({ ids: ids.slice(1), next: null });
      for (const bad of ['page=0', 'page=x']) {
        const res = await api('GET', `${path}&${bad}`);
        expect(res.status).toBe(400);
        expect(res.body.message).toContain('page');
      }
    }
    const openapi = (await api('GET', '/docs-json', { key: null })).body;
    for (const dto of ['BreachPageDto', 'DeadLetterPageDto']) {
      expect(openapi.components.schemas[dto].properties.data).toMatchObject({ type: 'array' });
      expect(openapi.components.schemas[dto].properties.items).toMatchObject({ type: 'array', deprecated: true });
    }
    for (const path of ['/v1/ops/breaches', '/v1/ops/dead-letters']) expect(openapi.paths[path].get.parameters.map((p: { name: string }) => p.name)).toContain('page');

    // A range ending before it starts is refused, naming both bounds, as reports do; an instant (from = to) is the breaches open then.
    const inverted = await api('GET', `/v1/ops/breaches?slaId=${slaId}&from=2026-12-07&to=2026-12-01`);
    expect(inverted.status).toBe(400);
    expect(inverted.body.message).toMatch(/^to: .*from/);
    expect(inverted.body.details).toEqual([{ field: 'to', problems: [expect.stringContaining('from')] }]);
    const atInstant = await api('GET', `/v1/ops/breaches?slaId=${slaId}&from=2026-12-03T00:30:00Z&to=2026-12-03T00:30:00Z`);
    expect(atInstant.status).toBe(200);
    expect(atInstant.body.data.map((b: { id: string }) => b.id)).toEqual([breaches[1].id]);
  });

  it('a job that fails all its attempts becomes a dead letter, retried through the API to done', async () => {
    const probeId = randomUUID();
    // A probe whose row is not in MySQL fails; with two attempts it is dead after the second.
    await queue('maintenance').add('ops.probe', { probeId }, { attempts: 2, backoff: { type: 'fixed', delay: 200 }, jobId: `probe-${probeId}` });
    const letter = await waitFor(
      async () => {
        const res = await api('GET', '/v1/ops/dead-letters?state=dead');
        return res.body.data?.find((d: { payload: { probeId?: string } }) => d.payload?.probeId === probeId);
      },
      20_000,
      'the dead letter',
      200,
    );
    expect(letter).toMatchObject({ queue: 'maintenance', jobName: 'ops.probe', attempts: 2, state: 'dead', error: `probe ${probeId} not found` });

    // The cause is fixed (the probe row exists now), then the job is retried.
    const db = await mysql(stack.env.DB_NAME);
    try {
      await db.query(`INSERT INTO queue_probes (id, queue, created_at) VALUES (?, 'maintenance', NOW(3))`, [probeId]);
      const retried = await api('POST', `/v1/ops/dead-letters/${letter.id}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.body.state).toBe('retrying');
      expect((await api('POST', `/v1/ops/dead-letters/${letter.id}/retry`)).status).toBe(409);
      await waitFor(async () => (await api('GET', `/v1/ops/dead-letters/${letter.id}`)).body.state === 'done', 20_000, 'the retry to complete', 200);
      const [[probe]] = (await db.query('SELECT processed_at FROM queue_probes WHERE id = ?', [probeId])) as unknown as [Array<{ processed_at: Date | null }>];
      expect(probe.processed_at).not.toBeNull();
    } finally {
      await db.end();
    }
    expect((await api('POST', `/v1/ops/dead-letters/${randomUUID()}/retry`)).status).toBe(404);
    expect((await api('POST', '/v1/ops/dead-letters/not-an-id/retry')).status).toBe(400);
  });

  const beaconsWhilePaused = async () => {
    const placement = randomPlacement();
    for (let i = 0; i < 5; i++) expect((await beacon('impression', codec.sign(decision(placement)), { baseUrl: stack.baseUrl })).status).toBe(204);
  };

  it('pausing aggregation breaches freshness: one firing alert, one resolution after resume, no repeat', async () => {
    expect((await api('POST', '/v1/ops/queues/aggregation/pause')).body).toEqual({ queue: 'aggregation', paused: true });
    const stats = await api('GET', '/v1/ops/queues');
    expect(stats.body.find((q: { queue: string }) => q.queue === 'aggregation')).toMatchObject({ paused: true });
    await beaconsWhilePaused();

    const [firing] = await waitFor(async () => (sink.delivered('aggregation.freshness').length > 0 ? sink.delivered('aggregation.freshness') : null), 30_000, 'the firing alert', 200);
    expect(firing).toMatchObject({ status: 'firing', slaId: 'aggregation.freshness', subject: 'measurement.aggregation', target: 3 });
    expect(firing.value).toBeGreaterThan(3);
    // Still breached for a while: no second firing alert.
    await sleep(4000);
    expect(sink.delivered('aggregation.freshness')).toHaveLength(1);
    const open = await api('GET', '/v1/ops/breaches?slaId=aggregation.freshness&state=open');
    expect(open.body.data).toHaveLength(1);
    expect(open.body.data[0].dedupKey).toBe(firing.dedupKey);

    expect((await api('POST', '/v1/ops/queues/aggregation/resume')).body).toEqual({ queue: 'aggregation', paused: false });
    const resolved = await waitFor(async () => sink.delivered('aggregation.freshness').find((a) => a.status === 'resolved'), 30_000, 'the resolution', 200);
    expect(resolved).toMatchObject({ dedupKey: firing.dedupKey, startedAt: firing.startedAt });
    expect(new Date(resolved.endedAt!).getTime()).toBeGreaterThan(new Date(firing.startedAt).getTime());
    await sleep(20_000);
    expect(sink.delivered('aggregation.freshness').map((a) => a.status)).toEqual(['firing', 'resolved']);
    const [breach] = (await api('GET', '/v1/ops/breaches?slaId=aggregation.freshness')).body.data;
    expect(breach).toMatchObject({ state: 'resolved', dedupKey: firing.dedupKey });
    expect(breach.worstValue).toBeGreaterThanOrEqual(firing.value);

    const metrics = (await api('GET', '/metrics')).text;
    expect(metrics).toMatch(/sla_breaches_total\{sla="aggregation.freshness"\} 1/);
    expect(metrics).toMatch(/sla_state\{sla="aggregation.freshness",subject="measurement.aggregation"\} 0/);
    expect(metrics).toMatch(/job_wait_seconds_bucket\{queue="aggregation",job="measurement.aggregate",le="\+Inf"\} \d+/);
    expect(metrics).toMatch(/job_run_seconds_count\{queue="maintenance",job="ops.probe"\} \d+/);
  }, 120_000);

  it('with the webhook down for a while, the next breach is still alerted, once', async () => {
    const before = sink.received.length;
    sink.down = true;
    await api('POST', '/v1/ops/queues/aggregation/pause');
    await beaconsWhilePaused();
    await waitFor(async () => sink.received.slice(before).filter((r) => r.answered === 503).length >= 3, 40_000, 'three refused deliveries', 200);
    sink.down = false;
    const firing = await waitFor(async () => sink.delivered('aggregation.freshness').filter((a) => a.status === 'firing')[1], 60_000, 'the delivered firing alert', 200);
    await api('POST', '/v1/ops/queues/aggregation/resume');
    await waitFor(async () => sink.delivered('aggregation.freshness').filter((a) => a.dedupKey === firing.dedupKey && a.status === 'resolved').length === 1, 30_000, 'the resolution', 200);
    await sleep(3000);
    expect(sink.delivered('aggregation.freshness').filter((a) => a.dedupKey === firing.dedupKey).map((a) => a.status)).toEqual(['firing', 'resolved']);
  }, 150_000);

  it('after Redis loses everything, every declared schedule is back within a minute', async () => {
    const byQueue = async () => {
      const present = new Set<string>();
      for (const name of ['maintenance', 'aggregation', 'monitoring']) for (const s of await queue(name).getJobSchedulers(0, -1)) present.add(s.key);
      return present;
    };
    expect([...(await byQueue())].sort()).toEqual(DECLARED.map((s) => s.job).sort());
    await redis.flushall();
    expect((await byQueue()).size).toBe(0);
    const flushedAt = Date.now();
    await waitFor(async () => (await byQueue()).size === DECLARED.length, 60_000, 'every schedule to be back', 500);
    expect(Date.now() - flushedAt).toBeLessThan(60_000);
    // And they run: the monitor evaluates again.
    const evaluatedAfter = Date.now();
    await waitFor(async () => {
      const sla = await api('GET', '/v1/ops/sla');
      return sla.body.evaluatedAt && new Date(sla.body.evaluatedAt).getTime() > evaluatedAfter;
    }, 20_000, 'an evaluation after the flush', 500);
  }, 90_000);

  it('with every worker stopped, the API raises the watchdog alert, once, and resolves it when a worker is back', async () => {
    // Settle first: the flush above may have kept the monitor from evaluating for a while (and alerted it).
    await waitFor(async () => (await api('GET', '/v1/ops/breaches?slaId=monitor.heartbeat&state=open')).body.data.length === 0, 30_000, 'no open watchdog breach', 500);
    const since = sink.received.length;
    const watchdogAlerts = () => sink.received.slice(since).filter((r) => r.answered < 300 && r.alert.slaId === 'monitor.heartbeat').map((r) => r.alert);
    await Promise.all(stack.workers.map((w) => w.stop()));
    stack.workers.length = 0;
    const firing = await waitFor(async () => watchdogAlerts().find((a) => a.status === 'firing'), 40_000, 'the watchdog alert', 200);
    expect(firing).toMatchObject({ subject: 'sla-monitor', target: 8 });
    expect(firing.value).toBeGreaterThan(8);
    await sleep(5000);
    expect(watchdogAlerts()).toHaveLength(1);
    await stack.startWorker();
    await waitFor(async () => watchdogAlerts().find((a) => a.status === 'resolved'), 40_000, 'the watchdog resolution', 200);
    expect(watchdogAlerts().map((a) => a.status)).toEqual(['firing', 'resolved']);
  }, 120_000);
});
