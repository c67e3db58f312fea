import { http } from './support/http';
import { validateVast } from './support/vast-schema';

const request = {
  placement: 'between-songs',
  user: { id: 'listener-1', age: 30, gender: 'female' },
  device: { platform: 'ios' },
  geo: { country: 'US', region: 'CA' },
  context: { genre: 'rock', keywords: ['running'] },
};

describe('decision API contract (real API process)', () => {
  it('answers a well-formed request without a key, with a request id and a list (no fill = empty list)', async () => {
    const res = await http('POST', '/v1/decisions', { body: request, key: null });
    expect(res.status).toBe(200);
    expect(typeof res.body.requestId).toBe('string');
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    expect(Array.isArray(res.body.decisions)).toBe(true);
    expect(res.body.explanation).toBeUndefined();
  });

  it.each([
    [{ ...request, user: undefined }, 'user'],
    [{ ...request, user: { age: 3 } }, 'user.id'],
    [{ ...request, device: { platform: 'toaster' } }, 'device.platform'],
    [{ ...request, geo: { country: 'USA' } }, 'geo.country'],
    [{ ...request, slots: 11 }, 'slots'],
    [{ ...request, slots: 0 }, 'slots'],
    [{ ...request, format: 'hologram' }, 'format'],
    [{ ...request, context: { keywords: 42 } }, 'context.keywords'],
    [{ ...request, user: { id: 'x', age: 'thirty' } }, 'user.age'],
    [{ ...request, surprise: true }, 'surprise'],
    [{ ...request, device: { platform: 'ios', ip: '999.1.1.1' } }, 'device.ip: must be an IPv4 or IPv6 address'],
  ])('rejects a malformed request with 400 naming the field (%#)', async (body, field) => {
    const res = await http('POST', '/v1/decisions', { body, key: null });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toContain(field);
  });

  it('answers unknown placements and contexts with no fill, not an error', async () => {
    // No suite of this stack serves display creatives: nothing can match, whatever else is live.
    const res = await http('POST', '/v1/decisions', { body: { ...request, placement: 'nowhere-known', format: 'display', context: { genre: 'unheard-of' } }, key: null });
    expect(res.status).toBe(200);
    expect(res.body.decisions).toEqual([]);
    expect(res.body.requestId).toEqual(expect.any(String));
  });

  it('explain is for admins only: 401 without a key, 403 with an advertiser key, explanation for the admin', async () => {
    expect((await http('POST', '/v1/decisions?explain=true', { body: request, key: null })).status).toBe(401);
    expect((await http('POST', '/v1/decisions?explain=true', { body: request, key: 'adp_not-a-real-key' })).status).toBe(401);
    const admin = await http('POST', '/v1/decisions?explain=true', { body: request });
    expect(admin.status).toBe(200);
    expect(Array.isArray(admin.body.explanation)).toBe(true);
    expect((await http('POST', '/v1/decisions?explain=maybe', { body: request })).status).toBe(400);
  });

  it('answers VAST 4.2 XML that validates against the XSD, an empty VAST on no fill', async () => {
    const res = await http('GET', '/v1/vast?placement=between-songs&userId=listener-1&platform=ios&country=US&keywords=a,b&cb=12345', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.text).toContain('<VAST version="4.2" xmlns="http://www.iab.com/VAST"');
    expect(await validateVast(res.text)).toEqual({ valid: true, errors: [] });
  });

  it('rejects malformed VAST parameters with 400 naming them', async () => {
    const res = await http('GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&slots=eleven', { key: null });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('slots');
    const missing = await http('GET', '/v1/vast?placement=p&platform=ios&country=US', { key: null });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('userId');
    const badIp = await http('GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&ip=not-an-address', { key: null });
    expect(badIp.status).toBe(400);
    expect(badIp.body.message).toContain('ip: must be an IPv4 or IPv6 address');
    expect((await http('GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&ip=2001:db8::1', { key: null })).status).toBe(200);
    expect((await http('GET', '/v1/vast?placement=p&userId=u&platform=ios&country=US&ip=::ffff:203.0.113.7', { key: null })).status).toBe(200);
  });

  it('counts decisions by outcome and records their latency in /metrics', async () => {
    await http('POST', '/v1/decisions', { body: request, key: null });
    const metrics = await http('GET', '/metrics');
    expect(metrics.text).toMatch(/delivery_decisions_total\{outcome="(filled|no_fill)"\} [1-9]/);
    expect(metrics.text).toMatch(/delivery_decision_duration_seconds_count\{outcome="(filled|no_fill)"\} [1-9]/);
  });

  it('documents both endpoints in OpenAPI', async () => {
    const doc = await http('GET', '/docs-json', { key: null });
    expect(doc.body.paths['/v1/decisions'].post).toBeDefined();
    expect(doc.body.paths['/v1/vast'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['placement', 'userId', 'platform', 'country', 'keywords']));
  });
});
