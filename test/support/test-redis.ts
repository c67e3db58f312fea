import { PlatformConfig, RedisService } from '@app/platform';
import { randomBytes } from 'node:crypto';

/**
 * A RedisService on the local Redis with a prefix of its own, for tests of Redis-backed logic
 * (no mocks). `cleanup` deletes the prefix's keys and disconnects.
 */
export async function testRedis(prefix = `t_dlv_${randomBytes(4).toString('hex')}`): Promise<RedisService & { cleanup(): Promise<void> }> {
  const config = Object.assign(new PlatformConfig(), { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUEUE_PREFIX: prefix });
  const redis = new RedisService(config);
  if (redis.client.status !== 'ready') await new Promise<void>((resolve, reject) => {
    redis.client.once('ready', resolve);
    redis.client.once('end', () => reject(new Error('redis connection ended')));
  });
  return Object.assign(redis, {
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await redis.onApplicationShutdown();
    },
  });
}
