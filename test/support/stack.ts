// Relative, not @app/platform: the global setup loads this file without Jest's path mapping.
import { createRedisClient, masterNodes } from '../../libs/platform/src/redis/redis-client';
import { createConnection } from 'mysql2/promise';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, ROOT, freePort, startProcess, waitFor } from './processes';
const { nodeFlags } = require('../../scripts/node-flags') as { nodeFlags: (app: string, env?: NodeJS.ProcessEnv) => string[] };

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface StackOptions {
  dbName: string;
  queuePrefix: string;
  redisUrl?: string;
  /** Run on this Redis Cluster (REDIS_CLUSTER_NODES) instead of one Redis; default: one Redis. */
  redisClusterNodes?: string;
  workers?: number;
  env?: NodeJS.ProcessEnv;
  /** A built checkout whose API and worker to run (benchmarks' A/B); default: this one. */
  root?: string;
}

/** Environment shared by the API and the worker of a test stack. */
export function stackEnv(o: StackOptions, port: number): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
    DB_PORT: process.env.DB_PORT ?? '3306',
    DB_USER: process.env.DB_USER ?? 'root',
    DB_PASSWORD: process.env.DB_PASSWORD ?? '',
    DB_NAME: o.dbName,
    REDIS_URL: o.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_CLUSTER_NODES: o.redisClusterNodes ?? '',
    QUEUE_PREFIX: o.queuePrefix,
    ADMIN_API_KEY: ADMIN_KEY,
    TRACKING_SECRET: 'test-tracking-secret-0123456789abcdef',
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    WORKER_CONCURRENCY: '4',
    SHUTDOWN_TIMEOUT_MS: '10000',
    // Every test client is 127.0.0.1 with one User-Agent: thousands of simulated listeners share one
    // source, so the per-source invalid-traffic rules are off unless a test sets them (ivt-source-rates).
    IVT_MAX_IMPRESSIONS_PER_IP_MINUTE: '0',
    IVT_MAX_CLICKS_PER_IP_MINUTE: '0',
    IVT_MAX_IMPRESSIONS_PER_IP_UA_MINUTE: '0',
    IVT_MAX_CLICKS_PER_IP_UA_MINUTE: '0',
    // Likewise many decisions per listener and per IP: the decision limits are tested on stacks of their own.
    DECISION_LISTENER_LIMIT: '0',
    DECISION_IP_LIMIT: '0',
    // Suites running at once share 127.0.0.1 and test wrong keys on purpose; abuse-limits tests the limit itself.
    AUTH_FAILURE_LIMIT: '1000',
    ...o.env,
  };
}

function assertBuilt(): void {
  for (const file of ['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/db/migrate.js']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run "npm run build" first (npm test does it for you)`);
  }
}

/** Creates the database (if missing) and applies every migration, through the same runner as `npm start`. */
export async function migrateDatabase(env: NodeJS.ProcessEnv): Promise<void> {
  assertBuilt();
  const migrate = startProcess(`migrate-${env.DB_NAME}`, process.execPath, ['dist/db/migrate.js'], env);
  const code = await migrate.exited;
  if (code !== 0) throw new Error(`migrations failed (${code}):\n${migrate.output()}`);
}

export async function dropDatabase(name: string): Promise<void> {
  const conn = await createConnection({ host: process.env.DB_HOST ?? '127.0.0.1', port: Number(process.env.DB_PORT ?? 3306), user: process.env.DB_USER ?? 'root', password: process.env.DB_PASSWORD ?? '' });
  await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await conn.end();
}

/**
 * Deletes every Redis key of a deployment prefix (queues, counters, caches), as a stack leaves them
 * behind: `<prefix>:*`, and on a cluster the queues' `{<prefix>:<queue>}:*` too, on every master.
 */
export async function dropRedisPrefix(redisUrl: string, prefix: string, clusterNodes = ''): Promise<void> {
  const client = createRedisClient({ REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: clusterNodes }, 'subscriber');
  try {
    await waitFor(async () => client.status === 'ready', 10_000, 'redis to clean up', 20);
    for (const node of masterNodes(client)) {
      for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          // One key per command: on a cluster node, the keys of one command must share a slot.
          if (keys.length > 0) await Promise.all(keys.map((key) => node.unlink(key)));
          cursor = next;
        } while (cursor !== '0');
      }
    }
  } finally {
    client.disconnect();
  }
}

/** A real API process and real worker processes on one database and Redis prefix. */
export class Stack {
  readonly workers: ManagedProcess[] = [];
  private workerCount = 0;

  private constructor(
    readonly options: StackOptions,
    readonly env: NodeJS.ProcessEnv,
    readonly api: ManagedProcess,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  static async start(options: StackOptions): Promise<Stack> {
    const port = await freePort();
    const env = stackEnv(options, port);
    await migrateDatabase(env);
    const api = startProcess(`${options.queuePrefix}-api`, process.execPath, [...nodeFlags('api'), join(options.root ?? ROOT, 'dist/apps/api/src/main.js')], env);
    const stack = new Stack(options, env, api);
    for (let i = 0; i < (options.workers ?? 1); i++) await stack.startWorker();
    await stack.waitForApi();
    return stack;
  }

  async waitForApi(timeoutMs = 30000): Promise<void> {
    const exited = () => this.api.child.exitCode !== null || this.api.child.signalCode !== null;
    const state = await waitFor(
      async () => (exited() ? 'exited' : (await fetch(`${this.baseUrl}/health/live`)).status === 200 && 'up'),
      timeoutMs,
      `API on ${this.baseUrl}`,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- api output ---\n${this.api.output().slice(-4000)}`);
    });
    // An exit is final, not something to poll through (another process answering on the port is not this API).
    if (state === 'exited' || exited()) throw new Error(`API exited:\n${this.api.output().slice(-4000)}`);
  }

  /** Starts one more worker process and waits until it consumes. */
  async startWorker(env: NodeJS.ProcessEnv = {}): Promise<ManagedProcess> {
    const workerEnv = { ...this.env, LOG_LEVEL: 'info', ...env };
    const flags = nodeFlags('worker', { ...process.env, ...workerEnv });
    const worker = startProcess(`${this.options.queuePrefix}-worker-${++this.workerCount}`, process.execPath, [...flags, join(this.options.root ?? ROOT, 'dist/apps/worker/src/main.js')], workerEnv);
    await waitFor(
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
        return worker.output().includes('consuming');
      },
      30000,
      'worker to consume',
      100,
    );
    this.workers.push(worker);
    return worker;
  }

  async stop(): Promise<void> {
    await Promise.all([this.api.stop(), ...this.workers.map((w) => w.stop())]);
  }

  /** After stop(): drops the stack's database and its Redis keys, so that runs leave nothing behind. */
  async dropData(): Promise<void> {
    await dropDatabase(this.env.DB_NAME!);
    await dropRedisPrefix(this.env.REDIS_URL!, this.env.QUEUE_PREFIX!, this.env.REDIS_CLUSTER_NODES);
  }
}
