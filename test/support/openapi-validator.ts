import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Every answer the e2e suite receives through `http()` is checked against the OpenAPI document the
 * API serves (`/docs-json`): the status must be documented for its operation, and a JSON body must
 * match the documented schema (types strict, additional properties allowed unless a schema forbids
 * them). Bodies of other types (CSV, XML, none) only need a documented status. One validator per
 * test process, built lazily from the shared stack's document; stacks of their own serve the same
 * document, so answers are matched by path template, whatever the origin.
 */

type Json = Record<string, any>;

/** Served by the API but deliberately outside the document: the document itself and Swagger UI. */
// The queue dashboard's page is documented; its assets and bull-board's own JSON are not part of the API.
const OUTSIDE_DOCUMENT = [/^\/docs(-json|\/.*)?$/, /^\/ops\/queues\/.+$/];

/** $refs of the document (#/components/...) resolve against it, added to Ajv under this id. */
const DOCUMENT_ID = 'openapi.json';

/** What an unknown route or method answers; its body, when JSON, is still the uniform error body. */
const NO_ROUTE_STATUSES = new Set([404, 405]);

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  literalSegments: number;
  responses: Json;
}

export class OpenApiMismatch extends Error {
  constructor(method: string, path: string, status: number, problem: string, body?: string) {
    super(`OpenAPI mismatch: ${method} ${path} answered ${status}: ${problem}${body === undefined ? '' : `\n  body: ${body.slice(0, 1500)}`}`);
    this.name = 'OpenApiMismatch';
  }
}

/** OpenAPI 3.0 schema to JSON Schema: `nullable` becomes a union with null (Ajv rejects it beside $ref or allOf). */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === 'example' || key === 'examples' || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) {
      out[key] = `${DOCUMENT_ID}${value}`;
      continue;
    }
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toJsonSchema(v)])) : toJsonSchema(value);
  }
  if ((schema as Json).nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(document: Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: toJsonSchema(document.components ?? {}) });
    for (const [template, item] of Object.entries((document.paths ?? {}) as Json)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (!['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method)) continue;
        const segments = template.split('/');
        this.operations.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`),
          literalSegments: segments.filter((s) => !s.startsWith('{')).length,
          responses: (operation as Json).responses ?? {},
        });
      }
    }
    // A literal segment beats a parameter (/v1/reports/rejected before a /v1/reports/{id}).
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Throws OpenApiMismatch when the answer is not what the document says this route answers. */
  check(method: string, url: string, status: number, contentType: string, text: string): void {
    const path = new URL(url, 'http://x').pathname;
    if (OUTSIDE_DOCUMENT.some((re) => re.test(path))) return;
    const forPath = this.operations.filter((o) => o.regex.test(path));
    // HEAD is answered by the GET route, without a body.
    const operation = forPath.find((o) => o.method === method) ?? (method === 'HEAD' ? forPath.find((o) => o.method === 'GET') : undefined);
    if (!operation) {
      if (!NO_ROUTE_STATUSES.has(status)) {
        throw new OpenApiMismatch(method, path, status, forPath.length ? `method not documented for this path (documented: ${forPath.map((o) => o.method).join(', ')})` : 'path not documented');
      }
      this.checkBody('no route', { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } }, method, path, status, contentType, text);
      return;
    }
    const response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
    if (!response) {
      throw new OpenApiMismatch(method, path, status, `status not documented for ${operation.method} ${operation.template} (documented: ${Object.keys(operation.responses).join(', ')})`, text);
    }
    if (method === 'HEAD') return;
    this.checkBody(`${operation.method} ${operation.template} ${status}`, response, method, path, status, contentType, text);
  }

  private checkBody(key: string, response: Json, method: string, path: string, status: number, contentType: string, text: string): void {
    const mediaType = contentType.split(';')[0].trim().toLowerCase();
    const isJson = /^application\/([\w.+-]+\+)?json$/.test(mediaType);
    if (!isJson) return;
    if (!text) return;
    const content = (response.content ?? {}) as Json;
    const entry = content[mediaType] ?? content['application/json'];
    if (!entry) throw new OpenApiMismatch(method, path, status, `a JSON body where the document declares ${Object.keys(content).join(', ') || 'no body'}`, text);
    if (!entry.schema) return;
    const cacheKey = `${key} ${mediaType}`;
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(entry.schema) as object);
      this.compiled.set(cacheKey, validate);
    }
    const body: unknown = JSON.parse(text);
    if (!validate(body)) throw new OpenApiMismatch(method, path, status, `body does not match its schema: ${formatErrors(validate.errors)}`, text);
  }
}

let validator: Promise<OpenApiValidator> | undefined;

/** The validator of this test process, built on first use from the document the shared stack serves. */
export function openApiValidator(baseUrl: string): Promise<OpenApiValidator> {
  validator ??= (async () => {
    const res = await fetch(`${process.env.E2E_BASE_URL ?? baseUrl}/docs-json`);
    if (res.status !== 200) throw new Error(`GET /docs-json answered ${res.status}: cannot validate answers against the OpenAPI document`);
    return new OpenApiValidator((await res.json()) as Json);
  })();
  validator.catch(() => (validator = undefined));
  return validator;
}
