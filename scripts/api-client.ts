import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Settings of the scripts that drive a running API (seed, simulate): the environment, then .env, then the dev defaults. */
export function scriptEnv(): { baseUrl: string; adminKey: string } {
  const envFile = join(__dirname, '..', '.env');
  if (existsSync(envFile) && typeof process.loadEnvFile === 'function') process.loadEnvFile(envFile);
  const port = process.env.PORT || '3000';
  return {
    baseUrl: (process.env.API_URL ?? process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    adminKey: process.env.ADMIN_API_KEY || 'dev-admin-key-change-me',
  };
}

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 500)}`);
  }
}

/** A JSON call with a key; anything but 2xx throws, naming the call and the answer. */
export async function apiCall<T = any>(baseUrl: string, key: string | null, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const code = ((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message) as string;
    throw new Error(`cannot reach the API at ${baseUrl} (${code}): start it with npm start, or set API_URL`);
  }
  const text = await res.text();
  if (!res.ok) throw new ApiCallError(res.status, text, `${method} ${path}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Every item of a cursor-paged list. */
export async function listAll<T = any>(baseUrl: string, key: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { data: T[]; next: string | null } = await apiCall(baseUrl, key, 'GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.data);
    cursor = page.next;
  } while (cursor);
  return items;
}
