import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { PlatformConfig } from '../config/platform.config';
import { RedisClient, createRedisClient, masterNodes } from './redis-client';

/**
 * The process's Redis connections, to one Redis or to a Redis Cluster (REDIS_CLUSTER_NODES). `client`
 * is for commands (counters, caches, publishing), with no offline queue and a command timeout so that
 * a Redis outage surfaces as an error, not a hang. Every key goes through `key()` so QUEUE_PREFIX keeps
 * deployments apart; on a cluster, a multi-key command or script needs its keys in one slot (a `{tag}`
 * part in each key) or one call per key.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: RedisClient;
  private subscriberConnection?: RedisClient;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(@Inject(PlatformConfig) private readonly config: PlatformConfig) {
    this.client = createRedisClient(config, 'commands');
    this.client.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
  }

  get prefix(): string {
    return this.config.QUEUE_PREFIX;
  }

  key(...parts: Array<string | number>): string {
    return `${this.config.QUEUE_PREFIX}:${parts.join(':')}`;
  }

  /** True on a Redis Cluster: keys of one command or script must share a slot. */
  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }

  /** True once connected; commands sent before that fail fast. */
  isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Answers when every master answers (on a cluster, a shard that is down is a third of the keys). */
  async ping(timeoutMs = 1000): Promise<void> {
    if (!this.isReady()) throw new Error(`not connected (${this.client.status})`);
    const masters = masterNodes(this.client);
    if (masters.length === 0) throw new Error('no cluster master known');
    await withTimeout(
      Promise.all(masters.map((node) => node.ping().catch((err: Error) => Promise.reject(new Error(`${node.options.host}:${node.options.port}: ${err.message}`))))),
      timeoutMs,
      'redis ping',
    );
  }

  /**
   * A short lock: `SET key token PX ttlMs NX`. Returns its release (deletes the key only while it still
   * holds this token, never throws), or null when someone else holds it. The TTL frees a lock whose
   * holder died.
   */
  async tryLock(key: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    const token = randomUUID();
    if ((await this.client.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
    return async () => {
      await this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, key, token).catch(() => undefined);
    };
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key('ch', channel), message);
  }

  /** Subscribes to a prefixed channel; resubscribes by itself after reconnects. */
  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    const full = this.key('ch', channel);
    if (!this.subscriberConnection) {
      this.subscriberConnection = createRedisClient(this.config, 'subscriber');
      this.subscriberConnection.on('error', (err) => this.logger.warn(`redis subscriber: ${err.message}`));
      this.subscriberConnection.on('message', (ch: string, message: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(message);
      });
    }
    const set = this.handlers.get(full) ?? new Set();
    set.add(handler);
    this.handlers.set(full, set);
    await this.subscriberConnection.subscribe(full);
  }

  async onApplicationShutdown(): Promise<void> {
    this.client.disconnect();
    this.subscriberConnection?.disconnect();
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
