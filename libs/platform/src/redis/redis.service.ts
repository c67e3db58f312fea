import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { PlatformConfig } from '../config/platform.config';

/** Connection options derived from REDIS_URL; shared with BullMQ. */
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

/**
 * The process's Redis connections. `client` is for commands (counters, caches, publishing), with no
 * offline queue and a command timeout so that a Redis outage surfaces as an error, not a hang.
 * Every key goes through `key()` so QUEUE_PREFIX keeps deployments apart.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis;
  private subscriberConnection?: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(@Inject(PlatformConfig) private readonly config: PlatformConfig) {
    this.client = new Redis({ ...redisOptions(config), enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 });
    this.client.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
  }

  get prefix(): string {
    return this.config.QUEUE_PREFIX;
  }

  key(...parts: Array<string | number>): string {
    return `${this.config.QUEUE_PREFIX}:${parts.join(':')}`;
  }

  /** True once connected; commands sent before that fail fast. */
  isReady(): boolean {
    return this.client.status === 'ready';
  }

  async ping(timeoutMs = 1000): Promise<void> {
    if (!this.isReady()) throw new Error(`not connected (${this.client.status})`);
    await withTimeout(this.client.ping(), timeoutMs, 'redis ping');
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key('ch', channel), message);
  }

  /** Subscribes to a prefixed channel; resubscribes by itself after reconnects. */
  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    const full = this.key('ch', channel);
    if (!this.subscriberConnection) {
      this.subscriberConnection = new Redis({ ...redisOptions(this.config), maxRetriesPerRequest: null });
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
