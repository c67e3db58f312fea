import Redis, { Cluster, RedisOptions } from 'ioredis';
// Types only: the test setup loads this file without the config's decorators.
import type { PlatformConfig } from '../config/platform.config';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** Parsed REDIS_CLUSTER_NODES (an empty list when unset), or null when it is not a list of host:port. */
export function parseRedisClusterNodes(value: unknown): RedisNodeAddress[] | null {
  if (value === undefined || value === '') return [];
  if (typeof value !== 'string') return null;
  const nodes: RedisNodeAddress[] = [];
  for (const entry of value.split(',')) {
    const match = /^\s*(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})\s*$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) return null;
    nodes.push({ host: match[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return nodes;
}

/** One Redis or a Redis Cluster (REDIS_CLUSTER_NODES): what every lib types a connection against. */
export type RedisClient = Redis | Cluster;

export type RedisConfig = Pick<PlatformConfig, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>;

/** Connection options derived from REDIS_URL; for a cluster, its credentials and TLS apply to every node. */
export function redisOptions(config: Pick<PlatformConfig, 'REDIS_URL'>): RedisOptions {
  const url = new URL(config.REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 2000,
    // Keep reconnecting in the background, but never queue commands while disconnected: callers get
    // an error at once (and answer 503) instead of hanging.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  };
}

export function isClusterConfig(config: Pick<PlatformConfig, 'REDIS_CLUSTER_NODES'>): boolean {
  return (parseRedisClusterNodes(config.REDIS_CLUSTER_NODES) ?? []).length > 0;
}

/**
 * What a connection is for:
 * - commands: counters, caches, publishing; fails fast (no offline queue, one retry, 1 s command timeout)
 *   so that an outage surfaces as an error (503), not a hang;
 * - subscriber: pub/sub; waits through reconnects and resubscribes by itself;
 * - queue: BullMQ on a cluster; no retry limit (BullMQ's workers refuse connections that have one), and
 *   an offline queue: BullMQ takes a Cluster that is still connecting ('connect') for ready and sends
 *   its first commands at once; refused, they sent BullMQ round a tight loop of errors (a worker took
 *   ~40 s and gigabytes of logs to start). Enqueues still fail fast: JobQueue.enqueue answers 503
 *   after 2 s.
 */
export type RedisRole = 'commands' | 'subscriber' | 'queue';

const ROLES: Record<RedisRole, { enableOfflineQueue: boolean; perNode: Pick<RedisOptions, 'maxRetriesPerRequest' | 'commandTimeout'> }> = {
  commands: { enableOfflineQueue: false, perNode: { maxRetriesPerRequest: 1, commandTimeout: 1000 } },
  subscriber: { enableOfflineQueue: true, perNode: { maxRetriesPerRequest: null } },
  queue: { enableOfflineQueue: true, perNode: { maxRetriesPerRequest: null } },
};

/**
 * The one place connections are made: a Redis on REDIS_URL, or, with REDIS_CLUSTER_NODES, an ioredis
 * Cluster with the same behaviour per role (the offline queue and reconnect pace at cluster level, the
 * retry limit, timeouts, credentials and TLS for each node's connection).
 */
export function createRedisClient(config: RedisConfig, role: RedisRole): RedisClient {
  const { enableOfflineQueue, perNode } = ROLES[role];
  const options = redisOptions(config);
  const nodes = parseRedisClusterNodes(config.REDIS_CLUSTER_NODES) ?? [];
  if (nodes.length === 0) return new Redis({ ...options, enableOfflineQueue, ...perNode });
  const { host: _host, port: _port, db: _db, retryStrategy, ...shared } = options;
  return new Cluster(nodes, {
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    // A slot map older than the cluster (a failover, a reshard) is refreshed on the first MOVED anyway.
    slotsRefreshTimeout: 2000,
    redisOptions: { ...shared, ...perNode },
  });
}

/** The masters commands go to: the one Redis, or every master of the cluster. */
export function masterNodes(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
