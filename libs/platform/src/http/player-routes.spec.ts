import type { AddressInfo } from 'node:net';
import { ApiKeyService } from '../auth/api-key.service';
import type { Principal } from '../auth/principal';
import { ApiConfig } from '../config/api.config';
import { MetricsService } from '../telemetry/metrics.service';
import { BoundedTtlSet } from '../util/bounded-ttl-set';
import { PlayerRoute, PlayerRoutes, playerRoutesServer } from './player-routes';

function playerRoutes(resolve: (key: string) => Promise<Principal | null> = async () => null): PlayerRoutes {
  const config = Object.assign(new ApiConfig(), { BODY_LIMIT_BYTES: 1024 });
  // The real service's request-facing methods over a stubbed lookup (no MySQL in this unit test).
  const keys = Object.assign(Object.create(ApiKeyService.prototype) as ApiKeyService, { resolve, cache: new Map(), unknown: new BoundedTtlSet(0, 1), adminKeyHash: Buffer.alloc(32) });
  return new PlayerRoutes(config, new MetricsService(), keys);
}

/** A route with the least a player route must declare. */
function route(method: 'GET' | 'POST', url: string, handler: PlayerRoute['handler'], request: Partial<PlayerRoute['request']> = {}): PlayerRoute {
  const params = url.includes(':') ? { type: 'object', properties: { event: { type: 'string' } } } : undefined;
  return {
    method,
    url,
    request: { querystring: { type: 'object' }, ...(params ? { params } : {}), ...(method === 'POST' ? { body: { type: 'object' } } : {}), ...request },
    responses: { 200: { description: 'ok', json: { type: 'object', additionalProperties: true } } },
    docs: { operationId: url, tags: ['test'], summary: url, description: url },
    handler,
  };
}

describe('PlayerRoutes', () => {
  it('claims exact paths and the prefix before a path parameter, only once started', async () => {
    const routes = playerRoutes();
    routes.route(route('POST', '/v1/decisions', async () => ({})));
    routes.route(route('GET', '/t/:event', async () => ({})));
    expect(routes.handles('/v1/decisions')).toBe(false);
    await routes.onApplicationBootstrap();
    expect(routes.handles('/v1/decisions')).toBe(true);
    expect(routes.handles('/v1/decisions?explain=true')).toBe(true);
    expect(routes.handles('/t/impression?d=abc')).toBe(true);
    expect(routes.handles('/v1/decisionsx')).toBe(false);
    expect(routes.handles('/v1/decisions/1')).toBe(false);
    expect(routes.handles('/t')).toBe(false);
    expect(routes.handles('/v1/campaigns')).toBe(false);
    expect(routes.handles(undefined)).toBe(false);
  });

  it('refuses a route that does not declare the schema of a part it reads, or any successful answer', () => {
    const routes = playerRoutes();
    const handler = async () => ({});
    const query = { querystring: { type: 'object' } };
    expect(() => routes.route({ ...route('POST', '/v1/things', handler), request: query })).toThrow('POST /v1/things: a player route declares the schema of its body');
    expect(() => routes.route({ ...route('GET', '/t/:event', handler), request: query })).toThrow('GET /t/:event: a player route declares the schema of its path parameters');
    expect(() => routes.route({ ...route('GET', '/v1/thing', handler), responses: { 400: { description: 'bad', error: true } } })).toThrow('GET /v1/thing: a player route declares its successful answers');
    expect(routes.handles('/v1/things')).toBe(false);
  });

  it('resolves an API key only when one is sent, and turns a database failure into 503', async () => {
    const admin: Principal = { kind: 'admin' } as Principal;
    const seen: string[] = [];
    const routes = playerRoutes(async (key) => {
      seen.push(key);
      if (key === 'down') throw new Error('connect ECONNREFUSED');
      return key === 'good' ? admin : null;
    });
    const request = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as never;
    expect(await routes.principal(request())).toBeUndefined();
    expect(await routes.principal(request('Basic abc'))).toBeUndefined();
    expect(await routes.principal(request('Bearer unknown'))).toBeUndefined();
    expect(await routes.principal(request('Bearer good'))).toBe(admin);
    await expect(routes.principal(request('Bearer down'))).rejects.toMatchObject({ status: 503 });
    expect(seen).toEqual(['unknown', 'good', 'down']);
  });

  it('shares one HTTP server with the main application: player paths go to the lean instance, the rest to the main handler', async () => {
    const routes = playerRoutes();
    routes.route(route('GET', '/t/:event', async (request) => ({ lean: (request.params as { event: string }).event })));
    await routes.onApplicationBootstrap();
    const server = playerRoutesServer(() => routes)((_req, res) => res.end('main'), { keepAliveTimeout: 5000, connectionTimeout: 0 });
    expect(server.keepAliveTimeout).toBe(5000);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const lean = await fetch(`${base}/t/impression?d=1`, { headers: { 'x-request-id': 'r-1' } });
      expect(await lean.json()).toEqual({ lean: 'impression' });
      expect(lean.headers.get('x-request-id')).toBe('r-1');
      expect(await (await fetch(`${base}/v1/campaigns`)).text()).toBe('main');
      const notFound = await fetch(`${base}/t/x`, { method: 'DELETE', headers: { 'x-request-id': 'r-2' } });
      expect(notFound.status).toBe(404);
      expect(await notFound.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot DELETE /t/x', requestId: 'r-2' });
      const tooLarge = await fetch(`${base}/t/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(2048)}"` });
      expect(tooLarge.status).toBe(413);
      expect(await tooLarge.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large', requestId: expect.any(String) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await routes.fastify.close();
    }
  });
});
