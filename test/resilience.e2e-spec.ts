import { http } from './support/http';
import { createPlacementVia } from './support/measurement-fixtures';
import { startProcess, waitFor } from './support/processes';
import { RedisServer } from './support/redis-server';
import { Stack, dropDatabase, stackEnv } from './support/stack';

describe('process lifecycle and dependency outages', () => {
  const runId = `${process.env.E2E_RUN_ID}r`;
  let redis: RedisServer;
  let stack: Stack;

  beforeAll(async () => {
    redis = await RedisServer.start();
    stack = await Stack.start({ dbName: `adp_test_${runId}`, queuePrefix: `test-${runId}`, redisUrl: redis.url });
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop().catch(() => undefined);
    await dropDatabase(`adp_test_${runId}`);
  });

  it('turns /health/ready to 503 naming Redis while it is down, and back to 200 when it returns', async () => {
    const baseUrl = stack.baseUrl;
    expect((await http('GET', '/health/ready', { key: null, baseUrl })).status).toBe(200);
    // A servable line item, so that a decision has something to reserve in Redis.
    const placement = await createPlacementVia(baseUrl);
    expect((await http('POST', `/v1/campaigns/${placement.campaignId}/activate`, { baseUrl })).status).toBe(200);
    expect((await http('POST', `/v1/line-items/${placement.lineItemId}/activate`, { baseUrl })).status).toBe(200);
    const decide = () => http('POST', '/v1/decisions', { key: null, baseUrl, body: { placement: 'outage', user: { id: 'listener-outage' }, device: { platform: 'ios' }, geo: { country: 'US' } } });
    await waitFor(async () => (await decide()).body.decisions?.length === 1, 15000, 'a decision to fill');

    await redis.stop();
    const down = await waitFor(
      async () => {
        const res = await http('GET', '/health/ready', { key: null, baseUrl });
        return res.status === 503 ? res : null;
      },
      10000,
      'readiness to fail',
    );
    expect(down.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(down.body.message).toMatch(/redis/);
    expect(down.body.message).not.toMatch(/mysql/);

    const started = Date.now();
    const enqueue = await http('POST', '/v1/ops/probes', { baseUrl });
    expect(enqueue.status).toBe(503);
    expect(enqueue.body.message).toMatch(/Redis/);
    expect(Date.now() - started).toBeLessThan(5000);

    // Budgets and caps live in Redis: decisions fail closed, fast, with a 503 that says why.
    const decision = await decide();
    expect(decision.status).toBe(503);
    expect(decision.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    expect(decision.body.message).toMatch(/Redis/);
    const vast = await http('GET', '/v1/vast?placement=outage&userId=listener-outage&platform=ios&country=US', { key: null, baseUrl });
    expect(vast.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);

    await redis.resume();
    await waitFor(async () => (await http('GET', '/health/ready', { key: null, baseUrl })).status === 200, 15000, 'readiness to recover');

    await waitFor(async () => (await decide()).body.decisions?.length === 1, 15000, 'decisions to fill again');
    const probe = await http('POST', '/v1/ops/probes', { baseUrl });
    expect(probe.status).toBe(202);
    await waitFor(
      async () => (await http('GET', `/v1/ops/probes/${probe.body.id}`, { baseUrl })).body.status === 'processed',
      20000,
      'the worker to process a job after Redis returned',
    );
  });

  it('stops a worker on SIGTERM with exit code 0', async () => {
    const worker = await stack.startWorker();
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(worker.output()).toMatch(/SIGTERM: no new jobs/);
  });

  it('refuses to start with a wrong variable and names it, without a stack trace', async () => {
    const env = { ...stackEnv({ dbName: 'unused', queuePrefix: 'unused' }, 1), DB_PORT: 'not-a-port', TRACKING_SECRET: 'short' };
    const api = startProcess('bad-config-api', process.execPath, ['dist/apps/api/src/main.js'], env);
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/DB_PORT/);
    expect(api.output()).toMatch(/TRACKING_SECRET/);
    expect(api.output()).not.toMatch(/\n\s+at /);

    const worker = startProcess('bad-config-worker', process.execPath, ['dist/apps/worker/src/main.js'], { ...env, DB_PORT: '3306', WORKER_CONCURRENCY: '0' });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/WORKER_CONCURRENCY/);
  });

  it('says how to create and migrate a database that does not exist, and exits 1', async () => {
    const env = stackEnv({ dbName: `adp_missing_${runId}`, queuePrefix: `test-${runId}-missing`, redisUrl: redis.url }, 1);
    for (const app of ['api', 'worker']) {
      const proc = startProcess(`missing-db-${app}`, process.execPath, [`dist/apps/${app}/src/main.js`], env);
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toContain(`${app} failed to start: database "adp_missing_${runId}" does not exist`);
      expect(proc.output()).toContain('node dist/db/migrate.js');
    }
  });
});
