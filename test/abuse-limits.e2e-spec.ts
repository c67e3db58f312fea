import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Connection } from 'mysql2/promise';
import { HttpResult, http } from './support/http';
import { HOUR_MS, floorHour, mysql, postEvents } from './support/measurement-fixtures';
import { freePort, sleep } from './support/processes';
import { RedisServer } from './support/redis-server';
import { ADMIN_KEY, Stack, dropDatabase } from './support/stack';

/**
 * Issue 15, defect 9: /metrics behind the admin key (or on its own port), wrong API keys cached and
 * limited per IP, keys revoked with the key that minted them, unverifiable beacons counted with a
 * bounded sample, slow requests cut off, and 414/431 answered with the uniform body. Its own stack,
 * with short limits set through the environment (and its own Redis, stopped by the last test).
 */
const AUTH_FAILURE_LIMIT = 10;
const SAMPLES_PER_HOUR = 5;
const REQUEST_TIMEOUT_MS = 2000;

describe('abuse limits (own API process with short limits)', () => {
  const runId = `${process.env.E2E_RUN_ID}abuse`;
  let redis: RedisServer;
  let stack: Stack;
  let metricsPort: number;
  let db: Connection;
  let baseUrl: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    metricsPort = await freePort();
    stack = await Stack.start({
      dbName: `adp_test_${runId}`,
      queuePrefix: `test-${runId}`,
      redisUrl: redis.url,
      workers: 0,
      env: {
        METRICS_PORT: String(metricsPort),
        AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
        AUTH_FAILURE_WINDOW_SECONDS: '60',
        REJECTED_SAMPLES_PER_HOUR: String(SAMPLES_PER_HOUR),
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      },
    });
    baseUrl = stack.baseUrl;
    db = await mysql(stack.env.DB_NAME);
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await redis?.stop().catch(() => undefined);
    await dropDatabase(`adp_test_${runId}`);
  });

  /** A call from a client address of its own (the API trusts X-Forwarded-For, as behind a load balancer). */
  const call = (method: string, path: string, ip: string, key: string | null, body?: unknown) => http(method, path, { baseUrl, key, body, headers: { 'x-forwarded-for': ip } });
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const keyLookups = async (result: 'found' | 'unknown') => Number(new RegExp(`^api_key_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(await scrape())?.[1] ?? 0);
  const wrongKey = () => `adp_${randomBytes(32).toString('base64url')}`;

  function expectUniformError(res: HttpResult, status: number): void {
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
    expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
    expect(res.text).not.toMatch(/FST_|HPE_|ERR_|at .*\.js/);
  }

  it('serves /metrics to the admin key only on the API port, and without a key on METRICS_PORT', async () => {
    const advertiser = (await http('POST', '/v1/advertisers', { baseUrl, body: { name: 'Metrics reader' } })).body;
    const advertiserKey = (await http('POST', `/v1/advertisers/${advertiser.id}/api-keys`, { baseUrl, body: {} })).body.key;
    expectUniformError(await http('GET', '/metrics', { baseUrl, key: null }), 401);
    expectUniformError(await http('GET', '/metrics', { baseUrl, key: advertiserKey }), 403);
    const admin = await http('GET', '/metrics', { baseUrl });
    expect(admin.status).toBe(200);
    expect(admin.text).toMatch(/^# (HELP|TYPE) /m);
    const separate = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(separate.status).toBe(200);
    expect(await separate.text()).toMatch(/http_request_duration_seconds_bucket/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/v1/campaigns`)).status).toBe(404);
  });

  it('answers 429 with Retry-After once an IP has failed AUTH_FAILURE_LIMIT times, without asking MySQL again', async () => {
    const before = await keyLookups('unknown');
    const statuses: number[] = [];
    let throttled: HttpResult | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await call('GET', '/v1/campaigns', '203.0.113.7', wrongKey());
      statuses.push(res.status);
      throttled ??= res.status === 429 ? res : undefined;
    }
    expect(statuses.slice(0, AUTH_FAILURE_LIMIT)).toEqual(Array(AUTH_FAILURE_LIMIT).fill(401));
    expect(statuses.slice(AUTH_FAILURE_LIMIT)).toEqual(Array(50 - AUTH_FAILURE_LIMIT).fill(429));
    expectUniformError(throttled!, 429);
    const retryAfter = Number(throttled!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Only the failures within the limit reached MySQL.
    expect((await keyLookups('unknown')) - before).toBe(AUTH_FAILURE_LIMIT);
    // Public player routes count the same failures and refuse the same way.
    expect((await call('POST', '/v1/decisions', '203.0.113.7', wrongKey(), { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } })).status).toBe(429);

    // Other clients are unaffected, and the admin key still works from the throttled address.
    expect((await call('GET', '/v1/campaigns', '203.0.113.8', wrongKey())).status).toBe(401);
    expect((await call('GET', '/v1/campaigns', '203.0.113.7', ADMIN_KEY)).status).toBe(200);
  });

  it('remembers an unknown key for a few seconds: repeating it costs no MySQL read', async () => {
    const key = wrongKey();
    const before = await keyLookups('unknown');
    for (let i = 0; i < 5; i++) expect((await call('GET', '/v1/campaigns', '198.51.100.20', key)).status).toBe(401);
    expect((await keyLookups('unknown')) - before).toBe(1);
  });

  it('revokes every key a key minted, transitively, and only those, on every request at once', async () => {
    const ip = '198.51.100.30';
    const advertiser = (await http('POST', '/v1/advertisers', { baseUrl, body: { name: 'Key family' } })).body;
    const mint = async (key: string) => {
      const res = await call('POST', `/v1/advertisers/${advertiser.id}/api-keys`, ip, key, { name: 'child' });
      expect(res.status).toBe(201);
      return res.body as { id: string; key: string; parentKeyId: string | null };
    };
    const root = await mint(ADMIN_KEY);
    expect(root.parentKeyId).toBeNull();
    const child = await mint(root.key);
    expect(child.parentKeyId).toBe(root.id);
    const grandchild = await mint(child.key);
    expect(grandchild.parentKeyId).toBe(child.id);
    const sibling = await mint(root.key);
    const works = async (key: string) => (await call('GET', `/v1/advertisers/${advertiser.id}`, ip, key)).status;
    // Every key is resolved (and cached) before the revocation.
    for (const k of [root, child, grandchild, sibling]) expect(await works(k.key)).toBe(200);

    const revoked = await call('DELETE', `/v1/api-keys/${child.id}`, ip, root.key);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect(await works(child.key)).toBe(401);
    expect(await works(grandchild.key)).toBe(401);
    expect(await works(root.key)).toBe(200);
    expect(await works(sibling.key)).toBe(200);

    expect((await call('DELETE', `/v1/api-keys/${root.id}`, ip, ADMIN_KEY)).status).toBe(200);
    expect(await works(sibling.key)).toBe(401);
    const list = await http('GET', `/v1/advertisers/${advertiser.id}/api-keys`, { baseUrl });
    expect(list.body.data.map((k: { revokedAt: string | null }) => k.revokedAt !== null)).toEqual([true, true, true, true]);
  });

  it('counts 1,000 unverifiable beacons and keeps at most REJECTED_SAMPLES_PER_HOUR rows of them per reason and hour', async () => {
    const hour = floorHour(Date.now());
    const rowsOf = async (reason: string) => {
      const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM rejected_events WHERE reason = ?', [reason])) as unknown as [Array<{ n: string }>];
      return Number(n);
    };
    const garbage = Array.from({ length: 1000 }, (_, i) => ({ event: i % 2 ? 'click' : 'impression', token: `garbage-${i}` }));
    const first = await postEvents(garbage, { baseUrl });
    expect(first.status).toBe(200);
    expect(first.body.results.every((r: { status: string; reason: string }) => r.status === 'invalid' && r.reason === 'malformed')).toBe(true);
    expect((await postEvents(garbage.slice(0, 200), { baseUrl })).status).toBe(200);

    expect(await rowsOf('malformed')).toBeGreaterThan(0);
    expect(await rowsOf('malformed')).toBeLessThanOrEqual(SAMPLES_PER_HOUR);
    const report = await http('GET', `/v1/reports/rejected?from=${new Date(hour - HOUR_MS).toISOString()}&to=${new Date(hour + 2 * HOUR_MS).toISOString()}`, { baseUrl });
    expect(report.status).toBe(200);
    const count = (event: string) => report.body.rows.find((r: { reason: string; event: string }) => r.reason === 'malformed' && r.event === event)?.count;
    expect(count('impression')).toBe(600);
    expect(count('click')).toBe(600);
    expect(report.body.samples.length).toBeGreaterThan(0);
    expect(report.body.samples.length).toBeLessThanOrEqual(SAMPLES_PER_HOUR);
    expect(report.body.samples[0]).toMatchObject({ reason: 'malformed', event: expect.any(String), receivedAt: expect.any(String), tokenSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('cuts off a trickled request body after HTTP_REQUEST_TIMEOUT_MS while other requests are served', async () => {
    const started = Date.now();
    const trickled = new Promise<{ answer: string; afterMs: number }>((resolve, reject) => {
      const socket = connect(Number(stack.env.PORT), '127.0.0.1');
      let answer = '';
      let timer: NodeJS.Timeout | undefined;
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 8 s, answer so far: ${answer}`));
      }, 8000);
      socket.on('connect', () => {
        socket.write('POST /v1/events HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"events":[');
        timer = setInterval(() => socket.writable && socket.write(' '), 200);
      });
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve({ answer, afterMs: Date.now() - started });
      });
    });
    // Meanwhile the API answers others at once.
    await sleep(500);
    const during = Date.now();
    expect((await http('GET', '/health/live', { baseUrl, key: null })).status).toBe(200);
    expect(Date.now() - during).toBeLessThan(500);

    const { answer, afterMs } = await trickled;
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ statusCode: 408, error: 'Request Timeout', requestId: expect.any(String) });
    expect(answer).toContain(`X-Request-Id: ${body.requestId}`);
  });

  it('answers an over-long URL with 414 and oversized headers with 431, in the uniform body with a request id', async () => {
    expectUniformError(await http('GET', `/v1/campaigns/${'a'.repeat(300)}`, { baseUrl }), 414);
    expectUniformError(await http('GET', `/t/${'a'.repeat(300)}?d=x`, { baseUrl, key: null }), 414);
    expectUniformError(await http('GET', `/v1/campaigns?name=${'a'.repeat(20_000)}`, { baseUrl }), 414);
    expectUniformError(await http('GET', '/health/live', { baseUrl, key: null, headers: { 'x-padding': 'a'.repeat(20_000) } }), 431);
    // The connection that broke the rules is closed; the next request is served.
    expect((await http('GET', '/health/live', { baseUrl, key: null })).status).toBe(200);
  });

  it('with Redis down, wrong keys still answer 401 from the negative cache, never 500', async () => {
    await redis.stop();
    const key = wrongKey();
    const before = await keyLookups('unknown');
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/campaigns', '192.0.2.50', key)).status).toBe(401);
    expect((await keyLookups('unknown')) - before).toBe(1);
    expect((await call('GET', '/v1/campaigns', '192.0.2.50', ADMIN_KEY)).status).toBe(200);
  });
});
