import { PlatformConfig, RedisService } from '@app/platform';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { ensureRedisCluster } from './redis-cluster';
import { testRedis } from './test-redis';

/** A RedisService for ledger tests, on one Redis or a Redis Cluster; `cleanup` deletes its prefix's keys and disconnects. */
export type LedgerTestRedis = RedisService & { prefix: string; cleanup(): Promise<void> };

export interface LedgerTarget {
  name: string;
  /** A connection under `prefix` (a fresh prefix when absent); connections given the same prefix share one deployment's keys. */
  connect(prefix?: string): Promise<LedgerTestRedis>;
}

/**
 * The cluster the ledger suites run against as well: TEST_REDIS_CLUSTER_NODES (or REDIS_CLUSTER_NODES),
 * else the local three-master cluster, started when it does not answer (test/support/redis-cluster.ts).
 */
export function clusterNodes(): Array<{ host: string; port: number }> {
  const spec = process.env.TEST_REDIS_CLUSTER_NODES ?? process.env.REDIS_CLUSTER_NODES ?? ensureRedisCluster();
  return spec.split(',').map((node) => {
    const [host, port] = node.trim().split(':');
    return { host, port: Number(port) };
  });
}

async function clusterRedis(prefix = `t_dlc_${randomBytes(4).toString('hex')}`): Promise<LedgerTestRedis> {
  const config = Object.assign(new PlatformConfig(), { QUEUE_PREFIX: prefix });
  const nodes = clusterNodes();
  const client = new Cluster(nodes, { enableOfflineQueue: true, redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 1, commandTimeout: 2000 }, clusterRetryStrategy: () => null });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis Cluster at ${nodes.map((n) => `${n.host}:${n.port}`).join(',')} not ready (is it running? see TEST_REDIS_CLUSTER_NODES)`)), 5000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.on('error', () => undefined);
  const service = {
    client,
    prefix,
    key: (...parts: Array<string | number>) => `${config.QUEUE_PREFIX}:${parts.join(':')}`,
    isReady: () => client.status === 'ready',
    async onApplicationShutdown() {
      client.disconnect();
    },
    async cleanup() {
      for (const node of client.nodes('master')) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          for (const key of keys) await node.del(key);
          cursor = next;
        } while (cursor !== '0');
      }
      client.disconnect();
    },
  };
  return service as unknown as LedgerTestRedis;
}

/** One Redis and a three-master Redis Cluster: every ledger suite runs against both. */
export function ledgerTargets(): Array<[string, LedgerTarget]> {
  return [
    ['one Redis', { name: 'one Redis', connect: (prefix?: string) => testRedis(prefix) as Promise<LedgerTestRedis> }],
    ['Redis Cluster', { name: 'Redis Cluster', connect: (prefix?: string) => clusterRedis(prefix) }],
  ];
}
