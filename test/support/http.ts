import { openApiValidator } from './openapi-validator';
import { ADMIN_KEY } from './stack';

export interface HttpResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** API key; defaults to the admin key. Pass null for no Authorization header. */
  key?: string | null;
  headers?: Record<string, string>;
  baseUrl?: string;
}

/** A real HTTP call to the stack under test; the answer must be one the OpenAPI document describes (see openapi-validator). */
export async function http<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
  const baseUrl = options.baseUrl ?? process.env.E2E_BASE_URL;
  if (!baseUrl) throw new Error('E2E_BASE_URL is not set: run through jest --selectProjects e2e');
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  (await openApiValidator(baseUrl)).check(method.toUpperCase(), path, res.status, res.headers.get('content-type') ?? '', text);
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, text, headers: res.headers };
}
