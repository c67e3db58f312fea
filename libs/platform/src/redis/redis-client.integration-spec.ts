import { Queue, Worker } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { ensureRedisCluster } from '../../../../test/support/redis-cluster';
import { testRedis } from '../../../../test/support/test-redis';
import { PlatformConfig, loadConfig } from '../config/platform.config';
import { createQueueCluster, queueConnection, queuePrefix } from '../queue/queue-connection';
import { JobStatsService } from '../telemetry/job-stats.service';
import { createRedisClient, isClusterConfig, masterNodes } from './redis-client';

const SINGLE = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '' };

/** Disconnects and waits until the client gave up every socket and timer. */
async function closed(client: Redis | Cluster): Promise<void> {
  const ended = client.status === 'end' ? Promise.resolve() : new Promise((resolve) => client.once('end', resolve));
  client.disconnect();
  await ended;
}

describe('REDIS_CLUSTER_NODES', () => {
  it('takes a list of host:port and names the variable when it is anything else', () => {
    expect(loadConfig(PlatformConfig, {}).REDIS_CLUSTER_NODES).toBe('');
    expect(isClusterConfig(loadConfig(PlatformConfig, {}))).toBe(false);
    expect(isClusterConfig(loadConfig(PlatformConfig, { REDIS_CLUSTER_NODES: 'redis-a.internal:6379, 10.0.0.2:7000,[::1]:7001' }))).toBe(true);
    for (const bad of ['redis-a', 'redis-a:0', 'redis-a:70000', 'redis://a:6379', 'a:1,,b:2', 'a:1;b:2']) {
      expect(() => loadConfig(PlatformConfig, { REDIS_CLUSTER_NODES: bad })).toThrow(/REDIS_CLUSTER_NODES=.*comma-separated list of host:port/);
    }
  });
});

describe('createRedisClient on one Redis', () => {
  it('keeps the fail-fast options of commands and the patient ones of subscribers', async () => {
    const commands = createRedisClient({ ...SINGLE, REDIS_URL: 'redis://user:p%40ss@127.0.0.1:6379/2' }, 'commands') as Redis;
    const subscriber = createRedisClient(SINGLE, 'subscriber') as Redis;
    try {
      expect(commands).toBeInstanceOf(Redis);
      expect(commands).not.toBeInstanceOf(Cluster);
      expect(commands.options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, username: 'user', password: 'p@ss', db: 2 });
      expect(subscriber.options).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      expect(masterNodes(commands)).toEqual([commands]);
    } finally {
      await Promise.all([closed(commands), closed(subscriber)]);
    }
  });

  it('leaves BullMQ its prefix and its own connections from options', () => {
    const config = Object.assign(new PlatformConfig(), SINGLE, { QUEUE_PREFIX: 'adp' });
    expect(queuePrefix(config, 'aggregation')).toBe('adp');
    expect(createQueueCluster(config)).toBeNull();
    expect(queueConnection(config, null)).toMatchObject({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  });
});

describe('on a Redis Cluster', () => {
  let nodes: string;
  let config: PlatformConfig;

  beforeAll(() => {
    nodes = ensureRedisCluster();
    config = Object.assign(new PlatformConfig(), { ...SINGLE, REDIS_CLUSTER_NODES: nodes, QUEUE_PREFIX: `t_cl_${randomBytes(4).toString('hex')}` });
  });

  it('makes a Cluster with the same behaviour per role, reaching every master', async () => {
    const commands = createRedisClient({ REDIS_URL: 'rediss://user:secret@ignored:1/0', REDIS_CLUSTER_NODES: nodes }, 'commands') as Cluster;
    const queue = createRedisClient(config, 'queue') as Cluster;
    try {
      expect(commands).toBeInstanceOf(Cluster);
      expect(commands.options.enableOfflineQueue).toBe(false);
      expect(commands.options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, commandTimeout: 1000, username: 'user', password: 'secret', tls: {} });
      expect(commands.options.redisOptions).not.toHaveProperty('host');
      expect(commands.options.clusterRetryStrategy?.(3)).toBe(600);
      expect(queue.options.enableOfflineQueue).toBe(true);
      expect(queue.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null });
    } finally {
      // Still connecting: nothing to wait for (no 'end' comes before a connection began).
      commands.disconnect();
      queue.disconnect();
    }
  });

  it('serves keys of every slot, pings every master, and keeps multi-key commands to one slot', async () => {
    const redis = await testRedis(config.QUEUE_PREFIX, nodes);
    try {
      expect(redis.isCluster).toBe(true);
      expect(masterNodes(redis.client).length).toBeGreaterThanOrEqual(3);
      await redis.ping();
      const keys = Array.from({ length: 30 }, (_, i) => redis.key('spread', i));
      await Promise.all(keys.map((k, i) => redis.client.set(k, String(i))));
      const perMaster = await Promise.all(masterNodes(redis.client).map(async (node) => (await node.keys(`${config.QUEUE_PREFIX}:spread:*`)).length));
      expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      expect(await Promise.all(keys.map((k) => redis.client.get(k)))).toEqual(keys.map((_, i) => String(i)));
      // Why every multi-key call in the code base shares a tag or goes one key at a time:
      await expect(redis.client.multi().incr(redis.key('a')).incr(redis.key('b')).exec()).rejects.toThrow(/slot/i);
      const tagged = await redis.client.multi().incr(redis.key('{t}', 'a')).incr(redis.key('{t}', 'b')).exec();
      expect(tagged?.map(([, v]) => v)).toEqual([1, 1]);
    } finally {
      await redis.cleanup();
    }
  });

  it('delivers pub/sub across connections (catalog changes, revoked keys reach every replica)', async () => {
    const [a, b] = [await testRedis(config.QUEUE_PREFIX, nodes), await testRedis(config.QUEUE_PREFIX, nodes)];
    try {
      const received: string[] = [];
      await b.subscribe('news', (m) => received.push(m));
      await a.publish('news', 'hello');
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toEqual(['hello']);
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  it('records and reads job statistics (one MULTI and one pipeline over their keys)', async () => {
    const redis = await testRedis(config.QUEUE_PREFIX, nodes);
    try {
      const stats = new JobStatsService(redis);
      const now = Date.now();
      await stats.record('aggregation', 'measurement.aggregate', { waitMs: 7, runMs: 30, ok: true }, now);
      await stats.record('monitoring', 'ops.evaluate-slas', { waitMs: null, runMs: 3, ok: false }, now);
      expect((await stats.known()).map((p) => p.job).sort()).toEqual(['measurement.aggregate', 'ops.evaluate-slas']);
      const [aggregate, evaluate] = await stats.window([{ queue: 'aggregation', job: 'measurement.aggregate' }, { queue: 'monitoring', job: 'ops.evaluate-slas' }], 300, now);
      expect([aggregate.succeeded, aggregate.failed, evaluate.succeeded, evaluate.failed]).toEqual([1, 0, 0, 1]);
      expect((await stats.totals()).find((t) => t.job === 'measurement.aggregate')?.runSumMs).toBe(30);
    } finally {
      await redis.cleanup();
    }
  });

  it('runs BullMQ queues under a hash tag per queue: a job added is processed', async () => {
    const cluster = createQueueCluster(config)!;
    const prefix = queuePrefix(config, 'maintenance');
    expect(prefix).toBe(`{${config.QUEUE_PREFIX}:maintenance}`);
    const queue = new Queue('maintenance', { connection: queueConnection(config, cluster), prefix });
    const seen: unknown[] = [];
    const worker = new Worker('maintenance', async (job) => void seen.push(job.data), { connection: queueConnection(config, cluster), prefix });
    // Created before the cluster is ready, as at a worker's boot: BullMQ sends its first commands while
    // a Cluster is still connecting, and they must wait rather than fail (they used to fail in a tight
    // loop of errors for tens of seconds).
    const errors: Error[] = [];
    worker.on('error', (err) => errors.push(err));
    queue.on('error', (err) => errors.push(err));
    try {
      await worker.waitUntilReady();
      await queue.add('probe', { n: 1 });
      for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(seen).toEqual([{ n: 1 }]);
      expect(errors.map((e) => e.message)).toEqual([]);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await closed(cluster);
    }
  });
});
