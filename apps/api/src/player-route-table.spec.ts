import type { DecisionOutcome, DecisionService, ServedAd } from '@app/delivery';
import { DecisionRoutes, TrackingTokenCodec } from '@app/delivery';
import { BeaconRoutes } from '@app/measurement';
import { ApiConfig, ApiKeyService, COMMON_ERROR_RESPONSES, MetricsService, PlayerRoutes, documentPlayerRoutes } from '@app/platform';
import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv from 'ajv';
import type { RouteOptions } from 'fastify';
import type { AddressInfo } from 'node:net';
import { PlayerRouteTable } from './player-route-table';

/**
 * The player route table against the real PlayerRoutes (plain Fastify), in process: handlers are
 * reached through real routing, validation and serialisation; only the services behind them are
 * stand-ins (what they do is tested elsewhere, against MySQL and Redis).
 */
const served: ServedAd = {
  decisionId: '0192f1c4-8d2e-7c1a-9a55-3f1b2c3d4e5f',
  advertiserId: 'adv-1',
  campaignId: 'cp-"1"',
  lineItemId: 'li-1',
  lineItemName: 'Summer \u2028 line',
  creativeId: 'cr-1',
  format: 'audio',
  mediaUrl: 'https://cdn.example.com/a "b"\\c\u0000é😀.mp3',
  mimeType: 'audio/mpeg',
  durationSeconds: 15.25,
  clickThroughUrl: 'https://brand.example.com/',
  companionImageUrl: null,
  pricingModel: 'CPM',
  rateMicros: 2_500_000,
  currency: 'USD',
  clickUrl: 'https://ads.example.com/t/click?d=tok.en',
  tracking: {
    impression: 'https://ads.example.com/t/impression?d=tok.en',
    start: 'https://ads.example.com/t/start?d=tok.en',
    firstQuartile: 'https://ads.example.com/t/firstQuartile?d=tok.en',
    midpoint: 'https://ads.example.com/t/midpoint?d=tok.en',
    thirdQuartile: 'https://ads.example.com/t/thirdQuartile?d=tok.en',
    complete: 'https://ads.example.com/t/complete?d=tok.en',
    click: 'https://ads.example.com/t/click?d=tok.en',
  },
  token: 'tok.en',
};

/** What the contract (DESIGN.md) says a served ad is in the JSON answer: these fields, no other. */
const CONTRACT_FIELDS = ['decisionId', 'campaignId', 'lineItemId', 'creativeId', 'format', 'mediaUrl', 'mimeType', 'durationSeconds', 'clickUrl', 'tracking'];

function table(outcome: (requestId: string, keywords: string[]) => DecisionOutcome): { server: PlayerRoutes; table: PlayerRouteTable; added: RouteOptions[] } {
  const config = Object.assign(new ApiConfig(), { BODY_LIMIT_BYTES: 64 * 1024 });
  const keys = Object.assign(Object.create(ApiKeyService.prototype) as ApiKeyService, { resolveForRequest: async () => null });
  const server = new PlayerRoutes(config, new MetricsService(), keys);
  const added: RouteOptions[] = [];
  // Everything Fastify routes, however it was added (HEAD routes included): what the checks below walk.
  server.fastify.addHook('onRoute', (route) => void added.push(route));
  const decisions = { decide: async (ctx: { keywords: string[] }, options: { requestId: string }) => outcome(options.requestId, ctx.keywords) } as unknown as DecisionService;
  const codec = new TrackingTokenCodec('a-secret-of-reasonable-length-for-tests', 3600);
  const routes = new PlayerRouteTable(server, new DecisionRoutes(decisions, server), new BeaconRoutes({} as never, {} as never, codec));
  routes.onModuleInit();
  return { server, table: routes, added };
}

const methodsOf = (route: RouteOptions) => (Array.isArray(route.method) ? route.method : [route.method]);

async function listen(server: PlayerRoutes): Promise<(method: string, url: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; text: string; headers: Headers }>> {
  await server.onApplicationBootstrap();
  await server.fastify.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(server.fastify.server.address() as AddressInfo).port}`;
  return async (method, url, body, headers = {}) => {
    const res = await fetch(`${base}${url}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
}

describe('player route table', () => {
  let built: ReturnType<typeof table>;
  let call: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    built = table((requestId) => ({ requestId, ads: [served, { ...served, decisionId: 'd-2' }] }));
    call = await listen(built.server);
  });
  afterAll(() => built.server.fastify.close());

  it('lists every player route; each one Fastify routes declares a schema for every request part it reads and for its JSON answers', () => {
    // A new player route is added here on purpose, with its schemas: this list is what players may call outside Nest.
    expect(built.added.flatMap((r) => methodsOf(r).map((m) => `${m} ${r.url}`)).sort()).toEqual(['GET /t/:event', 'GET /v1/vast', 'HEAD /t/:event', 'HEAD /v1/vast', 'POST /v1/decisions']);
    for (const route of built.added) {
      const schema = route.schema as Record<string, unknown> | undefined;
      expect([route.url, typeof schema?.querystring]).toEqual([route.url, 'object']);
      if (route.url.includes(':')) expect([route.url, typeof schema?.params]).toEqual([route.url, 'object']);
      if (methodsOf(route).includes('POST')) expect([route.url, typeof schema?.body]).toEqual([route.url, 'object']);
    }
    // JSON answers are written by their schema (fast-json-stringify), not by JSON.stringify.
    for (const route of built.table.routes()) {
      const fastify = built.added.find((r) => r.url === route.url && methodsOf(r).includes(route.method))!;
      for (const [status, answer] of Object.entries(route.responses)) {
        if (answer.json) expect((fastify.schema?.response as Record<string, unknown>)[status]).toBe(answer.json);
      }
    }
  });

  it('documents every route from the schemas it validates and answers with', () => {
    const document = documentPlayerRoutes({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: {} } as OpenAPIObject, built.table.routes(), COMMON_ERROR_RESPONSES);
    expect(Object.keys(document.paths).sort()).toEqual(['/t/{event}', '/v1/decisions', '/v1/vast']);
    for (const route of built.table.routes()) {
      const operation = document.paths[route.url.replace(/:(\w+)/g, '{$1}')][route.method.toLowerCase() as 'get' | 'post']!;
      const parameters = (operation.parameters ?? []) as Array<{ name: string; in: string }>;
      const query = Object.keys((route.request.querystring.properties ?? {}) as object);
      expect(parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(query);
      expect(parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(Object.keys((route.request.params?.properties ?? {}) as object));
      if (route.request.body) expect((operation.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json'].schema).toEqual(route.request.body);
      for (const [status, answer] of Object.entries(route.responses)) {
        // The same schema, but for the serializer's `unsafe` format (strings it writes without escaping).
        const schema = (operation.responses[status] as { content?: Record<string, { schema: unknown }> }).content?.['application/json']?.schema;
        if (answer.json) expect(JSON.stringify(schema)).toBe(JSON.stringify(answer.json).replace(/,"format":"unsafe"/g, ''));
      }
      // The errors any route may give are documented too.
      for (const status of [413, 429, 503]) expect(operation.responses[status]).toBeDefined();
    }
  });

  it('writes a decision with its schema: the contract fields of each ad, escaped as JSON.stringify would, nothing else', async () => {
    const res = await call('POST', '/v1/decisions', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } }, { 'x-request-id': 'req-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const pick = (ad: ServedAd) => Object.fromEntries(CONTRACT_FIELDS.map((f) => [f, ad[f as keyof ServedAd]]));
    expect(res.text).toBe(JSON.stringify({ requestId: 'req-1', decisions: [pick(served), pick({ ...served, decisionId: 'd-2' })] }));
    const document = documentPlayerRoutes({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: {} } as OpenAPIObject, built.table.routes(), []);
    const documented = (document.paths['/v1/decisions'].post!.responses[200] as { content: Record<string, { schema: object }> }).content['application/json'].schema;
    expect(new Ajv({ strict: false }).validate(documented, JSON.parse(res.text))).toBe(true);
  });

  it.each([
    ['POST', '/v1/decisions', { placement: 'p', user: { id: 'u', age: '30' }, device: { platform: 'ios' }, geo: { country: 'US' } }, 'user.age: must be integer'],
    ['POST', '/v1/decisions', { placement: 'p', user: { id: 'u' }, device: { platform: 'fridge' }, geo: { country: 'US' } }, 'device.platform: must be one of ios, android'],
    ['POST', '/v1/decisions', { placement: 'p', user: {}, device: { platform: 'ios' }, geo: { country: 'US' }, extra: 1 }, 'extra: is not a known field; user.id: is required'],
    ['POST', '/v1/decisions', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' }, context: { keywords: ['a', 'b'.repeat(65)] } }, 'context.keywords[1]: must not have more than 64 characters'],
    ['POST', '/v1/decisions', undefined, 'body: must be object'],
    ['POST', '/v1/decisions', [1], 'body: must be object'],
    ['POST', '/v1/decisions?explain=maybe', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } }, 'explain: must be one of true, false, 1, 0, ""'],
    ['GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&slots=eleven', undefined, 'slots: must be integer'],
    ['GET', '/v1/vast?placement=p&platform=ios&country=USA', undefined, 'userId: is required'],
    ['GET', `/v1/vast?placement=p&userId=u&platform=ios&country=US&keywords=a,${'b'.repeat(65)}`, undefined, 'keywords[1]: must not have more than 64 characters'],
    ['GET', '/t/teleport?d=abc', undefined, 'event: must be one of impression, start'],
    ['GET', '/t/impression?cb=1', undefined, 'd: is required'],
  ])('refuses a schema violation on %s %s with 400 naming the field', async (method, url, payload, message) => {
    const res = await call(method, url, payload);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: expect.any(String), details: expect.any(Array) });
    expect(body.message).toContain(message);
  });

  it('takes keywords as a comma-separated string in the body, as in a VAST tag, and as a list', async () => {
    let seen: unknown;
    const own = table((requestId, keywords) => {
      seen = keywords;
      return { requestId, ads: [] };
    });
    const ownCall = await listen(own.server);
    const body = (keywords: unknown) => ({ placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' }, context: { keywords } });
    expect((await ownCall('POST', '/v1/decisions', body(' Running, summer ,,'))).status).toBe(200);
    expect(seen).toEqual(['running', 'summer']);
    expect((await ownCall('POST', '/v1/decisions', body(['Travel']))).status).toBe(200);
    expect(seen).toEqual(['travel']);
    await own.server.fastify.close();
  });
});
