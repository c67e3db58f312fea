import Redis from 'ioredis';
import { createServingLineItem } from './support/campaign-fixtures';
import { http } from './support/http';
import { waitFor } from './support/processes';

/**
 * Issue 21: the player routes (served on plain Fastify, apps/api/src/player-route-table.ts) against the
 * real API: described in /docs-json from the schemas they validate with, a schema violation on each is
 * a 400 naming the field, and their answers are exactly what the schemas say.
 */
const run = Math.random().toString(36).slice(2, 8);
type Json = Record<string, any>;

const PLAYER_OPERATIONS: Array<[string, string]> = [
  ['post', '/v1/decisions'],
  ['get', '/v1/vast'],
  ['get', '/t/{event}'],
];

describe('player routes (issue 21)', () => {
  let doc: Json;
  let redis: Redis;

  beforeAll(async () => {
    doc = (await http('GET', '/docs-json', { key: null })).body;
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    await redis.set(`${process.env.E2E_QUEUE_PREFIX}:dlv:restored`, new Date().toISOString(), 'NX');
  });

  afterAll(() => redis.disconnect());

  it('are described in /docs-json: parameters and body with their schemas, every answer, errors in the uniform body', () => {
    for (const [method, path] of PLAYER_OPERATIONS) {
      const operation = doc.paths[path]?.[method];
      expect([path, operation?.operationId]).toEqual([path, expect.any(String)]);
      for (const parameter of operation.parameters) expect([path, parameter.name, parameter.schema?.type]).toEqual([path, parameter.name, expect.any(String)]);
      for (const status of ['400', '413', '503']) expect(operation.responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    }
    const decide = doc.paths['/v1/decisions'].post;
    expect(decide.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['placement', 'user', 'device', 'geo'] });
    expect(decide.responses['200'].content['application/json'].schema.properties.decisions.items.required).toContain('tracking');
    expect(decide.parameters.map((p: Json) => p.name)).toEqual(['explain']);
    expect(doc.paths['/v1/vast'].get.parameters.find((p: Json) => p.name === 'keywords')).toMatchObject({ in: 'query', style: 'form', explode: false, schema: { type: 'array' } });
    expect(doc.paths['/v1/vast'].get.responses['200'].content['application/xml'].schema).toEqual({ type: 'string' });
    expect(doc.paths['/t/{event}'].get.parameters.find((p: Json) => p.in === 'path')).toMatchObject({ name: 'event', required: true, schema: { enum: expect.arrayContaining(['impression', 'click']) } });
    expect(Object.keys(doc.paths['/t/{event}'].get.responses)).toEqual(expect.arrayContaining(['204', '302']));
  });

  it.each([
    ['POST', '/v1/decisions', 'geo.region', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US', region: 7 } }, 'geo.region: must be string'],
    ['POST', '/v1/decisions', 'geo', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' } }, 'geo: is required'],
    ['POST', '/v1/decisions', 'slots', { placement: 'p', slots: '2', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } }, 'slots: must be integer'],
    ['POST', '/v1/decisions?explain=yes', 'explain', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } }, 'explain: must be one of true, false'],
    ['GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&age=old', 'age', undefined, 'age: must be integer'],
    ['GET', '/v1/vast?placement=p&userId=u&platform=toaster&country=US&format=display', 'platform', undefined, 'format: must be one of audio, video'],
    ['GET', '/t/listen?d=abc', 'event', undefined, 'event: must be one of impression'],
    ['GET', '/t/click', 'd', undefined, 'd: is required'],
  ])('%s %s: a schema violation is a 400 naming the field (%s)', async (method, path, field, body, message) => {
    const res = await http(method, path, { key: null, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: expect.any(String) });
    expect(res.body.details.map((d: Json) => d.field)).toContain(field);
    expect(res.body.message).toContain(message);
  });

  it('answer exactly what their schemas say: a filled decision has the documented fields of an ad and of its tracking, no other', async () => {
    const keyword = `schema-${run}`;
    await createServingLineItem({ lineItem: { name: `Schema ${run}`, priority: 1, frequencyCaps: [], targeting: { countries: ['TO'], keywords: { all: [keyword] } } } });
    const body = { placement: 'between-songs', user: { id: `listener-${run}` }, device: { platform: 'ios' }, geo: { country: 'TO' }, context: { keywords: keyword } };
    const filled = await waitFor(async () => {
      const res = await http('POST', '/v1/decisions', { key: null, body });
      return res.body.decisions.length === 1 ? res : undefined;
    }, 5000, 'the line item to serve', 100);
    const schema = doc.paths['/v1/decisions'].post.responses['200'].content['application/json'].schema;
    const [ad] = filled.body.decisions;
    expect(Object.keys(filled.body).sort()).toEqual(['decisions', 'requestId']);
    expect(Object.keys(ad).sort()).toEqual(Object.keys(schema.properties.decisions.items.properties).sort());
    expect(Object.keys(ad.tracking).sort()).toEqual(Object.keys(schema.properties.decisions.items.properties.tracking.properties).sort());
    expect(ad.clickUrl).toBe(ad.tracking.click);
    expect(ad.tracking.impression).toMatch(/\/t\/impression\?d=[\w-]+\.[\w-]+$/);

    const explained = await http('POST', '/v1/decisions?explain=true', { body: { ...body, user: { id: `admin-${run}` } } });
    expect(explained.status).toBe(200);
    const candidate = explained.body.explanation.find((c: Json) => c.reason === 'selected');
    expect(Object.keys(candidate).sort()).toEqual(Object.keys(schema.properties.explanation.items.properties).sort());
  });
});
