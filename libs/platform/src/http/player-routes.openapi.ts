import type { ApiResponseOptions, OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { PlayerResponse, PlayerRoute } from './player-routes';
import type { JsonSchema } from './schema-validation';

const ERROR_BODY = { $ref: '#/components/schemas/ErrorBody' };

/** The schema as the document shows it: without `format: 'unsafe'`, which only tells fast-json-stringify not to escape a string. */
function documented(schema: unknown): SchemaObject {
  if (Array.isArray(schema)) return schema.map(documented) as unknown as SchemaObject;
  if (typeof schema !== 'object' || schema === null) return schema as SchemaObject;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) if (!(key === 'format' && value === 'unsafe')) out[key] = key === 'example' ? value : documented(value);
  return out as SchemaObject;
}

function parametersOf(schema: JsonSchema | undefined, location: 'query' | 'path'): ParameterObject[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, example, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(description === undefined ? {} : { description: description as string }),
      ...(example === undefined ? {} : { example }),
      // Lists travel as one comma-separated value (keywords=a,b), as players send them.
      ...(rest.type === 'array' ? { style: 'form', explode: false } : {}),
      schema: documented(rest),
    };
  });
}

function responseOf(answer: PlayerResponse): ResponseObject {
  if (answer.json) return { description: answer.description, content: { 'application/json': { schema: documented(answer.json) } } };
  if (answer.error) return { description: answer.description, content: { 'application/json': { schema: ERROR_BODY } } };
  if (answer.content) return { description: answer.description, content: answer.content as ResponseObject['content'] };
  return { description: answer.description };
}

/**
 * Adds the player routes to the document Nest generated, from the schemas they validate and serialise
 * with: path and query parameters, the JSON body, every answer, and the errors any route may give
 * (`commonErrors`, as `addGlobalResponse` adds them to Nest's operations) where a route says nothing else.
 */
export function documentPlayerRoutes(document: OpenAPIObject, routes: readonly PlayerRoute[], commonErrors: readonly ApiResponseOptions[]): OpenAPIObject {
  for (const route of routes) {
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, ResponseObject> = {};
    for (const [status, answer] of Object.entries(route.responses)) responses[status] = responseOf(answer);
    for (const common of commonErrors as Array<{ status?: number; description?: string }>) {
      if (common.status !== undefined && !responses[common.status]) responses[common.status] = responseOf({ description: common.description ?? '', error: true });
    }
    const operation: OperationObject = {
      operationId: route.docs.operationId,
      tags: route.docs.tags,
      summary: route.docs.summary,
      description: route.docs.description,
      parameters: [...parametersOf(route.request.params, 'path'), ...parametersOf(route.request.querystring, 'query')],
      ...(route.request.body ? { requestBody: { required: true, content: { 'application/json': { schema: documented(route.request.body) } } } } : {}),
      responses,
      // An API key is optional: players call without one.
      ...(route.docs.bearer ? { security: [{}, { bearer: [] }] } : {}),
    };
    document.paths[path] = { ...document.paths[path], [route.method.toLowerCase()]: operation };
  }
  return document;
}
