import type { paths } from '../.generated/api-types';

/**
 * A small API client typed entirely by the generated `paths` (npm run client:types): the path, its
 * parameters, the JSON body and the answer of each call are checked by the compiler against the
 * OpenAPI document, in the style of openapi-fetch, with nothing but fetch.
 */
type Method = 'get' | 'post' | 'patch' | 'delete';
type Operation<P extends keyof paths, M extends Method> = M extends keyof paths[P] ? NonNullable<paths[P][M]> : never;
type JsonOf<C> = C extends { content: { 'application/json': infer T } } ? T : never;
type Success<O> = O extends { responses: infer R } ? { [S in keyof R]: S extends 200 | 201 | 202 ? JsonOf<R[S]> : never }[keyof R] : never;
type RequestBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : O extends { requestBody?: { content: { 'application/json': infer B } } } ? B | undefined : undefined;
type PathParams<O> = O extends { parameters: { path: infer P } } ? (P extends Record<string, unknown> ? P : undefined) : undefined;
type QueryParams<O> = O extends { parameters: { query?: infer Q } } ? (Q extends Record<string, unknown> ? Q : undefined) : undefined;
type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends Record<M, object> ? P : never }[keyof paths];

export interface CallOptions<O> {
  path?: PathParams<O>;
  query?: QueryParams<O>;
  body?: RequestBody<O>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`API answered ${status}: ${JSON.stringify(body)}`);
  }
}

export function createClient(baseUrl: string, apiKey: string) {
  async function call<M extends Method, P extends PathsWith<M>>(method: M, path: P, options: CallOptions<Operation<P, M>> = {}): Promise<Success<Operation<P, M>>> {
    let url = String(path);
    for (const [name, value] of Object.entries((options.path ?? {}) as Record<string, unknown>)) url = url.replace(`{${name}}`, encodeURIComponent(String(value)));
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries((options.query ?? {}) as Record<string, unknown>)) if (value !== undefined) query.set(name, String(value));
    const res = await fetch(`${baseUrl}${url}${query.size ? `?${query}` : ''}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${apiKey}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body: unknown = res.status === 204 ? undefined : await res.json();
    if (!res.ok) throw new ApiError(res.status, body);
    return body as Success<Operation<P, M>>;
  }
  return {
    get: <P extends PathsWith<'get'>>(path: P, options?: CallOptions<Operation<P, 'get'>>) => call('get', path, options),
    post: <P extends PathsWith<'post'>>(path: P, options?: CallOptions<Operation<P, 'post'>>) => call('post', path, options),
    patch: <P extends PathsWith<'patch'>>(path: P, options?: CallOptions<Operation<P, 'patch'>>) => call('patch', path, options),
    delete: <P extends PathsWith<'delete'>>(path: P, options?: CallOptions<Operation<P, 'delete'>>) => call('delete', path, options),
  };
}
