import { request } from 'node:http';
import { ADMIN_KEY } from './support/stack';
import { http } from './support/http';
import { waitFor } from './support/processes';

/**
 * Declares a body larger than the limit and sends only its first kilobyte: the API must answer 413 from
 * the declared length. (Sending all of it races the server, which closes the connection after its 413,
 * against the client's writes: fetch then fails with EPIPE before it reads the answer.)
 */
function declareHugeBody(path: string, bytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${process.env.E2E_BASE_URL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': bytes, authorization: `Bearer ${ADMIN_KEY}` },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', reject);
    req.write(`{"pad":"${'x'.repeat(1024)}`);
  });
}

describe('platform (real API and worker processes)', () => {
  it('answers liveness and readiness with MySQL and Redis up', async () => {
    expect((await http('GET', '/health/live', { key: null })).status).toBe(200);
    const ready = await http('GET', '/health/ready', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ mysql: { status: 'up' }, redis: { status: 'up' } });
  });

  it('serves Swagger UI at /docs and a valid OpenAPI 3 document at /docs-json', async () => {
    const ui = await http('GET', '/docs', { key: null });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
    const doc = await http('GET', '/docs-json', { key: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(doc.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('rejects a missing or wrong API key with 401 and the uniform error body', async () => {
    const missing = await http('GET', '/v1/ops/queues', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(missing.body.message).toMatch(/API key/i);
    const wrong = await http('GET', '/v1/ops/queues', { key: 'adp_not-a-real-key' });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toMatch(/at .*\.js/);
  });

  it('answers unknown routes, bad JSON and oversized bodies with 4xx in the uniform shape', async () => {
    const notFound = await http('GET', '/v1/nothing-here', { key: null });
    expect(notFound.status).toBe(404);
    expect(notFound.body).toMatchObject({ statusCode: 404, error: 'Not Found' });

    const badJson = await http('POST', '/v1/ops/probes', { body: '{"oops":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });

    const huge = await declareHugeBody('/v1/ops/probes', 2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.text)).toMatchObject({ statusCode: 413 });
  });

  it('accepts an empty body sent as application/json on action endpoints', async () => {
    const res = await http('POST', '/v1/ops/probes', { body: '', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
  });

  it('echoes a request id and sends security headers', async () => {
    const res = await http('GET', '/health/live', { key: null, headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeTruthy();
    const generated = await http('GET', '/health/live', { key: null });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('processes a job enqueued through the API in the separate worker process', async () => {
    const sent = await http('POST', '/v1/ops/probes');
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe('pending');
    const done = await waitFor(
      async () => {
        const probe = await http('GET', `/v1/ops/probes/${sent.body.id}`);
        return probe.body.status === 'processed' ? probe.body : null;
      },
      15000,
      'the worker to process the probe',
    );
    expect(done.processedBy).toMatch(/:\d+$/);
    const queues = await http('GET', '/v1/ops/queues');
    expect(queues.status).toBe(200);
    expect(queues.body.map((q: { queue: string }) => q.queue)).toContain('maintenance');
  });

  it('exposes Prometheus metrics: HTTP latency by route and queue depth', async () => {
    await http('GET', '/v1/ops/queues');
    const metrics = await http('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/v1\/ops\/queues"/);
    expect(metrics.text).toMatch(/queue_jobs\{queue="maintenance",state="waiting"\}/);
  });

  it('serves player routes (decisions, VAST, beacons) on the lean path: same ids, error bodies, limits and metrics, no page headers', async () => {
    const decision = await http('POST', '/v1/decisions', {
      key: null,
      headers: { 'x-request-id': 'player-trace-1' },
      body: { placement: 'nowhere', user: { id: 'listener-lean' }, device: { platform: 'ios' }, geo: { country: 'US' } },
    });
    expect(decision.status).toBe(200);
    // Other suites share this stack's catalog: whether anything fills does not matter here.
    expect(decision.body).toMatchObject({ requestId: 'player-trace-1', decisions: expect.any(Array) });
    expect(decision.headers.get('x-request-id')).toBe('player-trace-1');
    expect(decision.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Players read these answers as data, never as pages: no browser security headers.
    expect(decision.headers.get('content-security-policy')).toBeNull();

    const invalid = await http('POST', '/v1/decisions', { key: null, body: { placement: 'x', user: { id: 'u' }, device: { platform: 'fridge' }, geo: { country: 'US' } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: expect.any(String) });
    expect(invalid.body.message).toMatch(/platform/);
    const badJson = await http('POST', '/v1/decisions', { key: null, body: '{"placement":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const wrongType = await http('POST', '/v1/decisions', { key: null, body: 'placement=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body).toMatchObject({ statusCode: 415 });
    const huge = await declareHugeBody('/v1/decisions', 2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.text)).toMatchObject({ statusCode: 413 });
    const wrongMethod = await http('PUT', '/v1/decisions', { key: null, body: {} });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body).toMatchObject({ statusCode: 404 });

    const vast = await http('GET', '/v1/vast?placement=nowhere&userId=u&platform=ios&country=US', { key: null });
    expect(vast.status).toBe(200);
    expect(vast.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(vast.headers.get('cache-control')).toBe('no-store');
    const beacon = await http('GET', '/t/teleport?d=abc', { key: null });
    expect(beacon.status).toBe(400);
    expect(beacon.body.message).toMatch(/event: must be one of/);

    // The management API around them keeps its own pipeline.
    expect((await http('GET', '/v1/decisionsx', { key: null })).status).toBe(404);
    expect((await http('GET', '/health/live', { key: null })).headers.get('content-security-policy')).toBeTruthy();
    const metrics = await http('GET', '/metrics');
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/v1\/decisions",status="200"\} [1-9]/);
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/t\/:event",status="400"\} [1-9]/);
  });
});
