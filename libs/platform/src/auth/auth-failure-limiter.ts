import { Injectable, Logger } from '@nestjs/common';
import { ApiConfig } from '../config/api.config';
import { TooManyRequestsError } from '../http/all-exceptions.filter';
import { RedisService } from '../redis/redis.service';
import { MetricsService } from '../telemetry/metrics.service';

/** Client IPs this process knows to be over their limit, at most (a flood of IPs cannot grow it further). */
const MAX_LOCAL_BLOCKS = 10_000;

/**
 * Counts failed authentications (unknown or revoked API keys) per client IP in Redis, so the limit
 * holds across API replicas, in a fixed window that starts with the first failure. An IP past
 * AUTH_FAILURE_LIMIT gets 429 with Retry-After until its window ends, before any MySQL lookup.
 * Redis down: nothing is counted (fail open); IPs already known to be over their limit stay refused.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly logger = new Logger(AuthFailureLimiter.name);
  private readonly limit: number;
  private readonly windowMs: number;
  /** IP → until when it is refused (ms), learnt from Redis: spares Redis a read per refused request. */
  private readonly blockedUntil = new Map<string, number>();
  private readonly throttled;

  constructor(
    private readonly redis: RedisService,
    metrics: MetricsService,
    config: ApiConfig,
  ) {
    this.limit = config.AUTH_FAILURE_LIMIT;
    this.windowMs = config.AUTH_FAILURE_WINDOW_SECONDS * 1000;
    this.throttled = metrics.counter('api_key_auth_throttled_total', 'Requests refused with 429: their client IP failed authentication too often');
  }

  /** Throws 429 when `ip` has used up its failures in the current window. */
  async assertAllowed(ip: string): Promise<void> {
    this.refuseIfKnownBlocked(ip);
    let count: number;
    let ttlMs: number;
    try {
      const replies = await this.redis.client.multi().get(this.key(ip)).pttl(this.key(ip)).exec();
      count = Number(replies?.[0]?.[1] ?? 0);
      ttlMs = Number(replies?.[1]?.[1] ?? -1);
    } catch (err) {
      this.logger.warn(`failed-authentication counter unavailable, not limiting: ${(err as Error).message}`);
      return;
    }
    if (count >= this.limit) this.refuse(ip, ttlMs);
  }

  /** Counts one failed authentication of `ip`; throws 429 when that one was past the limit. */
  async recordFailure(ip: string): Promise<void> {
    this.refuseIfKnownBlocked(ip);
    let count: number;
    let ttlMs: number;
    try {
      const key = this.key(ip);
      const replies = await this.redis.client.multi().set(key, 0, 'PX', this.windowMs, 'NX').incr(key).pttl(key).exec();
      count = Number(replies?.[1]?.[1] ?? 0);
      ttlMs = Number(replies?.[2]?.[1] ?? -1);
    } catch (err) {
      this.logger.warn(`failed-authentication counter unavailable, not limiting: ${(err as Error).message}`);
      return;
    }
    if (count > this.limit) this.refuse(ip, ttlMs);
  }

  private key(ip: string): string {
    return this.redis.key('auth-failures', ip);
  }

  private refuseIfKnownBlocked(ip: string): void {
    const until = this.blockedUntil.get(ip);
    if (until === undefined) return;
    if (until > Date.now()) this.refuse(ip, until - Date.now(), false);
    this.blockedUntil.delete(ip);
  }

  private refuse(ip: string, ttlMs: number, remember = true): never {
    // A key without expiry (should not happen) still ends its block after one window.
    const waitMs = ttlMs > 0 ? ttlMs : this.windowMs;
    if (remember) {
      if (this.blockedUntil.size >= MAX_LOCAL_BLOCKS) this.blockedUntil.delete(this.blockedUntil.keys().next().value as string);
      this.blockedUntil.set(ip, Date.now() + waitMs);
    }
    this.throttled.inc();
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new TooManyRequestsError(`too many failed authentications from this address: retry in ${seconds} s`, seconds);
  }
}
