import { PlatformConfig, RedisService } from '@app/platform';
import { randomBytes } from 'node:crypto';
import { dropRedisPrefix } from './stack';

/**
 * A RedisService on the local Redis (or, with `clusterNodes`, on that Redis Cluster) with a prefix of
 * its own, for tests of Redis-backed logic (no mocks). `cleanup` deletes the prefix's keys and disconnects.
 */
export async function testRedis(prefix = `t_dlv_${randomBytes(4).toString('hex')}`, clusterNodes = ''): Promise<RedisService & { cleanup(): Promise<void> }> {
  const config = Object.assign(new PlatformConfig(), { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: clusterNodes, QUEUE_PREFIX: prefix });
  const redis = new RedisService(config);
  if (redis.client.status !== 'ready') await new Promise<void>((resolve, reject) => {
    redis.client.once('ready', resolve);
    redis.client.once('end', () => reject(new Error('redis connection ended')));
  });
  return Object.assign(redis, {
    async cleanup() {
      await dropRedisPrefix(config.REDIS_URL, prefix, clusterNodes);
      await redis.onApplicationShutdown();
    },
  });
}
