import { createAdvertiser, createApiKey, createCreative } from './support/campaign-fixtures';
import { http } from './support/http';

/**
 * Admin-only routes refuse advertiser keys (403) and anonymous callers (401), and answer the admin:
 * the role check is asserted route by route, never inferred from one of them.
 */
describe('admin-only routes', () => {
  let advertiserKey: string;
  let creativeId: string;
  let advertiserId: string;

  beforeAll(async () => {
    const advertiser = await createAdvertiser();
    advertiserId = advertiser.id;
    advertiserKey = await createApiKey(advertiser.id);
    creativeId = (await createCreative(advertiser.id)).id;
  });

  const routes = (): Array<[string, string, unknown?]> => [
    ['GET', '/v1/ops/queues'],
    ['POST', '/v1/ops/queues/aggregation/pause'],
    ['POST', '/v1/ops/queues/aggregation/resume'],
    ['GET', '/v1/ops/sla'],
    ['GET', '/v1/ops/breaches'],
    ['GET', '/v1/ops/dead-letters'],
    ['POST', '/v1/ops/dead-letters/00000000-0000-7000-8000-000000000000/retry'],
    ['GET', '/ops/queues'],
    ['POST', '/v1/invoices/generate', { period: '2026-11' }],
    ['POST', '/v1/invoices/00000000-0000-7000-8000-000000000000/issue'],
    ['POST', '/v1/invoices/00000000-0000-7000-8000-000000000000/pay'],
    ['POST', '/v1/invoices/00000000-0000-7000-8000-000000000000/void'],
    ['GET', '/v1/invoices/00000000-0000-7000-8000-000000000000/reconciliation'],
    ['POST', '/v1/ops/probes', {}],
    ['GET', '/v1/ops/probes/00000000-0000-7000-8000-000000000000'],
    ['GET', '/v1/reports/rejected?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z'],
    ['POST', '/v1/advertisers', { name: 'Not allowed' }],
    ['GET', '/metrics'],
    ['POST', `/v1/creatives/${creativeId}/review`, { decision: 'approved' }],
    ['POST', '/v1/decisions?explain=true', { placement: 'p', user: { id: 'u' }, device: { platform: 'ios' }, geo: { country: 'US' } }],
  ];

  it('refuses an advertiser key with 403 on every admin-only route, and writes nothing', async () => {
    for (const [method, path, body] of routes()) {
      const res = await http(method, path, { key: advertiserKey, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      if (res.headers.get('content-type')?.includes('json')) expect(res.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    }
    const creative = await http('GET', `/v1/creatives/${creativeId}`, { key: advertiserKey });
    expect(creative.body.status).toBe('pending_review');
    const advertisers = await http('GET', '/v1/advertisers', { key: advertiserKey });
    expect(advertisers.body.data.map((a: { id: string }) => a.id)).toEqual([advertiserId]);
  });

  it('refuses anonymous callers with 401 on every admin-only route', async () => {
    for (const [method, path, body] of routes()) {
      const res = await http(method, path, { key: null, body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
    }
  });

  it('answers the admin on the read-only ones', async () => {
    for (const path of ['/v1/ops/queues', '/v1/ops/sla', '/v1/ops/breaches', '/v1/ops/dead-letters', '/v1/reports/rejected?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', '/metrics']) {
      expect({ path, status: (await http('GET', path)).status }).toEqual({ path, status: 200 });
    }
  });
});
