import { http } from './support/http';
import { OpenApiValidator, openApiValidator } from './support/openapi-validator';

/**
 * The OpenAPI document says what the API answers. Every answer of every e2e test is checked against it
 * by `http()` (test/support/openapi-validator.ts); this suite checks that the checker itself catches a
 * lie, and the answers that were once described wrongly.
 */
const base = () => process.env.E2E_BASE_URL!;
const run = Math.random().toString(36).slice(2, 8);

async function document(): Promise<Record<string, any>> {
  return (await http('GET', '/docs-json')).body;
}

describe('OpenAPI document (issue 20)', () => {
  it('refuses an undocumented status and a body of the wrong type, naming method, path, status and field', async () => {
    const validator = await openApiValidator(base());
    const campaign = { version: 1, createdAt: 'x', updatedAt: 'x', createdBy: 'admin', updatedBy: 'admin', id: 'c', advertiserId: 'a', name: 'n', startAt: 'x', endAt: 'x', budgetMicros: 5, status: 'draft' };
    expect(() => validator.check('GET', '/v1/campaigns/c', 200, 'application/json', JSON.stringify(campaign))).not.toThrow();
    expect(() => validator.check('GET', '/v1/campaigns/c', 200, 'application/json', JSON.stringify({ ...campaign, budgetMicros: null }))).not.toThrow();
    expect(() => validator.check('GET', '/v1/campaigns/c', 200, 'application/json', JSON.stringify({ ...campaign, budgetMicros: '5' }))).toThrow(
      /GET \/v1\/campaigns\/c answered 200: body does not match its schema: \/budgetMicros must be number/,
    );
    expect(() => validator.check('GET', '/v1/campaigns/c', 200, 'application/json', JSON.stringify({ ...campaign, status: 'sold' }))).toThrow(/\/status must be equal to one of the allowed values/);
    expect(() => validator.check('GET', '/v1/campaigns/c', 418, 'application/json', '{}')).toThrow(/GET \/v1\/campaigns\/c answered 418: status not documented for GET \/v1\/campaigns\/\{id\}/);
    expect(() => validator.check('GET', '/v1/nothing-here', 200, 'application/json', '{}')).toThrow(/path not documented/);
    // Unknown routes answer 404 with the uniform error body; non-JSON bodies need only a documented status.
    expect(() => validator.check('GET', '/v1/nothing-here', 404, 'application/json', JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'no route' }))).not.toThrow();
    expect(() => validator.check('GET', '/v1/reports?format=csv', 200, 'text/csv', 'a,b\n1,2\n')).not.toThrow();
  });

  it('describes the answers that were once wrong: a campaign budget, a review time, the details of a 400', async () => {
    const doc = await document();
    const schemas = doc.components.schemas;
    expect(schemas.CampaignDto.properties.budgetMicros).toMatchObject({ type: 'number', nullable: true });
    expect(schemas.CreativeDto.properties.reviewedAt).toMatchObject({ type: 'string', nullable: true });
    expect(schemas.ErrorBody.properties.details.items).toEqual({ $ref: '#/components/schemas/ErrorDetail' });
    // No property left typed as a bare object by a `T | null` the generator could not see through.
    const bare: string[] = [];
    for (const [name, schema] of Object.entries<Record<string, any>>(schemas)) {
      for (const [prop, p] of Object.entries<Record<string, any>>(schema.properties ?? {})) {
        if (p.type === 'object' && !p.properties && !p.additionalProperties) bare.push(`${name}.${prop}`);
      }
    }
    expect(bare).toEqual([]);
  });

  it('validates real answers: a created campaign, a reviewed creative, a refused body', async () => {
    // http() throws on any mismatch; these are the three answers issue 20 found undescribed.
    const advertiser = (await http('POST', '/v1/advertisers', { body: { name: `OpenAPI ${run}` } })).body;
    const campaign = await http('POST', '/v1/campaigns', { body: { advertiserId: advertiser.id, name: 'C', startAt: '2026-01-01T00:00:00Z', endAt: '2036-01-01T00:00:00Z', budgetMicros: 1_000_000 } });
    expect(campaign.status).toBe(201);
    const creative = (await http('POST', '/v1/creatives', { body: { advertiserId: advertiser.id, name: 'S', format: 'audio', mediaUrl: 'https://cdn.example.com/s.mp3', mimeType: 'audio/mpeg', durationSeconds: 30, clickThroughUrl: 'https://brand.example.com/' } })).body;
    expect((await http('POST', `/v1/creatives/${creative.id}/review`, { body: { decision: 'approved' } })).body.reviewedAt).toEqual(expect.any(String));
    const refused = await http('POST', '/v1/campaigns', { body: { advertiserId: advertiser.id, name: 'C', startAt: 'soon', endAt: 'later', budgetMicros: -1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.details[0]).toMatchObject({ field: expect.any(String), problems: [expect.any(String)] });
  });

  it("documents every path of DESIGN.md's contract table, the Prometheus scrape and the queue dashboard included", async () => {
    const paths = (await document()).paths as Record<string, Record<string, unknown>>;
    const contract: Array<[string, string]> = [
      ['post', '/v1/advertisers'], ['get', '/v1/advertisers'], ['get', '/v1/advertisers/{id}'], ['patch', '/v1/advertisers/{id}'],
      ['post', '/v1/advertisers/{id}/api-keys'], ['delete', '/v1/api-keys/{id}'],
      ['post', '/v1/campaigns'], ['get', '/v1/campaigns'], ['get', '/v1/campaigns/{id}'], ['patch', '/v1/campaigns/{id}'],
      ['post', '/v1/campaigns/{id}/activate'], ['post', '/v1/campaigns/{id}/pause'], ['post', '/v1/campaigns/{id}/archive'],
      ['post', '/v1/creatives'], ['get', '/v1/creatives'], ['get', '/v1/creatives/{id}'], ['patch', '/v1/creatives/{id}'], ['post', '/v1/creatives/{id}/review'],
      ['post', '/v1/line-items'], ['get', '/v1/line-items'], ['get', '/v1/line-items/{id}'], ['patch', '/v1/line-items/{id}'],
      ['post', '/v1/line-items/{id}/activate'], ['post', '/v1/line-items/{id}/pause'],
      ['post', '/v1/decisions'], ['get', '/v1/vast'], ['get', '/t/{event}'], ['post', '/v1/events'], ['get', '/v1/reports'],
      ['post', '/v1/invoices/generate'], ['get', '/v1/invoices'], ['get', '/v1/invoices/{id}'],
      ['post', '/v1/invoices/{id}/issue'], ['post', '/v1/invoices/{id}/pay'], ['post', '/v1/invoices/{id}/void'],
      ['get', '/v1/ops/sla'], ['get', '/v1/ops/breaches'], ['get', '/v1/ops/dead-letters'], ['post', '/v1/ops/dead-letters/{id}/retry'],
      ['get', '/v1/ops/delivery-health'], ['get', '/v1/ops/queues'], ['post', '/v1/ops/queues/{name}/pause'], ['post', '/v1/ops/queues/{name}/resume'],
      ['get', '/ops/queues'], ['post', '/v1/ops/exports'], ['get', '/v1/ops/exports'],
      ['get', '/health/live'], ['get', '/health/ready'], ['get', '/metrics'],
    ];
    const missing = contract.filter(([method, path]) => !paths[path]?.[method]).map(([method, path]) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
  });

  it('builds one validator from the served document, whatever the stack (own stacks serve the same one)', async () => {
    const validator = await openApiValidator(base());
    expect(validator).toBe(await openApiValidator('http://127.0.0.1:1'));
    expect(new OpenApiValidator(await document())).toBeInstanceOf(OpenApiValidator);
  });
});
